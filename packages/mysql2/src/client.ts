import { AsyncLocalStorage } from 'node:async_hooks';
import {
  CallsInFlight,
  PoolClosedError,
  QueueFullError,
  UnblockError,
  validatePoolSettings,
  withCallOptions,
  type CallOptions,
  type Client,
  type IterateOptions,
  type Pool as CorePool,
  type PoolStats,
  type QueryParams,
  type QueryResult,
} from '@unblock/core';
import { Pool, corePoolOf } from './pool.js';
import type { PoolConnection } from './pool-connection.js';
import type { FieldPacket, PoolOptions, QueryOptions, ResultSetHeader } from './types.js';

/**
 * Options of {@link createClient}: the pool's, plus the client's own `maxQueue` and `closeTimeout`.
 *
 * @example
 * ```ts
 * const options: MysqlClientOptions = { uri: 'mysql://root@127.0.0.1/test', connectionLimit: 5, maxQueue: 1000 };
 * ```
 */
export type MysqlClientOptions =
  | (PoolOptions & {
      /** Calls the client accepts at once (running or waiting for a connection); past it they reject with QueueFullError. Default: no limit. */
      maxQueue?: number;
    })
  | string;

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

/** The transaction a call runs in: its connection, until the transaction ends. */
interface TxScope {
  readonly conn: PoolConnection;
  /** Set when the outer transaction has committed or rolled back: later calls run on the pool. */
  done: boolean;
  /** Savepoints made so far, for unique names. */
  savepoints: number;
}

/** @internal What `@unblock/mysql2/testing` reaches in a client. */
export interface ClientInternals {
  corePool(): CorePool;
  /** Runs a statement as `query()` would (on the transaction's connection inside one), with mysql2's QueryOptions. */
  rawQuery(options: QueryOptions): Promise<unknown>;
}

const internals = new WeakMap<Client, ClientInternals>();

/** @internal */
export function clientInternals(client: Client): ClientInternals {
  const found = internals.get(client);
  if (found === undefined)
    throw new TypeError('not a client made by createClient() of @unblock/mysql2');
  return found;
}

/**
 * Runs a function in the async context of module load: outside every caller's
 * `withCallOptions` scope and transaction. A rollback after an abort must not carry the
 * aborted signal, or it would be refused before it is sent.
 */
const outsideScopes = AsyncLocalStorage.snapshot();

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
 * The drop-in pool rejects with mysql2's own 'Pool is closed.'; the uniform client speaks core's
 * errors. Only that message is mapped: driver errors keep their class and code.
 */
function closedError(err: unknown): unknown {
  if (err instanceof Error && !(err instanceof UnblockError) && err.message === 'Pool is closed.') {
    const mapped = new PoolClosedError('The client is closed');
    mapped.cause = err;
    return mapped;
  }
  return err;
}

function toQueryResult<Row>(result: unknown, fields: FieldPacket[] | undefined): QueryResult<Row> {
  if (fields === undefined || !Array.isArray(result)) {
    const header = (Array.isArray(result) ? result[result.length - 1] : result) as
      ResultSetHeader | undefined;
    return {
      rows: [],
      rowCount: 0,
      changes: header?.affectedRows ?? 0,
      lastInsertId: header?.insertId,
      columns: [],
    };
  }
  const rows = result as Row[];
  return {
    rows,
    rowCount: rows.length,
    changes: 0,
    lastInsertId: undefined,
    columns: fields.map((f) => f.name),
  };
}

/** The options without the client's own `maxQueue`, for the pool. */
function withoutMaxQueue(options: Exclude<MysqlClientOptions, string>): PoolOptions {
  const { maxQueue: _maxQueue, ...rest } = options;
  return rest as PoolOptions;
}

