import { defineConfig } from 'vitest/config';

// One vitest run covers every project; each project's own vitest.config.mts names it.
// Tests import built packages (dist/), so `npm test` builds first.
export default defineConfig({
  test: {
    projects: ['packages/*', 'test/*', 'examples/*'],
  },
});
