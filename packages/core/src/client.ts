import type { CallOptions } from './call-options.js';
import type { PoolStats } from './pool.js';

/**
 * What {@link Client.query} resolves to, the same for every adapter.
 *
 * @example
 * ```ts
 * const { rows, rowCount, changes, lastInsertId, columns } = await client.query('select 1 as x');
 * ```
 */
export interface QueryResult<Row = Record<string, unknown>> {
  /** The rows (empty for statements that return none). */
  rows: Row[];
  /** `rows.length`. */
  rowCount: number;
  /** Rows changed by an INSERT, UPDATE or DELETE (0 for a SELECT). */
  changes: number;
  /** The id of the last inserted row, where the driver reports one. */
  lastInsertId: number | bigint | undefined;
  /** Column names of the result, in order. */
  columns: string[];
}

/**
 * Parameters: positional `?` values, or named values where the driver has them.
 *
 * @example
 * ```ts
 * await client.query('select * from users where id = ?', [1]);
 * await client.query('select * from users where id = :id', { id: 1 }); // SQLite's named parameters
 * ```
 */
export type QueryParams = readonly unknown[] | Readonly<Record<string, unknown>>;

/**
 * Options of {@link Client.iterate}.
 *
 * @example
 * ```ts
 * for await (const row of client.iterate('select * from t', [], { batchSize: 500 })) use(row);
 * ```
 */
export interface IterateOptions extends CallOptions {
  /** Rows fetched per round trip. Default: 256. */
  batchSize?: number;
}

/**
 * The rows per round trip of an {@link IterateOptions}: its `batchSize`, 256 by default. Throws
 * a RangeError for anything but a positive integer; an adapter calls it at the first `next()`.
 *
 * @example
 * ```ts
 * iterateBatchSize({}); // 256
 * iterateBatchSize({ batchSize: 0 }); // throws RangeError('options.batchSize must be a positive integer')
 * ```
 */
export function iterateBatchSize(options: { batchSize?: number } | undefined): number {
  const batchSize = options?.batchSize ?? 256;
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new RangeError('options.batchSize must be a positive integer');
  return batchSize;
}

/**
 * One uniform client beside each drop-in API: the same calls on SQLite and MySQL. Calls made
 * inside `transaction(fn)`'s async context run in that transaction. Errors stay the driver's
 * own (class and code).
 *
 * @example
 * ```ts
 * import { createClient } from '@unblock/better-sqlite3'; // or '@unblock/mysql2'
 * await using client = createClient({ filename: 'app.db' });
 * await client.transaction(async () => {
 *   await client.query('insert into users (name) values (?)', ['ada']);
 * });
 * ```
 */
export interface Client {
  /** 'sqlite', 'mysql', or an adapter's own dialect name. */
  readonly dialect: string;
  query<Row = Record<string, unknown>>(
    sql: string,
    params?: QueryParams,
    options?: CallOptions,
  ): Promise<QueryResult<Row>>;
  iterate<Row = Record<string, unknown>>(
    sql: string,
    params?: QueryParams,
    options?: IterateOptions,
  ): AsyncIterableIterator<Row>;
  transaction<T>(fn: () => Promise<T>, options?: CallOptions): Promise<T>;
  stats(): PoolStats;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}
