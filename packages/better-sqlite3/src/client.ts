import {
  CallsInFlight,
  iterateBatchSize,
  PoolClosedError,
  withCallOptions,
  type CallOptions,
  type Client,
  type IterateOptions,
  type PoolStats,
  type QueryParams,
  type QueryResult,
} from '@unblock/core';
import { Database, isNotOpenError, kInternals, type QueryReply } from './database.js';
import type { DatabaseOptions } from './options.js';
import { currentScope } from './transaction-scope.js';

/**
 * Options of {@link createClient}: the database file plus every `new Database()` option.
 *
 * @example
 * ```ts
 * createClient({ filename: 'app.db', readers: 4, maxQueue: 10_000 });
 * ```
 */
export interface ClientOptions extends DatabaseOptions {
  filename: string;
  /**
   * Switch a writable file database to WAL (`journal_mode = WAL`) when it opens, so reads run on
   * the reader connections, also while a transaction is open. Default: true when `readers` > 0.
   */
  wal?: boolean;
}

/** The database behind each client, for `@unblock/better-sqlite3/testing`. */
const databases = new WeakMap<object, Database>();

/** @internal The database behind a client made by {@link createClient}, if it is one. */
export function databaseOfClient(client: object): Database | undefined {
  return databases.get(client);
}

function paramsOf(params: QueryParams | undefined): unknown[] {
  if (params === undefined) return [];
  return Array.isArray(params) ? [...(params as unknown[])] : [params];
}

function closedError(): PoolClosedError {
  return new PoolClosedError('The client is closed');
}

function resultOf<Row>(reply: QueryReply): QueryResult<Row> {
  if ('columns' in reply) {
    const rows = reply.rows as Row[];
    // A RETURNING statement changes one row per row it returns.
    const changes = reply.extra.readonly ? 0 : rows.length;
    return {
      rows,
      rowCount: rows.length,
      changes,
      lastInsertId: undefined,
      // Every name: the row set's own leave out a `__proto__` column, as the row objects do.
      columns: reply.extra.names,
    };
  }
  return {
    rows: [],
    rowCount: 0,
    changes: reply.changes,
    lastInsertId: reply.lastInsertRowid,
    columns: [],
  };
}

/**
 * The uniform client of @unblock/core over a SQLite database (same calls as every adapter).
 * `close()` is graceful: calls made before it (and calls inside transactions that were open)
 * finish, for up to `closeTimeout` ms; later calls reject with `UNBLOCK_ERR_POOL_CLOSED`, and
 * iterators still open end with that error.
 *
 * @example
 * ```ts
 * import { createClient } from '@unblock/better-sqlite3';
 * await using client = createClient({ filename: ':memory:' });
 * const { rows } = await client.query('select ? as x', [1]);
 * ```
 */
export function createClient(options: ClientOptions): Client {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('Expected an options object');
  const { filename, wal, ...rest } = options;
  if (wal !== undefined && typeof wal !== 'boolean')
    throw new TypeError('Expected the "wal" option to be a boolean');
  const db = new Database(filename, rest);
  const internals = db[kInternals];
  const closeTimeout = rest.closeTimeout ?? 5_000;
  if ((wal ?? (rest.readers ?? 2) > 0) && !db.memory && !db.readonly) {
    // Sent first, so every later call finds the journal mode set. Should it fail (a database
    // that cannot open reports that on every call), reads simply stay on the writer.
    void db.pragma('journal_mode = WAL').catch(() => undefined);
  }

  let closing: Promise<void> | undefined;
  const inFlight = new CallsInFlight();

  /** Closed to new calls, except those made inside a transaction that was open (it finishes). */
  const refused = (): boolean => closing !== undefined && currentScope(db) === undefined;
  /**
   * Counts a call in flight (close waits for it) and reports a closed database as core does.
   * Takes the call's promise, not a function: core keeps only the last few frames of the
   * caller's stack, and every wrapper frame would push the caller's own out of them.
   */
  const track = async <T>(call: Promise<T>): Promise<T> => {
    inFlight.enter();
    try {
      return await call;
    } catch (err) {
      if (closing !== undefined && isNotOpenError(err)) throw closedError();
      throw err;
    } finally {
      inFlight.leave();
    }
  };

  async function query<Row>(
    sql: string,
    params: QueryParams | undefined,
  ): Promise<QueryResult<Row>> {
    if (typeof sql !== 'string') throw new TypeError('Expected first argument to be a string');
    const args = paramsOf(params);
    const once = internals.query(sql, args);
    if (once !== undefined) return resultOf<Row>(await once);
    // A statement seen before is sent now, not a microtask later: calls leave in the order made.
    const stmt = internals.knownStatement(sql) ?? (await db.prepare(sql));
    if (!stmt.reader) {
      const { changes, lastInsertRowid } = await stmt.run(...args);
      return { rows: [], rowCount: 0, changes, lastInsertId: lastInsertRowid, columns: [] };
    }
    const { rows, columns } = (await stmt.allWithColumns(args)) as {
      rows: Row[];
      columns: string[];
    };
    const changes = stmt.readonly ? 0 : rows.length;
    return { rows, rowCount: rows.length, changes, lastInsertId: undefined, columns };
  }

  const client: Client = {
    dialect: 'sqlite',
    query<Row = Record<string, unknown>>(sql: string, params?: QueryParams, opts?: CallOptions) {
      if (refused()) return Promise.reject(closedError());
      let call: Promise<QueryResult<Row>>;
      try {
        call =
          opts === undefined
            ? query<Row>(sql, params)
            : withCallOptions(opts, () => query<Row>(sql, params));
      } catch (err) {
        return Promise.reject(err); // invalid options
      }
      return track(call);
    },
    async *iterate<Row = Record<string, unknown>>(
      sql: string,
      params?: QueryParams,
      opts?: IterateOptions,
    ) {
      if (refused()) throw closedError();
      const batchSize = iterateBatchSize(opts);
      const callOptions: CallOptions | undefined =
        opts?.signal === undefined && opts?.timeout === undefined
          ? undefined
          : { signal: opts.signal, timeout: opts.timeout };
      if (typeof sql !== 'string') throw new TypeError('Expected first argument to be a string');
      const stmt =
        internals.knownStatement(sql) ??
        (await track(
          callOptions === undefined
            ? db.prepare(sql)
            : withCallOptions(callOptions, () => db.prepare(sql)),
        ));
      const it = stmt.iterateInBatches(paramsOf(params), batchSize) as AsyncIterableIterator<Row>;
      try {
        for (;;) {
          // An iterator left open when the client closed ends with the same error as any call.
          if (refused()) throw closedError();
          const next = await track(
            callOptions === undefined ? it.next() : withCallOptions(callOptions, () => it.next()),
          );
          if (next.done === true) return;
          yield next.value;
        }
      } finally {
        await it.return?.();
      }
    },
    transaction<T>(fn: () => Promise<T>, opts?: CallOptions): Promise<T> {
      if (refused()) return Promise.reject(closedError());
      let call: Promise<T>;
      try {
        const run = db.transaction(fn);
        call = opts === undefined ? run() : withCallOptions(opts, () => run());
      } catch (err) {
        return Promise.reject(err); // not a function, invalid options
      }
      return track(call);
    },
    stats(): PoolStats {
      return internals.pool.stats();
    },
    close() {
      closing ??= (async () => {
        await inFlight.settled(closeTimeout);
        // Iterators may still be open: their cursors are released (and reported as open at close).
        await internals.close(true);
      })();
      return closing;
    },
    [Symbol.asyncDispose]() {
      return client.close();
    },
  };
  databases.set(client, db);
  return client;
}
