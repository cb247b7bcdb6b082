import type { Client, Pool } from '@unblock/core';
import { databaseOfClient } from './client.js';
import { Database, kInternals } from './database.js';

/**
 * For test authors: the database behind a client made by `createClient()`.
 *
 * @example
 * ```ts
 * import { databaseOf } from '@unblock/better-sqlite3/testing';
 * const client = createClient({ filename: ':memory:' });
 * databaseOf(client).function('twice', (x: number) => x * 2);
 * ```
 */
export function databaseOf(client: Client): Database {
  const db = databaseOfClient(client);
  if (db === undefined)
    throw new TypeError('Expected a client made by createClient() of @unblock/better-sqlite3');
  return db;
}

/**
 * For test authors: the worker pool behind a database (or a client made by `createClient()`),
 * to watch it with `watchLeaks` from `@unblock/core/testing` (cursor handles have the kind
 * `'cursor'`).
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
export function poolOf(target: Database | Client): Pool {
  const db = target instanceof Database ? target : databaseOf(target);
  return db[kInternals].pool as unknown as Pool;
}

/** The SQL function {@link crashWorker} defines. */
const CRASH_FUNCTION = 'unblock_testing_crash';

/**
 * For test authors: makes the worker thread that runs the next call of `client` exit (a user
 * function calling `process.exit(70)`), and returns that call: it rejects with core's
 * `WorkerExitedError` (`UNBLOCK_ERR_WORKER_EXITED`). Inside a transaction the call runs on the
 * writer; outside one, on a file database in WAL mode, it may be a reader. The client reopens
 * what it lost on its next calls (an in-memory database starts empty).
 *
 * @example
 * ```ts
 * import { crashWorker } from '@unblock/better-sqlite3/testing';
 * await expect(crashWorker(client)).rejects.toMatchObject({ code: 'UNBLOCK_ERR_WORKER_EXITED' });
 * await client.query('select 1'); // answers again
 * ```
 */
export function crashWorker(client: Client): Promise<unknown> {
  // Runs in the worker: self-contained, sent as source.
  databaseOf(client).function(CRASH_FUNCTION, () => process.exit(70));
  return client.query(`select ${CRASH_FUNCTION}() as crashed`);
}
