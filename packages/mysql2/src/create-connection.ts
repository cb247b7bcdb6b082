import { Connection } from './connection.js';
import { splitOptions, type MysqlConfig } from './config.js';
import type { ConnectionOptions } from './types.js';
import type { OpenOptions } from './wire.js';
import { acquireSharedPool, captureStacksOf, releaseSharedPool } from './worker-pool.js';

/**
 * Opens a connection (in a worker thread) and resolves once it is connected, as
 * `mysql2/promise`'s `createConnection` does. Connect errors are mysql2's own
 * (`ER_ACCESS_DENIED_ERROR`, `ER_BAD_DB_ERROR`, `ECONNREFUSED`, ...). Options mysql2 cannot build
 * a config from (an invalid URI, an unknown charset or SSL profile) throw at once, as mysql2's
 * do, and so do the options refused here.
 *
 * @example
 * ```ts
 * import { createConnection } from '@unblock/mysql2';
 * const conn = await createConnection('mysql://root@127.0.0.1:3306/test');
 * console.log(await conn.ping()); // true
 * await conn.end();
 * ```
 */
export function createConnection(options: ConnectionOptions | string): Promise<Connection> {
  // Not async: mysql2/promise builds the config before its promise, so its errors throw.
  const { user, config, open } = splitOptions(options);
  return connect(open, config, captureStacksOf(user, config));
}

async function connect(
  open: OpenOptions,
  config: MysqlConfig,
  captureStacks: boolean,
): Promise<Connection> {
  const pool = acquireSharedPool();
  try {
    const session = await pool.openSession(open, { captureStacks });
    return new Connection(session, config, () => releaseSharedPool(pool));
  } catch (err) {
    releaseSharedPool(pool);
    throw err;
  }
}
