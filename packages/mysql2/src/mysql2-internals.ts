import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/** mysql2's CommonJS module (its public exports). */
export const mysql2 = require('mysql2') as Record<string, unknown>;

const root = dirname(require.resolve('mysql2'));

/**
 * A module inside mysql2 that its `exports` map does not list (PoolConfig, the Execute command).
 * Required by absolute path, so it is the very instance mysql2 itself uses. Pinned to the
 * mysql2 version in package.json.
 */
export function mysql2Internal<T>(path: string): T {
  return require(join(root, path)) as T;
}
