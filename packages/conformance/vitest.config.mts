import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'conformance-package',
    include: ['test/**/*.test.ts'],
  },
});
