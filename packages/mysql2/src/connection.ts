import { EventEmitter } from 'node:events';
import { RemoteHandle, type CallOptions, type Session } from '@unblock/core';
import { captureCaller } from './caller-stack.js';
import { ConnectionConfig, type MysqlConfig } from './config.js';
import { mysql2, mysql2Internal } from './mysql2-internals.js';
import { iterateRows, type IterateRowsOptions } from './iterate.js';
import { closedStateError, writeAfterEndError } from './closed-state-error.js';
import { PreparedStatementInfo } from './prepared-statement.js';
import { assertNoCallback } from './promise-only.js';
import { queryTimeoutError } from './query-timeout.js';
import {
  closedByError,
  connectionGone,
  failLikeQueued,
  markLost,
  quitStarted,
} from './queued-failure.js';
import { assertBindable, portableValues } from './raw-codec.js';
import { fieldRegistryOf, toResult, type FieldRegistry } from './results.js';
import { splitQuery } from './split-query.js';
import type { FieldPacket, QueryOptions, QueryResult } from './types.js';
import type { ConnectionInfo, HeaderResult, MultiResult } from './wire.js';

const BaseConnection = mysql2.Connection as { prototype: object };

/** mysql2's sync helpers run on a stand-in that has only `config`, so they behave as mysql2's own. */
interface LocalFormatter {
  format(sql: string, values?: unknown): string;
  escape(value: unknown): string;
  escapeId(value: string | string[]): string;
}

export function localFormatter(config: MysqlConfig): LocalFormatter {
  return Object.create(BaseConnection.prototype, { config: { value: config } }) as LocalFormatter;
}

/**
 * The `namedPlaceholders` mysql2's `execute()` goes by: the one an options object has as an own
 * enumerable property (it spreads the object into its own options), else the connection's.
 */
function executeNamedPlaceholders(sql: string | QueryOptions, config: MysqlConfig): unknown {
  const own =
    typeof sql === 'object' && Object.prototype.propertyIsEnumerable.call(sql, 'namedPlaceholders')
      ? sql.namedPlaceholders
      : undefined;
  return own === undefined ? config.namedPlaceholders : own;
}

/**
 * mysql2's checks of `execute()`'s values (`values`: the ones it binds), made here because a
 * function cannot cross to the worker: values that are not an array, unless named placeholders
 * turn an object into one (in the worker); then each value in turn, undefined then function.
 *
 * mysql2 reads `sql.values` of any object it is given as the SQL, inherited ones included: an
 * array, a Buffer, a Map or a Set given in place of the SQL has a `values()` method, which it
 * refuses here, leaving the connection usable. Cloned to the worker, such an object would lose
 * that method, and mysql2 would fail there writing a statement without SQL, closing the
 * connection.
 */
function checkExecuteValues(
  values: unknown,
  sql: string | QueryOptions,
  config: MysqlConfig,
): void {
  if (!Array.isArray(values)) {
    if (values && !executeNamedPlaceholders(sql, config)) {
      throw new TypeError(
        'Bind parameters must be array if namedPlaceholders parameter is not enabled',
      );
    }
    return;
  }
  for (const v of values) {
    if (v === undefined) {
      throw new TypeError(
        'Bind parameters must not contain undefined. To pass SQL NULL specify JS null',
      );
    }
    if (typeof v === 'function') {
      throw new TypeError(
        'Bind parameters must not contain function(s). To pass the body of a function as a string call .toString() first',
      );
    }
  }
  assertBindable(values);
}

/**
 * What mysql2's `changeUser()` writes into the connection's config, by its own rules: a key
 * missing (or falsy) in the options keeps the config's value. Throws where mysql2's does (no
 * options; an unknown charset), before anything is sent.
 */
function changedUser(
  config: MysqlConfig,
  options: Record<string, unknown>,
): Record<string, unknown> {
  const charsetNumber = options.charset
    ? ConnectionConfig.getCharsetNumber(options.charset as string)
    : config.charsetNumber;
  return {
    user: options.user || config.user,
    password: options.password || options.password1 || config.password || config.password1,
    database: options.database || config.database,
    charsetNumber,
  };
}

