// Public types: mysql2's own where they describe plain data, plus the options this package adds.
import type { FunctionReference } from '@unblock/core';
import type {
  ConnectionOptions as Mysql2ConnectionOptions,
  FieldPacket,
  OkPacket,
  PoolOptions as Mysql2PoolOptions,
  ProcedureCallPacket,
  QueryOptions as Mysql2QueryOptions,
  ResultSetHeader,
  RowDataPacket,
} from 'mysql2';

// mysql2's own declarations, re-exported as they are: they keep mysql2's documentation.
export type { FieldPacket, OkPacket, ProcedureCallPacket, ResultSetHeader, RowDataPacket };

/**
 * What a query can resolve to, as in mysql2's typings.
 *
 * @example
 * ```ts
 * const [rows] = await conn.query<RowDataPacket[]>('SELECT 1 AS x');
 * ```
 */
export type QueryResult =
  | RowDataPacket[][]
  | RowDataPacket[]
  | OkPacket
  | OkPacket[]
  | ResultSetHeader
  | ResultSetHeader[]
  | ProcedureCallPacket;

/**
 * mysql2's QueryOptions plus `signal`: aborting it stops the statement on the server with
 * `KILL QUERY` and rejects the call with an AbortError. `typeCast` may also be a
 * `{ module, export }` reference; `timeout` stops the statement only in `query()`/`execute()`.
 *
 * @example
 * ```ts
 * await conn.query({ sql: 'SELECT SLEEP(10)', signal: AbortSignal.timeout(100) });
 * ```
 */
export interface QueryOptions extends Omit<Mysql2QueryOptions, 'typeCast'> {
  signal?: AbortSignal;
  /**
   * mysql2's per-query timeout (ms). For `query()` and `execute()` (of connections, pools and
   * clusters) a positive value up to 2147483647 is run here: when it runs out the statement is
   * stopped on the server with `KILL QUERY` (mysql2 leaves it running) and the call rejects with
   * mysql2's error (`code: 'PROTOCOL_SEQUENCE_TIMEOUT'`); the connection stays usable. Other
   * values, and `iterate()`'s, go to mysql2 (which applies a non-zero one): it fails the call
   * with that error but only stops waiting, and the statement runs on. `prepare()` and
   * `unprepare()` ignore it, as mysql2 does.
   */
  timeout?: number;
  /** mysql2's per-query typeCast; a function (self-contained) or a `{ module, export }` reference runs in the worker. */
  typeCast?: Mysql2QueryOptions['typeCast'] | FunctionReference;
}

/**
 * mysql2's options that hold a function or stream of the caller's thread, which cannot reach the
 * worker: `createConnection()`, `createPool()` and `cluster.add()` throw a TypeError naming them.
 */
type ThreadBoundOption = 'stream' | 'authPlugins' | 'authSwitchHandler' | 'infileStreamFactory';

/**
 * mysql2's connection options. `typeCast` and `queryFormat` may be self-contained functions or
 * `{ module, export }` references (they run in the worker); `stream`, `authPlugins`,
 * `authSwitchHandler` and `infileStreamFactory` are not supported: they are left out, so an
 * object literal that names one fails to compile (they throw at run time); options typed with
 * mysql2's own types still compile, as with mysql2.
 *
 * @example
 * ```ts
 * const options: ConnectionOptions = { host: '127.0.0.1', user: 'root', database: 'test' };
 * ```
 */
export type ConnectionOptions = Omit<
  Mysql2ConnectionOptions,
  'typeCast' | 'queryFormat' | ThreadBoundOption
> & {
  typeCast?: Mysql2ConnectionOptions['typeCast'] | FunctionReference;
  queryFormat?: Mysql2ConnectionOptions['queryFormat'] | FunctionReference;
};

/**
 * mysql2's pool options plus this package's own.
 *
 * @example
 * ```ts
 * const options: PoolOptions = { uri: 'mysql://root@127.0.0.1/test', connectionLimit: 10, workers: 2 };
 * ```
 */
export type PoolOptions = Omit<Mysql2PoolOptions, 'typeCast' | 'queryFormat' | ThreadBoundOption> &
  ConnectionOptions & {
    /** Worker threads the pool's connections are spread over. Default: up to 4, at most one per connection. */
    workers?: number;
    /** Warn (with the stack of `getConnection()`) about a connection held longer than this many ms. Default: 0 (off). */
    leakDetectionThreshold?: number;
    /**
     * How long `end()` lets statements already running finish before rejecting them (ms).
     * Default: no limit, as in mysql2 (`end()` waits for them); 5000 in `createClient()`.
     */
    closeTimeout?: number;
    /**
     * How much lower than the caller's thread the worker threads run, as a nice increment (core's
     * `PoolOptions.workerNice`; Linux): a busy worker then gives way to the event loop. 0 leaves
     * them alone. Default: 5.
     */
    workerNice?: number;
  };