/**
 * The uniform client of every unblock adapter, on a mysql2 pool. Calls made inside
 * `transaction(fn)`'s async context run on the transaction's connection; a nested
 * `transaction()` is a savepoint. `close()` refuses new calls, lets the ones in flight finish
 * (for up to `closeTimeout` ms), then ends the pool.
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
  const own = typeof options === 'string' ? {} : options;
  // Core's rules and messages: maxQueue is checked as core's maxQueue, which it mirrors here
  // (closeTimeout is the pool's too: the pool checks it).
  validatePoolSettings({ maxQueue: own.maxQueue });
  const maxQueue = own.maxQueue ?? Infinity;
  const closeTimeout = own.closeTimeout ?? 5_000;
  // The pool's end() also lets running statements finish for up to closeTimeout, not longer.
  // maxQueue is the client's own: the pool refuses it, and mysql2 warns of any key it does not
  // know, even one left undefined.
  const pool = new Pool(
    typeof options === 'string' ? options : withoutMaxQueue(options),
    closeTimeout,
  );
  const tx = new AsyncLocalStorage<TxScope>();
  let closed = false;
  let closing: Promise<void> | undefined;
  const outstanding = new CallsInFlight();

  const scoped = <T>(opts: CallOptions | undefined, fn: () => T): T =>
    opts !== undefined && (opts.signal !== undefined || opts.timeout !== undefined)
      ? withCallOptions(opts, fn)
      : fn();

  /** The open transaction this call belongs to, if any. */
  const current = (): TxScope | undefined => {
    const scope = tx.getStore();
    return scope !== undefined && !scope.done ? scope : undefined;
  };

  /** Admits one call outside a transaction: refused once closing, or past maxQueue. */
  const admit = (): Error | undefined => {
    if (closed) return new PoolClosedError('The client is closed');
    if (outstanding.count >= maxQueue) return new QueueFullError(maxQueue);
    outstanding.enter();
    return undefined;
  };
  const settled = (): void => {
    outstanding.leave();
  };

  /**
   * Admits one call and counts it until it settles, so close() can wait for it. Calls inside a
   * transaction belong to it and are not counted again. No wrapper function sits between the
   * caller and the pool: an error's stack keeps the caller's frames within the trace limit.
   */
  const run = (
    sql: string | QueryOptions,
    params: QueryParams | undefined,
    opts: CallOptions | undefined,
  ): Promise<[unknown, FieldPacket[] | undefined]> => {
    const scope = current();
    const target = scope !== undefined ? scope.conn : pool;
    if (scope === undefined) {
      const rejected = admit();
      if (rejected !== undefined) return Promise.reject(rejected);
    }
    let pending: Promise<[unknown, FieldPacket[]]>;
    try {
      pending =
        opts !== undefined && (opts.signal !== undefined || opts.timeout !== undefined)
          ? withCallOptions(opts, () => target.query(sql, params))
          : target.query(sql, params);
    } catch (err) {
      pending = Promise.reject(err);
    }
    if (scope !== undefined) return pending;
    return pending.then(
      (result) => {
        settled();
        return result;
      },
      (err: unknown) => {
        settled();
        throw closedError(err);
      },
    );
  };

  /** An iterator that rejects on its first `next()`. */
  // eslint-disable-next-line require-yield -- it only rejects, as iterate() on a closed client must
  async function* refused<Row>(err: Error): AsyncGenerator<Row, void, undefined> {
    throw err;
  }

  /** Admits a whole transaction as one call: its statements are not counted one by one. */
  const admitted = async <T>(body: () => Promise<T>): Promise<T> => {
    const err = admit();
    if (err !== undefined) throw err;
    try {
      return await body();
    } catch (e) {
      throw closedError(e);
    } finally {
      settled();
    }
  };

  /** A savepoint on the open transaction's connection: an inner rollback undoes only its writes. */
  async function savepoint<T>(
    scope: TxScope,
    fn: () => Promise<T>,
    opts: CallOptions | undefined,
  ): Promise<T> {
    const name = `unblock_sp_${++scope.savepoints}`;
    const { conn } = scope;
    return scoped(opts, async () => {
      await conn.query(`SAVEPOINT ${name}`);
      let result: T;
      try {
        result = await fn();
      } catch (err) {
        // A failed ROLLBACK TO leaves the outer transaction to fail on its own next statement.
        await outsideScopes(() => conn.query(`ROLLBACK TO SAVEPOINT ${name}`)).catch(
          () => undefined,
        );
        throw err;
      }
      await conn.query(`RELEASE SAVEPOINT ${name}`);
      return result;
    });
  }

  async function transaction<T>(fn: () => Promise<T>, opts: CallOptions | undefined): Promise<T> {
    const outer = current();
    if (outer !== undefined) return savepoint(outer, fn, opts);
    return admitted(() =>
      scoped(opts, async () => {
        const conn = await pool.getConnection();
        const scope: TxScope = { conn, done: false, savepoints: 0 };
        try {
          await conn.beginTransaction();
          const result = await tx.run(scope, fn);
          await conn.commit();
          scope.done = true;
          conn.release();
          return result;
        } catch (err) {
          scope.done = true;
          // Outside the caller's scope: an aborted signal must not refuse the ROLLBACK (a
          // running statement was stopped with KILL QUERY; the connection itself is fine).
          const rolledBack = await outsideScopes(() => conn.rollback()).then(
            () => true,
            () => false,
          );
          // A connection whose transaction state is unknown must not serve anyone else.
          if (rolledBack) conn.release();
          else conn.destroy();
          throw err;
        }
      }),
    );
  }

  const close = (): Promise<void> => {
    closing ??= (async () => {
      closed = true;
      await outstanding.settled(closeTimeout);
      // Idempotent, though a second pool.end() rejects as mysql2's does.
      await pool.end().catch((err: unknown) => {
        if ((err as { fatal?: unknown }).fatal !== true) throw err;
      });
    })();
    return closing;
  };

  const client: MysqlClient = {
    dialect: 'mysql',
    pool,
    async query<Row = Record<string, unknown>>(
      sql: string,
      params?: QueryParams,
      opts?: CallOptions,
    ): Promise<QueryResult<Row>> {
      const [result, fields] = await run(sql, params, opts);
      return toQueryResult<Row>(result, fields);
    },
    iterate<Row = Record<string, unknown>>(
      sql: string,
      params?: QueryParams,
      opts?: IterateOptions,
    ): AsyncIterableIterator<Row> {
      // The transaction is looked up now, in the caller's context, not at the first next().
      const scope = current();
      const options = { batchSize: opts?.batchSize, signal: opts?.signal };
      if (scope !== undefined) return scope.conn.iterate<Row>(sql, params, options);
      if (closed) return refused<Row>(new PoolClosedError('The client is closed'));
      return pool.iterate<Row>(sql, params, options);
    },
    transaction: <T>(fn: () => Promise<T>, opts?: CallOptions): Promise<T> => transaction(fn, opts),
    stats: () => pool.stats() ?? emptyStats(),
    close,
    [Symbol.asyncDispose]: close,
  };
  internals.set(client, {
    corePool: () => corePoolOf(pool),
    rawQuery: (query) => run(query, undefined, undefined),
  });
  return client;
}