/**
 * mysql2's TypeError for a missing statement (`query(undefined)`): the property its code reads
 * first differs by entry point (`constructor` on a connection, `sql` in a pool and in a
 * connection's `execute()`), so the message names it.
 *
 * @internal
 * @example
 * ```ts
 * if (sql == null) return Promise.reject(missingSqlError(sql, 'constructor'));
 * ```
 */
export function missingSqlError(sql: null | undefined, property: string): TypeError {
  return new TypeError(`Cannot read properties of ${String(sql)} (reading '${property}')`);
}

/** mysql2's map from a MySQL character set name to its charset number. */
const encodingToCharset = mysql2Internal<Record<string, number | undefined>>(
  'lib/constants/encoding_charset.js',
);

/**
 * mysql2 sets its connection's `config.charsetNumber` from an OK packet that reports a new
 * `character_set_client` (session tracking, on by default: `SET NAMES latin1` does it). It does
 * so in the worker, on its own config, so the caller's copy follows from the headers that
 * cross, in the order mysql2 read them.
 */
function followClientCharset(value: unknown, config: MysqlConfig): void {
  const { h, m } = value as Partial<HeaderResult> & Partial<MultiResult>;
  if (h !== undefined) followHeader(h, config);
  else if (m !== undefined)
    for (const result of m) if (!Array.isArray(result)) followHeader(result, config);
}

function followHeader(header: unknown, config: MysqlConfig): void {
  const changes = (header as { stateChanges?: { systemVariables?: Record<string, string> } })
    .stateChanges;
  const name = changes?.systemVariables?.character_set_client;
  if (name === undefined) return;
  // mysql2 leaves the number alone for a name it has no number for.
  const charsetNumber = encodingToCharset[name];
  if (charsetNumber !== undefined) config.charsetNumber = charsetNumber;
}

/** A call refused before it was sent, settled as `onError` says (see {@link Connection.call}). */
function rejected(
  err: unknown,
  onError: ((err: unknown) => unknown) | undefined,
): Promise<unknown> {
  const refused = Promise.reject(err);
  return onError === undefined ? refused : refused.then(undefined, onError);
}

/**
 * The promise API of one mysql2 connection, which lives in a worker thread: `mysql2/promise`'s
 * PromiseConnection, method for method. Values, rows, fields and errors are mysql2's own.
 *
 * @example
 * ```ts
 * import mysql from '@unblock/mysql2';
 * const conn = await mysql.createConnection({ host: '127.0.0.1', user: 'root', database: 'test' });
 * const [rows, fields] = await conn.query('SELECT ? AS x', [1]);
 * await conn.end();
 * ```
 */
export class Connection extends EventEmitter {
  /** @internal */
  readonly session: Session;
  readonly #config: MysqlConfig;
  readonly #formatter: LocalFormatter;
  #threadId: number;
  #ending: Promise<void> | undefined;
  #closed = false;
  #lost = false;
  #onLost: (() => void) | undefined;
  readonly #poolClosed: (() => boolean) | undefined;
  /** Whether this object has emitted 'end'. */
  #endEmitted = false;

  readonly #onEnd: (() => void) | undefined;
  readonly #fields: FieldRegistry;
  /** Made once: a closure per query would be garbage per query. */
  readonly #toResult: (value: unknown) => unknown;

