import { AsyncLocalStorage } from 'node:async_hooks';
import Database from 'better-sqlite3';
import {
  createPool,
  hideInternalFrames,
  PoolClosedError,
  registerErrorClass,
  withCallOptions,
  type CallOptions,
  type Client,
  type IterateOptions,
  type Pool,
  type QueryParams,
  type QueryResult,
  type ReceivedRows,
  type RemoteHandle,
  type Session,
} from '@unblock/core';

/**
 * Options of {@link createClient}: a SQLite file (or `':memory:'`) and a few pool options.
 *
 * @example
 * ```ts
 * createClient({ filename: 'app.db', maxQueue: 1000 });
 * ```
 */
export interface MinimalClientOptions {
  filename: string;
  maxQueue?: number;
  leakDetectionThreshold?: number;
  closeTimeout?: number;
}

// Registered on both sides, so driver errors arrive as real SqliteErrors.
registerErrorClass(Database.SqliteError, 'SqliteError');
// Errors' stacks begin at the user's call, not in this file (built, or source-mapped).
hideInternalFrames(new URL('.', import.meta.url), new URL('../src/', import.meta.url));

interface Tx {
  session: Session;
  depth: number;
  root: { ended: boolean };
}

/**
 * A whole adapter: core's `Client` over one better-sqlite3 connection in a worker thread.
 *
 * @example
 * ```ts
 * await using db = createClient({ filename: ':memory:' });
 * await db.transaction(() => db.query('create table t (x)'));
 * ```
 */
export function createClient(options: MinimalClientOptions): Client & { readonly pool: Pool } {
  const { filename, ...poolOptions } = options;
  const pool = createPool({
    ...poolOptions,
    driver: new URL('./worker.js', import.meta.url),
    threads: 1,
    leaseKinds: ['cursor'],
    // Runs on the caller's thread while the worker is busy: raise the flag unblock_sleep() watches.
    interrupt: (token) => void Atomics.store(new Int32Array(token as SharedArrayBuffer), 0, 1),
  });
  const txScope = new AsyncLocalStorage<Tx>();
  let session: Session | undefined;
  let opening: Promise<Session> | undefined;
  let active: { done: Promise<void> } | undefined; // the open top-level transaction
  let closed = false;

  // A session that lost its worker (crash, terminate) is replaced by a new one on the next call.
  const current = (): Session | Promise<Session> =>
    session !== undefined && !session.ended
      ? session
      : (opening ??= pool
          .openSession({ filename })
          .then((s) => ((session = s), s))
          .finally(() => (opening = undefined)));

  // Calls inside a transaction use its session; others wait while one is open (one connection).
  // The check and the call happen in one synchronous step, so no BEGIN can slip in between.
  async function onSession<T>(fn: (s: Session) => Promise<T>): Promise<T> {
    if (closed) throw new PoolClosedError();
    for (;;) {
      const tx = txScope.getStore();
      if (tx !== undefined && !tx.root.ended) return fn(tx.session);
      if (active !== undefined) await active.done;
      else {
        const s = current();
        if (!(s instanceof Promise)) return fn(s);
        await s;
      }
    }
  }

  const rowsOf = (r: ReceivedRows) => r.rows as Record<string, unknown>[];

  async function query<Row>(
    sql: string,
    params: QueryParams = [],
    opts?: CallOptions,
  ): Promise<QueryResult<Row>> {
    const r = (await onSession((s) => s.call('query', [sql, params], opts))) as ReceivedRows;
    const extra = r.extra as { changes: number; lastInsertId?: number | bigint };
    return {
      rows: rowsOf(r) as Row[],
      rowCount: r.rows.length,
      changes: extra.changes,
      lastInsertId: extra.lastInsertId,
      columns: r.columns,
    };
  }

  async function* iterate<Row>(
    sql: string,
    params: QueryParams = [],
    opts: IterateOptions = {},
  ): AsyncGenerator<Row> {
    const { batchSize = 256, ...callOptions } = opts;
    const cursor = (await onSession((s) =>
      s.call('cursor', [sql, params], callOptions),
    )) as RemoteHandle;
    try {
      for (;;) {
        const batch = (await cursor.call('next', [batchSize], callOptions)) as ReceivedRows;
        yield* rowsOf(batch) as Row[];
        if ((batch.extra as { done: boolean }).done) return;
      }
    } finally {
      await cursor.close();
    }
  }

  async function transaction<T>(fn: () => Promise<T>, opts: CallOptions = {}): Promise<T> {
    const outer = txScope.getStore();
    const nested = outer !== undefined && !outer.root.ended;
    let release = (): void => undefined;
    if (!nested) {
      while (active !== undefined) await active.done;
      if (closed) throw new PoolClosedError();
      active = { done: new Promise<void>((resolve) => (release = resolve)) };
    }
    let tx: Tx;
    try {
      tx = nested
        ? { ...outer, depth: outer.depth + 1 }
        : { session: await current(), depth: 0, root: { ended: false } };
    } catch (err) {
      active = undefined;
      release();
      throw err;
    }
    const run = (sql: string, o?: CallOptions) => tx.session.call('query', [sql, []], o);
    const sp = `sp${tx.depth}`;
    try {
      await run(nested ? `savepoint ${sp}` : 'begin', opts);
      const result = await txScope.run(tx, () => withCallOptions(opts, fn));
      await run(nested ? `release ${sp}` : 'commit');
      return result;
    } catch (err) {
      // Outside the caller's signal: an aborted transaction must still be rolled back.
      await run(nested ? `rollback to ${sp}` : 'rollback').catch(() => undefined);
      if (nested) await run(`release ${sp}`).catch(() => undefined);
      throw err;
    } finally {
      if (!nested) {
        tx.root.ended = true;
        active = undefined;
        release();
      }
    }
  }

  // Graceful: calls made before close() still get a session; new ones are refused.
  let closing: Promise<void> | undefined;
  function close(): Promise<void> {
    closed = true;
    return (closing ??= Promise.resolve(opening)
      .catch(() => undefined)
      .then(() => pool.close()));
  }

  return {
    dialect: 'sqlite',
    pool,
    query,
    iterate,
    transaction,
    stats: () => pool.stats(),
    close,
    [Symbol.asyncDispose]: close,
  };
}
