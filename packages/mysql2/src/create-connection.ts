import { Connection } from './connection.js';
import { splitOptions } from './config.js';
import type { ConnectionOptions } from './types.js';
import { acquireSharedPool, captureStacksOf, releaseSharedPool } from './worker-pool.js';

/**
 * Opens a connection (in a worker thread) and resolves once it is connected, as
 * `mysql2/promise`'s `createConnection` does. Connect errors are mysql2's own
 * (`ER_ACCESS_DENIED_ERROR`, `ER_BAD_DB_ERROR`, `ECONNREFUSED`, ...).
 *
 * @example
 * ```ts
 * import { createConnection } from '@unblock/mysql2';
 * const conn = await createConnection('mysql://root@127.0.0.1:3306/test');
 * console.log(await conn.ping()); // true
 * await conn.end();
 * ```
 */
export async function createConnection(options: ConnectionOptions | string): Promise<Connection> {
  const { user, config, open } = splitOptions(options);
  const captureStacks = captureStacksOf(user, config);
  const pool = acquireSharedPool();
  try {
    const session = await pool.openSession(open, { captureStacks });
    return new Connection(session, config, () => releaseSharedPool(pool));
  } catch (err) {
    releaseSharedPool(pool);
    throw err;
  }
}