  /**
   * Made by `createConnection()` and the pools, not by the caller. `notices`: this object re-emits the connection's events (a session has one
   * listener: the pool's own Connection of an entry, not each PoolConnection wrapped around it).
   * `poolClosed`: whether the pool the connection was taken from was ended. mysql2's pool ends
   * every connection as its `end()` is called, checked out or not, so a command in the same
   * tick already gets the closed-state error; the session ends only later, as the workers stop.
   */
  constructor(
    session: Session,
    config: MysqlConfig,
    onEnd?: () => void,
    notices = true,
    poolClosed?: () => boolean,
  ) {
    super();
    this.session = session;
    this.#onEnd = onEnd;
    this.#poolClosed = poolClosed;
    this.#config = config;
    this.#formatter = localFormatter(config);
    this.#threadId = (session.info as ConnectionInfo).threadId;
    const fields = (this.#fields = fieldRegistryOf(session));
    this.#toResult = (value) => {
      followClientCharset(value, config);
      return toResult(value, fields);
    };
    if (notices) session.onNotice((event, data) => this.#onNotice(event, data));
  }

  /**
   * What mysql2's connection emitted in the worker. As mysql2/promise does, 'error' and 'end'
   * are re-emitted ('error' only to listeners: with none, it stays unthrown, as it is in the
   * worker); either means the connection is gone, and a pool drops it.
   */
  #onNotice(event: string, data: unknown): void {
    if (event !== 'error' && event !== 'end') return;
    const fatal = event === 'end' || (data as { fatal?: unknown } | undefined)?.fatal === true;
    if (fatal) markLost(this.session, event === 'error' ? (data as Error) : undefined);
    if (fatal && !this.#lost) {
      this.#lost = true;
      this.#onLost?.();
    }
    // Once end() or destroy() was called, finish() emits 'end' (after end() has resolved),
    // unless the server closed the socket before the QUIT of end() started (it was queued
    // behind a statement): mysql2 emits 'end' then, before end() resolves.
    if (event === 'end') {
      if (this.#ending === undefined || data === false) this.#emitEnd();
    } else if (this.listenerCount('error') > 0) this.emit('error', data);
  }

  /**
   * @internal Re-emits an event of the connection heard through another object of it (a
   * PoolConnection hears its pool's), as {@link #onNotice} does.
   */
  relay(event: 'end' | 'error', data?: unknown): void {
    if (event === 'end') this.#emitEnd();
    else if (this.listenerCount('error') > 0) this.emit('error', data);
  }

  /** 'end', once: mysql2 emits it when its socket closes, whoever closed it. */
  #emitEnd(): void {
    if (this.#endEmitted) return;
    this.#endEmitted = true;
    this.emit('end');
  }

  /** @internal Called once when the server side of the connection is gone. */
  set onLost(listener: (() => void) | undefined) {
    this.#onLost = listener;
  }

  /**
   * mysql2's ConnectionConfig of this connection, built on this thread from the options.
   *
   * @example
   * ```ts
   * console.log(conn.config.host, conn.config.database); // '127.0.0.1' 'test'
   * ```
   */
  get config(): MysqlConfig {
    return this.#config;
  }

  /**
   * The server's id of this connection (what `KILL` and `SHOW PROCESSLIST` use).
   *
   * @example
   * ```ts
   * const [[row]] = await conn.query('SELECT CONNECTION_ID() AS id');
   * row.id === conn.threadId; // true
   * ```
   */
  get threadId(): number {
    return this.#threadId;
  }

  /** @internal True once `end()` or `destroy()` was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Ended, destroyed, or gone on the server's side: mysql2's commands no longer start. */
  #isClosed(): boolean {
    return this.#refusesCommands() || this.#lost;
  }

