import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'conformance',
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Leak and memory cases call gc(). Vitest 4 dropped poolOptions: execArgv sits on `test`
    // and reaches every worker of the default 'forks' pool (child processes).
    execArgv: ['--expose-gc'],
  },
});
