import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'better-sqlite3',
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    // Leak tests force garbage collection.
    execArgv: ['--expose-gc'],
  },
});
