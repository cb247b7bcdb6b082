import type { Pool } from '@unblock/core';
import { kInternals, type Database } from './database.js';

/**
 * For test authors: the worker pool behind a database, to watch it with `watchLeaks` from
 * `@unblock/core/testing` (cursor handles have the kind `'cursor'`).
 *
 * @example
 * ```ts
 * import { watchLeaks } from '@unblock/core/testing';
 * import { poolOf } from '@unblock/better-sqlite3/testing';
 * const leaks = watchLeaks(poolOf(db), { kinds: ['cursor'] });
 * for await (const row of stmt.iterate()) break;
 * await leaks.check(); // throws if a cursor leaked
 * ```
 */
export function poolOf(db: Database): Pool {
  return db[kInternals].pool as unknown as Pool;
}
