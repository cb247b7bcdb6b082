import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'sqlite-interrupt',
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
  },
});
