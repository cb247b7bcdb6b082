import { EventEmitter } from 'node:events';
import {
  AbortError,
  TimeoutError,
  currentCallOptions,
  validatePoolSettings,
  withCallerStack,
  type CallOptions,
  type Pool as CorePool,
  type PoolStats,
  type Session,
} from '@unblock/core';
import { captureCaller, type CallerStack } from './caller-stack.js';
import { splitOptions, type MysqlConfig, type PoolConfig, type SplitOptions } from './config.js';
import { closedStateError, closedStateMessage } from './closed-state-error.js';
import { Connection, missingSqlError } from './connection.js';
import { mysql2 } from './mysql2-internals.js';
import { iterateRows, type CursorSlot, type IterateRowsOptions } from './iterate.js';
import { PoolConnection, isEventPayload, type Lease, type PoolHooks } from './pool-connection.js';
import { assertNoCallback } from './promise-only.js';
import { quitStarted } from './queued-failure.js';
import type { FieldPacket, PoolOptions, QueryOptions, QueryResult } from './types.js';
import { captureStacksOf, defaultWorkers, workerPool } from './worker-pool.js';

const BasePool = mysql2.Pool as { prototype: object };

/** One pooled mysql2 connection: a core session pinned to the worker that owns its socket. */
export interface PoolEntry {
  session: Session;
  /** Runs pool.query/execute on this entry without handing out a PoolConnection. */
  conn: Connection;
  config: MysqlConfig;
  lastActive: number;
  /** A fatal error was seen: the entry is dropped when it comes back. */
  dead: boolean;
  /** The server side of the connection is gone (closed or killed), as the worker reported. */
  lost: boolean;
  /**
   * The checkout the entry is in, by `getConnection()` or by `pool.query()`/`execute()`;
   * undefined while it is free, being handed out, or read by `pool.iterate()`.
   */
  lease: Lease | undefined;
  /** What the pool's events carry for this entry: made at its first event, then the same one. */
  eventPayload: PoolConnection | undefined;
  /** The connection's 'end' and 'error', as the PoolConnections that listen hear them. */
  events: EventEmitter;
}

interface PoolFormatter {
  format(sql: string, values?: unknown): string;
  escape(value: unknown): string;
  escapeId(value: unknown): string;
}

/** What a pool iterator's collection needs to give its connection back; never the iterator. */
interface IteratorLease extends CursorSlot {
  /** The iterator, only until its body starts and registers it. */
  iterator: AsyncGenerator<unknown, void, undefined> | undefined;
  /** Where iterate() was called, for the leak report; dropped once registered. */
  origin: Error | undefined;
  entry: PoolEntry | undefined;
  record: ReturnType<CorePool['leaks']['track']> | undefined;
}

interface Waiter {
  resolve(entry: PoolEntry): void;
  reject(err: unknown): void;
  cleanup: (() => void) | undefined;
}

const ER_OPTION_PREVENTS_STATEMENT = 1290;
const ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION = 1792;
const ER_READ_ONLY_MODE = 1836;

/**
 * mysql2's pool rule for `pool.query()` and `pool.execute()` (not for `getConnection()`): after
 * one of these errors the connection is destroyed, not released. After a failover, a connection
 * may still reach the old primary, now read-only; a new one reaches the new primary.
 */
function isReadOnlyError(err: unknown): boolean {
  const errno = (err as { errno?: unknown } | null)?.errno;
  return (
    errno === ER_OPTION_PREVENTS_STATEMENT ||
    errno === ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION ||
    errno === ER_READ_ONLY_MODE
  );
}

/**
 * Whether a statement failed because its connection was already closed by the server, before
 * anything was written: refused by mysql2 once the worker heard the close (the closed-state
 * error), or its write failed on a socket the server had ended, before the worker heard it.
 */
function neverSent(entry: PoolEntry, err: unknown): boolean {
  const { message, code } = err as { message?: unknown; code?: unknown };
  return (
    (entry.lost && message === closedStateMessage) ||
    (code === 'EPIPE' && message === 'This socket has been ended by the other party')
  );
}

