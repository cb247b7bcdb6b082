import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'minimal-sqlite-adapter',
    include: ['test/**/*.test.ts'],
    // Leak cases force garbage collection; vitest 4 takes execArgv at the top level of `test`.
    execArgv: ['--expose-gc'],
  },
});
