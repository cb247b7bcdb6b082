import type { Suite } from '../suite.js';

/**
 * The suites by CLI name, loaded on demand (a suite module imports no driver at load time).
 *
 * @example
 * ```ts
 * const suite = await SUITES.core();
 * ```
 */
export const SUITES: Record<string, () => Promise<Suite>> = {
  core: async () => (await import('./core.js')).suite,
  'better-sqlite3': async () => (await import('./better-sqlite3.js')).suite,
  mysql2: async () => (await import('./mysql2.js')).suite,
};
