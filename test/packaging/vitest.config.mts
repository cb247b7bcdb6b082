import { defineProject } from 'vitest/config';

// Checks what each published package ships (its built dist/ and its npm tarball), so every
// package must be built first: `npm test` builds them all before running vitest.
export default defineProject({
  test: {
    name: 'packaging',
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