function poolError(message: string): Error {
  return new Error(message);
}

/** @internal The core pool behind a Pool (created on demand), for createClient() and testing. */
export let corePoolOf: (pool: Pool) => CorePool;

/**
 * `mysql2/promise`'s pool, with every connection in a worker thread. Connections are spread
 * over `workers` threads; the accounting (free list, queue, limits) is done here, on the
 * caller's thread, exactly as mysql2's pool does it.
 *
 * @example
 * ```ts
 * import mysql from '@unblock/mysql2';
 * const pool = mysql.createPool({ host: '127.0.0.1', user: 'root', database: 'test', connectionLimit: 10 });
 * const [rows] = await pool.query('SELECT 1 AS x');
 * await pool.end();
 * ```
 */
export class Pool extends EventEmitter {
  /** mysql2's PoolConfig (`config.connectionConfig` is the connections' ConnectionConfig). */
  readonly config: PoolConfig;
  readonly #split: SplitOptions;
  readonly #workers: number;
  readonly #leakDetectionThreshold: number | undefined;
  readonly #closeTimeout: number | undefined;
  readonly #workerNice: number | undefined;
  readonly #formatter: PoolFormatter;
  #core: CorePool | undefined;
  readonly #all = new Set<PoolEntry>();
  /** Opening and open entries: what counts against connectionLimit. */
  #count = 0;
  readonly #free: PoolEntry[] = [];
  #queue: Waiter[] = [];
  #closed = false;
  #ending: Promise<void> | undefined;
  /** Whether the first `end()` found connections to close. */
  #endedConnections = false;
  #idleTimer: NodeJS.Timeout | undefined;
  readonly #hooks: PoolHooks;
  /** Capture the caller's stack per call: see {@link captureStacksOf} (mysql2's `trace`). */
  readonly #captureStacks: boolean;

  /** @internal Whether calls capture the caller's stack (mysql2's `trace`; see {@link captureStacksOf}). */
  get captureStacks(): boolean {
    return this.#captureStacks;
  }