  /**
   * Whether a command gets mysql2's closed-state error here, before reaching the worker: closed
   * through this object, or by its pool (ended, idle, destroyed through another handle).
   */
  #refusesCommands(): boolean {
    return this.#closed || this.session.ended || this.#poolClosed?.() === true;
  }

  /**
   * @internal Sends a command; `onAnswer` maps its answer and `onError` its error (throwing or
   * returning), in the one promise reaction the call has (see failLikeQueued).
   */
  call(
    op: string,
    args: unknown[],
    options?: CallOptions,
    onAnswer?: (value: unknown) => unknown,
    onError?: (err: unknown) => unknown,
  ): Promise<unknown> {
    if (this.#refusesCommands()) return rejected(closedStateError(), onError);
    const sent = this.session.call(op, args, options);
    return failLikeQueued(this.session, sent, onAnswer, onError);
  }

  /**
   * @internal Opens the worker-side cursor of an iterator. On a connection mysql2 has closed, its
   * streamed query (which has no callback) would never end, holding every later call of the
   * connection behind it in the worker: it is refused here with mysql2's closed-state error.
   */
  openCursor(args: unknown[], options?: CallOptions): Promise<unknown> {
    if (connectionGone(this.session)) return Promise.reject(closedStateError());
    return this.call('cursor', args, options);
  }

  /**
   * Runs a statement through mysql2's text protocol: `[rows, fields]`, or
   * `[ResultSetHeader, undefined]` for a statement without rows.
   *
   * @example
   * ```ts
   * const [rows] = await conn.query({ sql: 'SELECT * FROM t WHERE id = ?', values: [1], rowsAsArray: true });
   * ```
   */
  query<T extends QueryResult = QueryResult>(
    sql: string | QueryOptions,
    values?: unknown,
  ): Promise<[T, FieldPacket[]]> {
    assertNoCallback(values);
    if (sql === undefined || sql === null)
      return Promise.reject(missingSqlError(sql, 'constructor'));
    return this.run('query', sql, values) as Promise<[T, FieldPacket[]]>;
  }

  /**
   * Runs a statement as a prepared statement (cached per connection, as mysql2 does).
   *
   * @example
   * ```ts
   * const [rows] = await conn.execute('SELECT * FROM t WHERE id = ?', [1]);
   * ```
   */
  execute<T extends QueryResult = QueryResult>(
    sql: string | QueryOptions,
    values?: unknown,
  ): Promise<[T, FieldPacket[]]> {
    assertNoCallback(values);
    // execute(undefined) is left alone: mysql2 breaks the connection over it.
    if (sql === null) return Promise.reject(missingSqlError(sql, 'sql'));
    return this.run('execute', sql, values) as Promise<[T, FieldPacket[]]>;
  }

  /** @internal */
  run(kind: 'query' | 'execute', sql: string | QueryOptions, values: unknown): Promise<unknown> {
    return this.send(kind, sql, values, this.#toResult);
  }

  /** @internal Turns what {@link send} resolved to into mysql2's `[rows, fields]`. */
  get decode(): (value: unknown) => unknown {
    return this.#toResult;
  }

  /**
   * @internal Sends a statement; resolves with what the worker answered (see {@link decode}),
   * mapped by `onAnswer`, or settles as `onError` says (see {@link call}).
   */
  send(
    kind: 'query' | 'execute',
    sql: string | QueryOptions,
    values: unknown,
    onAnswer?: (value: unknown) => unknown,
    onError?: (err: unknown) => unknown,
  ): Promise<unknown> {
    let wire: unknown;
    let options: CallOptions | undefined;
    try {
      if (kind === 'execute') {
        // mysql2's execute() binds an options object's values when it has any, and then
        // ignores the second argument (query() does the opposite). It checks them before
        // anything else: before splitQuery() can refuse a typeCast that cannot be sent.
        const own = typeof sql === 'object' ? sql.values : undefined;
        if (own) values = undefined;
        checkExecuteValues(own || values, sql, this.#config);
        [wire, options] = splitQuery(sql, true);
      } else {
        [wire, options] = splitQuery(sql, true);
      }
    } catch (err) {
      return rejected(err, onError);
    }
    const acks = this.#fields.takeAcks();
    const args =
      acks === undefined
        ? [kind, wire, portableValues(values)]
        : [kind, wire, portableValues(values), acks];
    const timeout = options?.timeout;
    if (timeout === undefined) return this.call('query', args, options, onAnswer, onError);
    // mysql2's per-query timeout, run by core: the statement is killed on the server (mysql2
    // only stops waiting for it), and the rejection is mysql2's, with the caller's stack.
    // The session captures stacks as mysql2's `trace` says (its own setting, or its pool's).
    const caller = this.session.captureStacks
      ? captureCaller(Connection.prototype.send)
      : undefined;
    return this.call('query', args, options, onAnswer, (err: unknown) => {
      const error = queryTimeoutError(err, timeout, caller);
      if (onError === undefined) throw error;
      return onError(error);
    });
  }

  /**
   * Streams the rows of a statement in batches, with backpressure: the connection is paused
   * while the consumer is behind. An addition to mysql2's API.
   *
   * @example
   * ```ts
   * for await (const row of conn.iterate('SELECT * FROM big', [], { batchSize: 500 })) console.log(row);
   * ```
   */
  iterate<Row = Record<string, unknown>>(
    sql: string | QueryOptions,
    values?: unknown,
    options: IterateRowsOptions = {},
  ): AsyncIterableIterator<Row> {
    return iterateRows<Row>(this, sql, values, options);
  }

  /**
   * Resolves `true` once the server answered.
   *
   * @example
   * ```ts
   * await conn.ping();
   * ```
   */
  ping(): Promise<boolean> {
    return this.call('ping', []) as Promise<boolean>;
  }

  /**
   * COM_RESET_CONNECTION.
   *
   * @example
   * ```ts
   * await conn.reset();
   * ```
   */
  async reset(): Promise<void> {
    await this.call('reset', []);
  }

  /**
   * Already connected: resolves at once, ended or destroyed too, as mysql2's does; rejects, as
   * mysql2's does, with the error that closed the connection when one did (the server closed
   * it, or a call failed with a fatal error).
   *
   * @example
   * ```ts
   * await conn.connect();
   * ```
   */
  async connect(): Promise<void> {
    const closedBy = closedByError(this.session);
    if (closedBy !== undefined) throw closedBy;
  }

  /**
   * START TRANSACTION. Resolves `[ResultSetHeader, undefined]`, as mysql2/promise does at run
   * time (its typings say `void`, kept here so connections stay assignable to its types).
   *
   * @example
   * ```ts
   * await conn.beginTransaction();
   * ```
   */
  beginTransaction(): Promise<void> {
    return this.call('beginTransaction', [], undefined, toResult) as Promise<void>;
  }

  /**
   * COMMIT; resolves as `beginTransaction()` does.
   *
   * @example
   * ```ts
   * await conn.commit();
   * ```
   */
  commit(): Promise<void> {
    return this.call('commit', [], undefined, toResult) as Promise<void>;
  }

  /**
   * ROLLBACK; resolves as `beginTransaction()` does.
   *
   * @example
   * ```ts
   * await conn.rollback();
   * ```
   */
  rollback(): Promise<void> {
    return this.call('rollback', [], undefined, toResult) as Promise<void>;
  }

  /**
   * Changes the user (and database) of the connection. As in mysql2, `config` takes the new
   * user, password, database and charset as the command starts, so it keeps them when the
   * server refuses the change.
   *
   * @example
   * ```ts
   * await conn.changeUser({ user: 'root', database: 'test' });
   * ```
   */
  async changeUser(options: Record<string, unknown>): Promise<void> {
    const changed = changedUser(this.#config, options);
    const sent = this.call('changeUser', [options]);
    // mysql2 applies them in the command's start(), which a closed connection never runs.
    if (!this.#isClosed()) Object.assign(this.#config, changed);
    this.#threadId = (await sent) as number;
  }

  /**
   * Prepares a statement on the server.
   *
   * @example
   * ```ts
   * const stmt = await conn.prepare('SELECT * FROM t WHERE id = ?');
   * const [rows] = await stmt.execute([1]);
   * await stmt.close();
   * ```
   */
  async prepare(options: string | QueryOptions): Promise<PreparedStatementInfo> {
    const [wire, callOptions] = splitQuery(options);
    const handle = (await this.call('prepare', [wire], callOptions)) as RemoteHandle;
    const { session } = this;
    const poolClosed = this.#poolClosed;
    // Not `this`: a statement kept must not keep an unreleased PoolConnection from being
    // collected (and reported as a leak).
    return new PreparedStatementInfo(
      handle,
      session,
      () => session.ended || poolClosed?.() === true,
    );
  }

  /**
   * Evicts a statement from the prepared-statement cache (and closes it on the server).
   *
   * @example
   * ```ts
   * conn.unprepare('SELECT * FROM t WHERE id = ?');
   * ```
   */
  unprepare(sql: string | QueryOptions): void {
    const [wire] = splitQuery(sql);
    // mysql2's unprepare is synchronous; the worker runs it in order with later calls.
    this.call('unprepare', [wire]).catch(() => undefined);
  }

  /**
   * Closes the connection gracefully. Never rejects, as in mysql2, which resolves its
   * closed-state error (a value, not a rejection) when the connection was already closed: ended,
   * destroyed, or closed by the server.
   *
   * @example
   * ```ts
   * await conn.end();
   * ```
   */
  end(): Promise<void> {
    // mysql2 resolves end() as its QUIT starts: at once on a closed connection (with the
    // closed-state error), else when the commands before it are done (with the error of one
    // that lost the connection). The socket closes after that, and 'end' follows.
    const ended = this.#isClosed()
      ? Promise.resolve(closedStateError())
      : quitStarted(this.session);
    void this.closeSession();
    // Typed void, as mysql2's typings type it.
    return ended as Promise<never>;
  }

  /** @internal Ends the session once, whoever asks (end, destroy, a pool). */
  protected closeSession(): Promise<void> {
    this.#ending ??= this.finish().catch(() => undefined);
    return this.#ending;
  }

  /** @internal Closes the session; subclasses add their pool bookkeeping. */
  protected finish(): Promise<void> {
    this.#closed = true;
    return this.session.close().finally(() => {
      this.#onEnd?.();
      // mysql2 resolves end() as its QUIT starts, and emits 'end' when the server has closed the
      // socket, a network round trip later: so end() (and what awaits it) comes first here too.
      setTimeout(() => this.#emitEnd(), 0);
    });
  }

  /**
   * Closes the socket at once.
   *
   * @example
   * ```ts
   * conn.destroy();
   * ```
   */
  destroy(): void {
    if (this.#closed) return;
    // mysql2 ends the socket at once: the running command still gets its answer, the commands
    // queued behind it fail to write and never reach the server.
    this.session.cancelQueued(writeAfterEndError);
    this.session.call('destroy', []).catch(() => undefined);
    void this.closeSession();
  }

  /**
   * mysql2's alias of `destroy()`.
   *
   * @example
   * ```ts
   * conn.close();
   * ```
   */
  close(): void {
    this.destroy();
  }

  /**
   * Not available: the socket is in a worker thread. Use `iterate()`, which applies backpressure.
   *
   * @example
   * ```ts
   * conn.pause(); // throws: use iterate() instead
   * for await (const row of conn.iterate('SELECT * FROM big')) await slowly(row);
   * ```
   */
  pause(): void {
    throw new Error(
      'pause() is not available with @unblock/mysql2: use iterate(), which pauses the connection while you are behind',
    );
  }

  /**
   * Not available, as `pause()`.
   *
   * @example
   * ```ts
   * conn.resume(); // throws: use iterate() instead
   * ```
   */
  resume(): void {
    throw new Error('resume() is not available with @unblock/mysql2: use iterate()');
  }

  /**
   * On a connection from `createConnection`, nothing to do (as in mysql2).
   *
   * @example
   * ```ts
   * conn.release();
   * ```
   */
  release(): void {}

  /**
   * mysql2's `escape`, run locally.
   *
   * @example
   * ```ts
   * conn.escape("it's")
   * ```
   */
  escape(value: unknown): string {
    return this.#formatter.escape(value);
  }

  /**
   * mysql2's `escapeId`, run locally.
   *
   * @example
   * ```ts
   * conn.escapeId('my table')
   * ```
   */
  escapeId(value: string | string[]): string {
    return this.#formatter.escapeId(value);
  }

  /**
   * mysql2's `format` (honours `namedPlaceholders` and a local `queryFormat`), run locally.
   *
   * @example
   * ```ts
   * conn.format('SELECT ? AS x', [1]); // 'SELECT 1 AS x'
   * ```
   */
  format(sql: string, values?: unknown): string {
    return this.#formatter.format(sql, values);
  }

  /**
   * Ends the connection (as `end()`) when an `await using` block exits.
   *
   * @example
   * ```ts
   * {
   *   await using conn = await mysql.createConnection({ host: '127.0.0.1', user: 'root' });
   *   await conn.query('SELECT 1');
   * } // conn.end() has run here
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    if (!this.#closed) await this.end();
  }
}
