import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'mysql2',
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Leak tests need a collectable heap.
    execArgv: ['--expose-gc'],
  },
});
