import { defineConfig } from 'vitest/config';

// One vitest run covers every project; each project's own vitest.config.mts names it.
// Tests import built packages (dist/), so `npm test` builds first.
export default defineConfig({
  test: {
    // The example adapter's own test runs the descriptor that test/conformance runs too.
    projects: ['packages/*', 'test/*'],
  },
});
