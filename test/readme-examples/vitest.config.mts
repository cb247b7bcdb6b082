import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'readme-examples',
    include: ['test/**/*.test.ts'],
    // Each example runs in a child process of its own, as `node example.mjs` would.
    testTimeout: 60_000,
  },
});
