import { AsyncLocalStorage } from 'node:async_hooks';
import { withCallOptions, type CallOptions, type Client, type IterateOptions, type PoolStats, type QueryParams, type QueryResult } from '@unblock/core';
import { Pool } from './pool.js';
import type { PoolConnection } from './pool-connection.js';
import type { FieldPacket, PoolOptions, ResultSetHeader } from './types.js';

/**
 * Options of {@link createClient}: the pool's.
 *
 * @example
 * ```ts
 * const options: MysqlClientOptions = { uri: 'mysql://root@127.0.0.1/test', connectionLimit: 5 };
 * ```
 */
export type MysqlClientOptions = PoolOptions | string;

/**
 * core's uniform {@link Client} over a mysql2 pool, plus the pool itself.
 *
 * @example
 * ```ts
 * const client = createClient('mysql://root@127.0.0.1/test');
 * const { rows } = await client.query('SELECT 1 AS x');
 * ```
 */
export interface MysqlClient extends Client {
  readonly pool: Pool;
}

const EMPTY_DURATIONS = { count: 0, mean: 0, p50: 0, p90: 0, p99: 0, max: 0 };

function emptyStats(): PoolStats {
  return {
    threads: 0,
    sessions: 0,
    queued: 0,
    running: 0,
    completed: 0,
    failed: 0,
    aborted: 0,
    waitTime: { ...EMPTY_DURATIONS },
    runTime: { ...EMPTY_DURATIONS },
    handles: { total: 0, byKind: {}, byThread: {} },
  };
}

/**
 * The uniform client of every unblock adapter, on a mysql2 pool. Calls made inside
 * `transaction(fn)`'s async context run on the transaction's connection.
 *
 * @example
 * ```ts
 * import { createClient } from '@unblock/mysql2';
 * await using client = createClient({ host: '127.0.0.1', user: 'root', database: 'test' });
 * await client.transaction(async () => {
 *   await client.query('INSERT INTO users (name) VALUES (?)', ['ada']);
 * });
 * ```
 */
export function createClient(options: MysqlClientOptions): MysqlClient {
  const pool = new Pool(options);
  const tx = new AsyncLocalStorage<PoolConnection>();
  const scoped = <T>(opts: CallOptions | undefined, fn: () => T): T =>
    opts !== undefined && (opts.signal !== undefined || opts.timeout !== undefined) ? withCallOptions(opts, fn) : fn();

  const client: MysqlClient = {
    dialect: 'mysql',
    pool,
    async query<Row = Record<string, unknown>>(sql: string, params?: QueryParams, opts?: CallOptions): Promise<QueryResult<Row>> {
      const conn = tx.getStore();
      const [result, fields] = (await scoped(opts, () => (conn ?? pool).query(sql, params))) as [unknown, FieldPacket[] | undefined];
      if (fields === undefined || !Array.isArray(result)) {
        const header = (Array.isArray(result) ? result[result.length - 1] : result) as ResultSetHeader | undefined;
        return { rows: [], rowCount: 0, changes: header?.affectedRows ?? 0, lastInsertId: header?.insertId, columns: [] };
      }
      const rows = result as Row[];
      return { rows, rowCount: rows.length, changes: 0, lastInsertId: undefined, columns: fields.map((f) => f.name) };
    },
    iterate<Row = Record<string, unknown>>(sql: string, params?: QueryParams, opts?: IterateOptions): AsyncIterableIterator<Row> {
      const conn = tx.getStore();
      const options = { batchSize: opts?.batchSize, signal: opts?.signal };
      return conn !== undefined ? conn.iterate<Row>(sql, params, options) : pool.iterate<Row>(sql, params, options);
    },
    async transaction<T>(fn: () => Promise<T>, opts?: CallOptions): Promise<T> {
      if (tx.getStore() !== undefined) return fn();
      return scoped(opts, async () => {
        const conn = await pool.getConnection();
        try {
          await conn.beginTransaction();
          const result = await tx.run(conn, fn);
          await conn.commit();
          return result;
        } catch (err) {
          await conn.rollback().catch(() => undefined);
          throw err;
        } finally {
          conn.release();
        }
      });
    },
    stats: () => pool.stats() ?? emptyStats(),
    close: () => pool.end(),
    [Symbol.asyncDispose]: () => pool.end(),
  };
  return client;
}