  /**
   * Use {@link createPool}. `closeTimeout`: the default of the option of that name
   * (none: `end()` waits for running statements, as mysql2's does).
   */
  constructor(options: PoolOptions | string, closeTimeout?: number) {
    super();
    this.#split = splitOptions(options, true);
    this.config = this.#split.poolConfig!;
    const own = this.#split.user as PoolOptions;
    const { workers, leakDetectionThreshold, workerNice } = own;
    // Core's check of the options its pool gets, made here, as the pool is made: the core pool
    // starts at the first call, whose promise would be the first to hear of a wrong option.
    validatePoolSettings(
      { threads: workers, leakDetectionThreshold, closeTimeout: own.closeTimeout, workerNice },
      { threads: 'workers' },
    );
    const limit = this.config.connectionLimit || Infinity;
    this.#workers = workers ?? Math.min(limit, defaultWorkers());
    this.#leakDetectionThreshold = leakDetectionThreshold;
    this.#closeTimeout = own.closeTimeout ?? closeTimeout;
    this.#workerNice = workerNice;
    this.#captureStacks = captureStacksOf(this.#split.user, this.#split.config);
    this.#formatter = Object.create(BasePool.prototype, {
      config: { value: this.config },
    }) as PoolFormatter;
    this.#hooks = {
      endLease: (lease) => this.#endLease(lease),
      giveBack: (lease) => this.#giveBack(lease),
      remove: (entry) => this.#remove(entry, true),
      closed: () => this.#closed,
    };
    if (this.config.maxIdle < this.config.connectionLimit) {
      this.#idleTimer = setInterval(() => this.#removeIdle(), 1000);
      this.#idleTimer.unref();
    }
  }

  static {
    corePoolOf = (pool) => pool.#corePool();
  }

  #corePool(): CorePool {
    this.#core ??= workerPool({
      threads: this.#workers,
      name: 'mysql2 pool',
      leakDetectionThreshold: this.#leakDetectionThreshold,
      closeTimeout: this.#closeTimeout,
      workerNice: this.#workerNice,
      captureStacks: this.#captureStacks,
    });
    return this.#core;
  }

  /** @internal Live counts, for tests and `createClient().stats()`. */
  get counts(): { all: number; free: number; queued: number } {
    return { all: this.#count, free: this.#free.length, queued: this.#queue.length };
  }

  /**
   * Pool statistics of the worker threads (calls, wait and run times, live handles); undefined
   * before the pool's first use.
   *
   * @example
   * ```ts
   * await pool.query('SELECT 1');
   * console.log(pool.stats()?.threads, pool.stats()?.completed);
   * ```
   */
  stats(): PoolStats | undefined {
    return this.#core?.stats();
  }

  /**
   * The core pool's leak detector: subscribe with `pool.leaks.on('leak', ...)`.
   *
   * @example
   * ```ts
   * pool.leaks.on('leak', (event) => console.error(event.reason, event.stack));
   * ```
   */
  get leaks(): CorePool['leaks'] {
    return this.#corePool().leaks;
  }

  /**
   * Takes a connection out of the pool, opening one when below `connectionLimit`, or waiting
   * in the queue.
   *
   * @example
   * ```ts
   * const conn = await pool.getConnection();
   * try { await conn.query('SELECT 1'); } finally { conn.release(); }
   * ```
   */
  getConnection(): Promise<PoolConnection> {
    const origin = this.#captureStacks ? captureCaller(this.getConnection) : undefined;
    return this.#acquire(currentCallOptions()).then((entry) => this.#lease(entry, origin));
  }

  #lease(entry: PoolEntry, origin: Error | undefined): PoolConnection {
    const lease: Lease = { entry, record: undefined };
    entry.lease = lease;
    const conn = new PoolConnection(entry, this.#hooks, lease);
    // The release callback holds the lease, never the connection object, so an unreleased
    // PoolConnection can be collected and its entry still comes back to the pool.
    lease.record = this.#corePool().leaks.track(
      conn,
      'connection',
      entry.session.threadId,
      origin,
      () => {
        this.#giveBack(lease);
      },
    );
    return conn;
  }

  /**
   * Ends a checkout, once: whoever ends it first (its holder, the events' object, the leak
   * detector, a statement finishing) is the one that gives the entry back.
   */
  #endLease(lease: Lease): boolean {
    if (lease.entry.lease !== lease) return false;
    lease.entry.lease = undefined;
    if (lease.record !== undefined) this.#corePool().leaks.closed(lease.record);
    return true;
  }

  /** Ends a checkout and gives its entry back, once (see #endLease). */
  #giveBack(lease: Lease): void {
    if (this.#endLease(lease)) this.#release(lease.entry);
  }

  /**
   * Gives a connection back (the same as `conn.release()`).
   *
   * @example
   * ```ts
   * pool.releaseConnection(conn);
   * ```
   */
  releaseConnection(connection: PoolConnection): void {
    // mysql2/promise releases only its promise PoolConnections: its events carry another kind.
    if (connection instanceof PoolConnection && !isEventPayload(connection)) connection.release();
  }

  /**
   * Runs one statement on a free connection and gives it back.
   *
   * @example
   * ```ts
   * const [rows, fields] = await pool.query('SELECT * FROM t WHERE id = ?', [1]);
   * ```
   */
  query<T extends QueryResult = QueryResult>(
    sql: string | QueryOptions,
    values?: unknown,
  ): Promise<[T, FieldPacket[]]> {
    assertNoCallback(values);
    if (sql === null) return Promise.reject(missingSqlError(sql, 'sql'));
    return this.#runPooled('query', sql, values) as Promise<[T, FieldPacket[]]>;
  }

  /**
   * Runs one prepared statement on a free connection and gives it back.
   *
   * @example
   * ```ts
   * const [rows] = await pool.execute('SELECT * FROM t WHERE id = ?', [1]);
   * ```
   */
  execute<T extends QueryResult = QueryResult>(
    sql: string | QueryOptions,
    values?: unknown,
  ): Promise<[T, FieldPacket[]]> {
    assertNoCallback(values);
    if (sql === null) return Promise.reject(missingSqlError(sql, 'sql'));
    return this.#runPooled('execute', sql, values) as Promise<[T, FieldPacket[]]>;
  }

  #runPooled(
    kind: 'query' | 'execute',
    sql: string | QueryOptions,
    values: unknown,
  ): Promise<unknown> {
    const entry = this.#closed ? undefined : this.#takeFree();
    if (entry !== undefined) {
      const failure = this.#announce(entry, 'acquire');
      if (failure !== undefined) return Promise.reject(failure.error);
      // Sent now: core's session captures the caller's stack itself.
      return this.#runOn(entry, kind, sql, values, undefined);
    }
    // Sent later, from a promise callback, where the stack no longer holds the caller's frames:
    // they are captured here, as mysql2/promise does, and given to the error.
    const caller = this.#captureStacks
      ? captureCaller(kind === 'query' ? Pool.prototype.query : Pool.prototype.execute)
      : undefined;
    const signal =
      typeof sql === 'object' && sql !== null ? (sql as QueryOptions).signal : undefined;
    return this.#acquire(currentCallOptions(signal === undefined ? undefined : { signal })).then(
      (e) => this.#runOn(e, kind, sql, values, caller),
      caller === undefined
        ? undefined
        : (err: unknown) => {
            throw withCallerStack(err, caller.stack);
          },
    );
  }

  #runOn(
    entry: PoolEntry,
    kind: 'query' | 'execute',
    sql: string | QueryOptions,
    values: unknown,
    caller: CallerStack | undefined,
  ): Promise<unknown> {
    // One promise reaction decodes and releases (not one per step): this runs for every query.
    const { conn } = entry;
    // A lease, so that the events' object can give the entry back before the statement ends, as
    // mysql2's can; the statement's end then leaves it alone.
    const lease: Lease = { entry, record: undefined };
    entry.lease = lease;
    return conn.send(
      kind,
      sql,
      values,
      (value) => {
        this.#giveBack(lease);
        return conn.decode(value);
      },
      (err: unknown) => {
        if ((err as { fatal?: unknown }).fatal === true || isReadOnlyError(err)) entry.dead = true;
        this.#giveBack(lease);
        // The server closed the connection while it was free, and the statement, sent before
        // this thread heard of it, never left the worker: another connection runs it, as
        // mysql2's pool (hearing the close on the thread that runs it) would have used one.
        if (!this.#closed && neverSent(entry, err)) return this.#runPooled(kind, sql, values);
        throw caller === undefined ? err : withCallerStack(err, caller.stack);
      },
    );
  }

  /**
   * Streams the rows of a statement on a pooled connection, which goes back when the loop ends.
   * An iterator dropped unfinished (never run to its end, no `return()`) is reported as a leak
   * when it is garbage-collected, and its connection is drained and goes back to the pool.
   *
   * @example
   * ```ts
   * for await (const row of pool.iterate('SELECT * FROM big')) console.log(row);
   * ```
   */
  iterate<Row = Record<string, unknown>>(
    sql: string | QueryOptions,
    values?: unknown,
    options: IterateRowsOptions = {},
  ): AsyncGenerator<Row, void, undefined> {
    const origin = this.#captureStacks ? captureCaller(this.iterate) : undefined;
    const lease: IteratorLease = {
      iterator: undefined,
      origin,
      entry: undefined,
      cursor: undefined,
      record: undefined,
    };
    const iterator = this.#iterate<Row>(lease, sql, values, options);
    // Handed to the body once, to register it when it takes a connection, and then forgotten:
    // the lease must not keep the iterator alive, or it could never be collected.
    lease.iterator = iterator;
    return iterator;
  }

  async *#iterate<Row>(
    lease: IteratorLease,
    sql: string | QueryOptions,
    values: unknown,
    options: IterateRowsOptions,
  ): AsyncGenerator<Row, void, undefined> {
    const self = lease.iterator!;
    lease.iterator = undefined;
    const entry = await this.#acquire(
      currentCallOptions(options.signal === undefined ? undefined : { signal: options.signal }),
    );
    const leaks = this.#corePool().leaks;
    lease.entry = entry;
    // Watches the iterator, not the cursor: the lease holds the cursor (so core's own finalizer
    // for it cannot run first and race the connection's return), and the callback holds only
    // the lease. 'iterator' is not a lease kind, so a long loop is not reported twice as
    // overdue: the cursor's handle already is.
    lease.record = leaks.track(self, 'iterator', entry.session.threadId, lease.origin, () =>
      this.#reclaim(lease),
    );
    lease.origin = undefined;
    const done = (): void => {
      lease.entry = undefined;
      if (lease.record !== undefined) leaks.closed(lease.record);
      this.#release(entry);
    };
    yield* iterateRows<Row>(entry.conn, sql, values, options, done, lease);
  }

  /**
   * An iterator was collected unfinished. Its connection may be in the middle of a result
   * stream, paused: the rest is read away first (in order after the calls already made on the
   * session, as `return()` would), then it goes back. If that fails, it is dropped instead,
   * since nobody can tell what state it is in.
   */
  #reclaim(lease: IteratorLease): void {
    const { entry, cursor } = lease;
    lease.entry = undefined;
    lease.cursor = undefined;
    if (entry === undefined) return;
    if (cursor === undefined || cursor.closed) {
      this.#release(entry);
      return;
    }
    cursor
      .call('close', [])
      .then(
        () => undefined,
        () => {
          entry.dead = true;
        },
      )
      .then(() => cursor.close())
      .catch(() => {
        entry.dead = true;
      })
      .finally(() => this.#release(entry));
  }

  #acquire(callOptions: CallOptions | undefined): Promise<PoolEntry> {
    if (this.#closed) return Promise.reject(poolError('Pool is closed.'));
    const free = this.#takeFree();
    if (free !== undefined) {
      const failure = this.#announce(free, 'acquire');
      return failure === undefined ? Promise.resolve(free) : Promise.reject(failure.error);
    }
    const { connectionLimit, waitForConnections, queueLimit } = this.config;
    if (connectionLimit === 0 || this.#count < connectionLimit) return this.#open();
    if (!waitForConnections) return Promise.reject(poolError('No connections available.'));
    if (queueLimit && this.#queue.length >= queueLimit)
      return Promise.reject(poolError('Queue limit reached.'));
    const signal = callOptions?.signal;
    if (signal?.aborted) return Promise.reject(new AbortError('queued', signal.reason));
    this.emit('enqueue');
    return new Promise<PoolEntry>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, cleanup: undefined };
      if (signal !== undefined || callOptions?.timeout !== undefined) {
        const abort = (reason: unknown): void => {
          const at = this.#queue.indexOf(waiter);
          if (at === -1) return;
          this.#queue.splice(at, 1);
          waiter.cleanup?.();
          reject(new AbortError('queued', reason));
        };
        const onAbort = (): void => abort(signal!.reason);
        signal?.addEventListener('abort', onAbort, { once: true });
        const timeout = callOptions?.timeout;
        const timer =
          timeout === undefined
            ? undefined
            : setTimeout(() => abort(new TimeoutError(timeout)), timeout);
        waiter.cleanup = () => {
          signal?.removeEventListener('abort', onAbort);
          clearTimeout(timer);
        };
      }
      this.#queue.push(waiter);
    });
  }

  /**
   * A free entry whose session still works. When a worker thread dies, the sessions on it end
   * while their entries sit in the free list: they are dropped here, so the next call opens a
   * connection on a live worker instead of failing.
   */
  #takeFree(): PoolEntry | undefined {
    for (;;) {
      const entry = this.#free.pop();
      if (entry === undefined || !entry.session.ended) return entry;
      this.#remove(entry, true);
    }
  }

  #open(): Promise<PoolEntry> {
    this.#count++;
    const conf = this.config.connectionConfig;
    // A copy per connection, as mysql2 makes, so changeUser() on one does not leak into others.
    const config = Object.create(
      Object.getPrototypeOf(conf) as object,
      Object.getOwnPropertyDescriptors(conf),
    ) as MysqlConfig;
    return this.#corePool()
      .openSession(this.#split.open)
      .then(
        (session) => {
          if (this.#closed) {
            void session.close().catch(() => undefined);
            throw poolError('Pool is closed.');
          }
          const entry: PoolEntry = {
            session,
            conn: new Connection(session, config),
            config,
            lastActive: Date.now(),
            dead: false,
            lost: false,
            lease: undefined,
            eventPayload: undefined,
            events: new EventEmitter(),
          };
          entry.conn.on('end', () => entry.events.emit('end'));
          entry.conn.on('error', (err: unknown) => {
            if (entry.events.listenerCount('error') > 0) entry.events.emit('error', err);
          });
          // The server closed it or it failed: mysql2's pool drops such a connection on its
          // 'end' or 'error', free or in use, and a waiter gets a new one at once. The session
          // closes once the calls already sent to it have their answers.
          entry.conn.onLost = () => {
            entry.dead = true;
            entry.lost = true;
            this.#remove(entry, true);
          };
          this.#all.add(entry);
          const failure = this.#announce(entry, 'connection', 'acquire');
          if (failure !== undefined) throw failure.error;
          return entry;
        },
        (err: unknown) => {
          this.#count--;
          this.#serveNext();
          // mysql2 answers a connection that opens (or fails to) after end() with its own error;
          // here the core pool, closing, may refuse the session first.
          throw this.#closed ? poolError('Pool is closed.') : err;
        },
      );
  }

  #release(entry: PoolEntry): void {
    entry.lastActive = Date.now();
    this.#handOver(entry, this.config.resetOnRelease);
  }

  /**
   * Gives a released entry to the first waiter or the free list, after a reset when `reset`;
   * drops a broken one.
   */
  #handOver(entry: PoolEntry, reset = false): void {
    if (this.#closed || !this.#all.has(entry)) return;
    if (entry.dead || entry.session.ended || entry.conn.closed) {
      this.#remove(entry, true);
      return;
    }
    if (reset) {
      // mysql2's pool: COM_RESET_CONNECTION before the connection is handed out again (it is
      // neither free nor lent meanwhile); one that fails to reset is destroyed, and a waiter
      // gets a new connection instead.
      entry.session.call('reset', []).then(
        () => this.#handOver(entry),
        () => {
          entry.dead = true;
          entry.session.call('destroy', []).catch(() => undefined);
          this.#remove(entry, true);
        },
      );
      return;
    }
    const waiter = this.#queue.shift();
    if (waiter !== undefined) {
      waiter.cleanup?.();
      waiter.resolve(entry);
      return;
    }
    this.#free.push(entry);
    this.#emitWith('release', entry);
  }

  /** Drops an entry (destroyed, broken, idle); a waiter then gets a new connection. */
  #remove(entry: PoolEntry, close: boolean): void {
    if (!this.#all.delete(entry)) return;
    this.#count--;
    const at = this.#free.indexOf(entry);
    if (at !== -1) this.#free.splice(at, 1);
    if (close) void entry.session.close().catch(() => undefined);
    this.#serveNext();
  }

  #serveNext(): void {
    if (this.#closed) return;
    const waiter = this.#queue.shift();
    if (waiter === undefined) return;
    waiter.cleanup?.();
    this.#acquire(undefined).then(waiter.resolve, waiter.reject);
  }

  #removeIdle(): void {
    const { maxIdle, idleTimeout } = this.config;
    while (
      this.#free.length > maxIdle ||
      (this.#free.length > 0 && Date.now() - this.#free[0].lastActive > idleTimeout)
    ) {
      const entry = this.#free[0];
      this.#remove(entry, false);
      // mysql2 destroys it: its 'end' reaches the PoolConnections that listen once it is closed.
      void entry.session
        .close()
        .catch(() => undefined)
        .then(() => entry.events.emit('end'));
    }
  }

  /**
   * Emits `events` for an entry just taken; when a listener throws, the entry goes back (the pool
   * keeps the connection) and the error is returned for the call that took it to fail with.
   */
  #announce(
    entry: PoolEntry,
    ...events: ('acquire' | 'connection')[]
  ): { error: unknown } | undefined {
    try {
      for (const event of events) this.#emitWith(event, entry);
      return undefined;
    } catch (error) {
      this.#release(entry);
      return { error };
    }
  }

  /**
   * Events carry one PoolConnection per entry, every time the same, as mysql2's carry its core
   * connection (which lives in the worker here), so listeners can tell connections apart.
   */
  #emitWith(event: 'acquire' | 'connection' | 'release', entry: PoolEntry): void {
    if (this.listenerCount(event) === 0) return;
    entry.eventPayload ??= new PoolConnection(entry, this.#hooks, undefined);
    this.emit(event, entry.eventPayload);
  }

  /**
   * Closes every connection (including those still checked out, which are reported as leaks)
   * and stops the worker threads. Queued requests reject with 'Pool is closed.'.
   *
   * @example
   * ```ts
   * await pool.end();
   * ```
   */
  end(): Promise<void> {
    if (this.#ending === undefined) {
      this.#endedConnections = this.#all.size > 0;
      this.#ending = this.#shutDown();
      return this.#ending;
    }
    // mysql2's pool ends its connections again, and they refuse: a pool that had some rejects.
    return this.#endedConnections
      ? this.#ending.then(() => Promise.reject(closedStateError()))
      : this.#ending;
  }

  async #shutDown(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#idleTimer);
    const queue = this.#queue;
    this.#queue = [];
    for (const waiter of queue) {
      waiter.cleanup?.();
      waiter.reject(poolError('Pool is closed.'));
    }
    const entries = [...this.#all];
    this.#free.length = 0;
    this.#all.clear();
    // mysql2 ends each connection with a QUIT queued behind the statement it runs, with no time
    // limit (core's close() would reject those after its closeTimeout), and closes each one as
    // its own QUIT starts: an idle one at once, freeing its locks for a statement still running
    // on another.
    if (this.#closeTimeout === undefined) {
      await Promise.all(
        entries.map((entry) =>
          quitStarted(entry.session).then(() => entry.session.close().catch(() => undefined)),
        ),
      );
    }
    await this.#core?.close();
    // The sockets are closed: each connection's 'end' reaches the PoolConnections that listen,
    // after end() has resolved, as in mysql2.
    setTimeout(() => {
      for (const entry of entries) entry.events.emit('end');
    }, 0);
  }

  /**
   * mysql2's pool `escape`, run locally.
   *
   * @example
   * ```ts
   * pool.escape('x')
   * ```
   */
  escape(value: unknown): string {
    return this.#formatter.escape(value);
  }

  /**
   * mysql2's pool `escapeId`, run locally.
   *
   * @example
   * ```ts
   * pool.escapeId('t')
   * ```
   */
  escapeId(value: string | string[]): string {
    return this.#formatter.escapeId(value);
  }

  /**
   * mysql2's pool `format`, run locally.
   *
   * @example
   * ```ts
   * pool.format('SELECT ?', [1])
   * ```
   */
  format(sql: string, values?: unknown): string {
    return this.#formatter.format(sql, values);
  }

  /**
   * Ends the pool (as `end()`) when an `await using` block exits.
   *
   * @example
   * ```ts
   * {
   *   await using pool = mysql.createPool({ host: '127.0.0.1', user: 'root', database: 'test' });
   *   await pool.query('SELECT 1');
   * } // pool.end() has run here
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#closed) await this.end();
  }
}

/**
 * Creates a pool, synchronously; connections and worker threads start on first use.
 *
 * @example
 * ```ts
 * import { createPool } from '@unblock/mysql2';
 * const pool = createPool({ uri: 'mysql://root@127.0.0.1/test', connectionLimit: 10, workers: 2 });
 * ```
 */
export function createPool(options: PoolOptions | string): Pool {
  return new Pool(options);
}
