import { RowBatch, type ReceivedRows, type RemoteHandle } from '@unblock/core';
import { bindable, copyOf } from './bind.js';
import {
  kInternals,
  Route,
  STOPS_READERS,
  OPENS_TRANSACTION,
  type Database,
  type DatabaseInternals,
  type ReaderSlot,
  type Target,
} from './database.js';
import { SqliteError } from './errors.js';
import type { ColumnDefinition } from './native-types.js';
import { toggleArgument } from './toggle-argument.js';
import { Mode, MODE_MASK, SAFE_INTEGERS, WITH_NAMES, type NamedRows } from './wire.js';

/**
 * SQL functions that read the state of the connection that runs them (the last insert, the
 * rows changed): on a reader they would answer for the reader, so such statements run on the
 * writer, where better-sqlite3's single connection made the writes.
 */
const CONNECTION_STATE = /\b(?:last_insert_rowid|changes|total_changes)\s*\(/i;

/** The driver's errors for parameters it cannot bind (its binder). */
const BIND_ERROR =
  /^(?:Missing named parameter|Too (?:few|many) parameter values were provided|SQLite3 can only bind |The bound string, buffer, or bigint is too big|You cannot specify named parameters in two different objects|Named parameters can only be passed within plain objects)/;

/** @internal Only `db.prepare()` makes statements. */
export const kCreate = Symbol('unblock.better-sqlite3.create');

/** Rows fetched by the first round trip of `iterate()`, and by each one after it. */
const FIRST_BATCH = 64;
const BATCH = 512;

/**
 * What `stmt.run()` resolves to.
 *
 * @example
 * ```ts
 * const { changes, lastInsertRowid } = await insert.run('ada');
 * ```
 */
export interface RunResult {
  changes: number;
  lastInsertRowid: number | bigint;
}

export type { ColumnDefinition };

function busyStatement(): TypeError {
  return new TypeError('This statement is busy executing a query');
}

/**
 * The Statement that `db.prepare<BindParameters, Result>()` resolves to, as in
 * @types/better-sqlite3: parameters given as one object (named parameters) are its one argument.
 *
 * @example
 * ```ts
 * const stmt: StatementOf<{ id: number }, User> = await db.prepare('select * from users where id = @id');
 * ```
 */
export type StatementOf<BindParameters, Result> = BindParameters extends unknown[]
  ? Statement<BindParameters, Result>
  : Statement<[BindParameters], Result>;

/**
 * A prepared statement: better-sqlite3's Statement with `run`, `get`, `all` returning promises
 * and `iterate` returning an async iterator. Reads of a WAL file database run on reader
 * connections, in parallel. Its type parameters are @types/better-sqlite3's: the parameters
 * `run`, `get`, `all`, `iterate` and `bind` take, and the type of a row.
 *
 * @example
 * ```ts
 * const stmt = await db.prepare<[number], { id: number; name: string }>(
 *   'select id, name from users where id > ?',
 * );
 * for await (const user of stmt.iterate(10)) console.log(user.name);
 * ```
 */
export class Statement<BindParameters extends unknown[] = unknown[], Result = unknown> {
  /** Whether the statement returns data. */
  readonly reader: boolean;
  /** Whether the statement leaves the database unchanged. */
  readonly readonly: boolean;
  readonly source: string;
  readonly database: Database;
  readonly #db: DatabaseInternals;
  #flags: number;
  #bound: unknown[] | undefined;
  /**
   * Runs on the writer only: it failed on a reader (a TEMP table, an attached database), or it
   * reads what only the writer's connection knows (see CONNECTION_STATE).
   */
  #writerOnly: boolean;
  /** Leaves WAL mode or locks the file exclusively: runs on the writer alone (see STOPS_READERS). */
  readonly #stopsReaders: boolean;
  /** May open a transaction: `BEGIN` or `SAVEPOINT` (see OPENS_TRANSACTION). */
  readonly #opensTransaction: boolean;
  #cursors = 0;

  /** Made by `db.prepare()`, not by the caller. */
  constructor(
    token: symbol,
    database: Database,
    source: string,
    reader: boolean,
    readonly: boolean,
    safeIntegers: boolean,
  ) {
    if (token !== kCreate)
      throw new TypeError('Statements can only be constructed by the db.prepare() method');
    // Declared in the driver's order, which Object.keys() and util.inspect() show.
    this.reader = reader;
    this.readonly = readonly;
    this.source = source;
    this.database = database;
    this.#db = database[kInternals];
    this.#flags = safeIntegers ? SAFE_INTEGERS : 0;
    this.#stopsReaders = STOPS_READERS.test(source);
    this.#opensTransaction = !reader && OPENS_TRANSACTION.test(source);
    this.#writerOnly = this.#stopsReaders || CONNECTION_STATE.test(source);
    // Fixed, as the driver's are: neither assigned, deleted nor redefined.
    const fixed = { writable: false, configurable: false };
    Object.defineProperties(this, {
      reader: fixed,
      readonly: fixed,
      source: fixed,
      database: fixed,
    });
  }

  /**
   * True while an iterator of this statement is open.
   *
   * @example
   * ```ts
   * const rows = stmt.iterate();
   * console.log(stmt.busy); // true
   * await rows.return();
   * console.log(stmt.busy); // false
   * ```
   */
  get busy(): boolean {
    return this.#cursors > 0;
  }

  /**
   * Runs the statement; resolves to `{ changes, lastInsertRowid }`.
   *
   * @example
   * ```ts
   * await (await db.prepare('insert into t values (?, ?)')).run(1, 'a');
   * ```
   */
  run(...params: BindParameters): Promise<RunResult> {
    if (this.#cursors === 0) {
      const busy = this.#db.iteratingError(true);
      if (busy !== undefined) return Promise.reject(busy);
    }
    return this.#exec('run', params, false) as Promise<RunResult>;
  }

  /**
   * Resolves to the first row, or `undefined`.
   *
   * @example
   * ```ts
   * const row = await stmt.get({ id: 1 });
   * ```
   */
  get(...params: BindParameters): Promise<Result | undefined> {
    return this.#exec('get', params, true) as Promise<Result | undefined>;
  }

  /**
   * Resolves to every row.
   *
   * @example
   * ```ts
   * const rows = await stmt.all(10);
   * ```
   */
  all(...params: BindParameters): Promise<Result[]> {
    return this.#exec('all', params, true, rowsOf) as Promise<Result[]>;
  }

  /**
   * @internal `all()` with the statement's column names, for the client's `columns`: every
   * name, in order, with or without rows (row objects show a duplicate name once).
   */
  allWithColumns(params: unknown[]): Promise<{ rows: unknown[]; columns: string[] }> {
    return this.#exec('all', params, true, namedRowsOf, WITH_NAMES) as Promise<{
      rows: unknown[];
      columns: string[];
    }>;
  }

  /**
   * Runs the statement once per entry of `paramsList` in one round trip (an entry that is an
   * array is spread as the parameters). Not atomic by itself: wrap it in a transaction.
   *
   * @example
   * ```ts
   * await insert.runMany([[1, 'a'], [2, 'b'], { id: 3, name: 'c' }]);
   * ```
   */
  runMany(paramsList: readonly unknown[]): Promise<RunResult> {
    // An argument error is thrown (not a rejection), as the driver's methods do.
    if (!Array.isArray(paramsList)) throw new TypeError('Expected first argument to be an array');
    if (this.#bound !== undefined) {
      return Promise.reject(new TypeError('This statement already has bound parameters'));
    }
    if (this.#cursors > 0) return Promise.reject(busyStatement());
    const closed = this.#db.closedError();
    if (closed !== undefined) return Promise.reject(closed);
    const busy = this.#db.iteratingError(true);
    if (busy !== undefined) return Promise.reject(busy);
    const width = uniformWidth(paramsList);
    const list =
      width === undefined
        ? paramsList.map((params) =>
            Array.isArray(params) ? bindable(params) : bindable([params])[0],
          )
        : new RowBatch(paramsList as unknown[][], width);
    this.#db.verbose?.call(this.database, this.source);
    const db = this.#db;
    const flags = this.#flags;
    const send = (): Promise<unknown> => {
      const target = db.target(Route.write);
      if (!(target instanceof Promise))
        return db.send(target, 'runMany', [this.source, flags, list]);
      // The call waits (see #exec): the values are taken now.
      const held =
        list instanceof RowBatch
          ? new RowBatch(
              list.rows.map((row) => row.slice()),
              list.width,
            )
          : list.map(copyOf);
      return target.then((t) => db.send(t, 'runMany', [this.source, flags, held]));
    };
    return (this.#stopsReaders ? db.withoutReaders(send) : send()).then(runResultOf);
  }

  /**
   * Iterates over the rows, fetched in batches from a cursor in the worker. Leaving the loop
   * early (break, return, throw) releases the cursor.
   *
   * @example
   * ```ts
   * for await (const row of stmt.iterate()) {
   *   if (done(row)) break;
   * }
   * ```
   */
  iterate(...params: BindParameters): AsyncIterableIterator<Result> {
    return this.#iterate(params, FIRST_BATCH, BATCH);
  }

  /**
   * @internal `iterate()` fetching `batchSize` rows per round trip, the first one included
   * (the uniform client's `batchSize` option).
   */
  iterateInBatches(params: unknown[], batchSize: number): AsyncIterableIterator<Result> {
    return this.#iterate(params as BindParameters, batchSize, batchSize);
  }

  #iterate(
    params: BindParameters,
    firstBatch: number,
    batch: number,
  ): AsyncIterableIterator<Result> {
    // In the driver's order: the kind of statement, the open state, busy, then the values.
    if (!this.reader) throw new TypeError('This statement does not return data. Use run() instead');
    // Closed, the first next() rejects whatever the values (see docs/api.md), and, as in the
    // driver, nothing is logged.
    const open = this.#db.closedError() === undefined;
    if (open && this.#cursors > 0) throw busyStatement();
    // The driver binds in iterate(); the cursor opens at the first next(): the values are taken now.
    let args: unknown[] = [];
    if (open) {
      args = this.#bound === undefined ? this.#args(params).map(copyOf) : this.#args(params);
      this.#db.verbose?.call(this.database, this.source);
    }
    const route = this.#route();
    const state: CursorState = {
      statement: (delta) => (this.#cursors += delta),
      db: this.#db,
      onWriter: !this.#db.mayUseReader(route),
      reader: undefined,
      released: false,
    };
    return new StatementIterator<Result>(this, args, this.#flags, route, state, [
      firstBatch,
      batch,
    ]);
  }

  /**
   * Resolves to the result columns: `{ name, column, table, database, type }`.
   *
   * @example
   * ```ts
   * const names = (await stmt.columns()).map((c) => c.name);
   * ```
   */
  columns(): Promise<ColumnDefinition[]> {
    if (!this.reader) {
      return Promise.reject(
        new TypeError('The columns() method is only for statements that return data'),
      );
    }
    return this.#db.call(Route.meta, 'columns', [this.source]) as Promise<ColumnDefinition[]>;
  }

  /**
   * Rows come back as the value of their first column.
   *
   * @example
   * ```ts
   * const count = await (await db.prepare('select count(*) from t')).pluck().get();
   * ```
   */
  pluck(...toggle: [on?: boolean]): this {
    return this.#mode('pluck', Mode.pluck, toggle);
  }

  /**
   * Rows come back as `{ table: { column: value } }`.
   *
   * @example
   * ```ts
   * const row = await stmt.expand().get(); // { users: { id: 1 }, posts: { id: 7 } }
   * ```
   */
  expand(...toggle: [on?: boolean]): this {
    return this.#mode('expand', Mode.expand, toggle);
  }

  /**
   * Rows come back as arrays.
   *
   * @example
   * ```ts
   * const [id, name] = (await stmt.raw().get()) as [number, string];
   * ```
   */
  raw(...toggle: [on?: boolean]): this {
    return this.#mode('raw', Mode.raw, toggle);
  }

  /**
   * INTEGERs come back as BigInt (overrides `db.defaultSafeIntegers()`).
   *
   * @example
   * ```ts
   * const big = await stmt.safeIntegers().pluck().get(); // 9007199254740993n
   * ```
   */
  safeIntegers(...toggle: [on?: boolean]): this {
    // Busy before the argument, as in the driver.
    if (this.#cursors > 0) throw busyStatement();
    const on = toggleArgument(toggle);
    this.#flags = on ? this.#flags | SAFE_INTEGERS : this.#flags & ~SAFE_INTEGERS;
    return this;
  }

  /**
   * Binds parameters for good; later executions take no arguments. Values are checked by the
   * driver when the statement first runs.
   *
   * @example
   * ```ts
   * const byId = (await db.prepare('select * from users where id = ?')).bind(1);
   * await byId.get();
   * ```
   */
  bind(...params: BindParameters): this {
    if (this.#bound !== undefined) {
      throw new TypeError('The bind() method can only be invoked once per statement object');
    }
    if (this.#cursors > 0) throw busyStatement();
    const closed = this.#db.closedError();
    if (closed !== undefined) throw closed;
    // The driver binds at once: a value changed afterwards is not what runs.
    this.#bound = bindable(params).map(copyOf);
    return this;
  }

  #mode(name: string, mode: number, toggle: readonly unknown[]): this {
    if (!this.reader)
      throw new TypeError(`The ${name}() method is only for statements that return data`);
    if (this.#cursors > 0) throw busyStatement();
    const on = toggleArgument(toggle);
    const current = this.#flags & MODE_MASK;
    if (on) this.#flags = (this.#flags & ~MODE_MASK) | mode;
    else if (current === mode) this.#flags &= ~MODE_MASK;
    return this;
  }

  #args(params: unknown[]): unknown[] {
    if (this.#bound === undefined) return bindable(params);
    if (params.length > 0) throw new TypeError('This statement already has bound parameters');
    return this.#bound;
  }

  #route(): typeof Route.read | typeof Route.write {
    return this.reader && this.readonly && !this.#writerOnly ? Route.read : Route.write;
  }

  #exec(
    op: string,
    params: unknown[],
    readable: boolean,
    shape?: (reply: unknown) => unknown,
    flagBits = 0,
  ): Promise<unknown> {
    if (this.#cursors > 0) return Promise.reject(busyStatement());
    // Checked here, before the open state, in the driver's order (and without a round trip).
    if (readable && !this.reader) {
      return Promise.reject(
        new TypeError('This statement does not return data. Use run() instead'),
      );
    }
    const closed = this.#db.closedError();
    if (closed !== undefined) return Promise.reject(closed);
    let args: unknown[];
    try {
      args = this.#args(params);
    } catch (err) {
      return Promise.reject(err);
    }
    const db = this.#db;
    db.verbose?.call(this.database, this.source);
    const flags = this.#flags | flagBits;
    const callArgs = [this.source, flags, args];
    const map = shape ?? (op === 'run' ? runResultOf : undefined);
    const bound = this.#bound;
    // For a call sent later: its values taken now (those of bind() were copied then).
    const held = (): unknown[] => [
      this.source,
      flags,
      bound === undefined ? args.map(copyOf) : args,
    ];
    let sent: Promise<unknown>;
    if (this.#stopsReaders) {
      const later = held();
      sent = db.withoutReaders(() => db.call(Route.write, op, later).then(map));
    } else {
      const target = db.target(readable ? this.#route() : Route.write);
      if (target instanceof Promise) {
        // The call waits (for a setup step such as `db.function()`, a transaction, the writer to
        // open) and is sent later: its values are taken now, as the driver reads them when called.
        const later = held();
        sent = target.then((t) => this.#send(t, op, later, map));
      } else {
        sent = this.#send(target, op, callArgs, map);
      }
    }
    if (this.#opensTransaction) sent = db.whileOpening(sent);
    if (bound === undefined) return sent;
    return sent.catch((err: unknown) => {
      this.#unbindRefused(bound, err);
      throw err;
    });
  }

  /**
   * The driver checks bound values in bind(), which throws and leaves the statement unbound:
   * when a call ran with `args`, and they were the values bind() took, and the driver refused
   * them (`err`), the statement is unbound now.
   */
  #unbindRefused(args: unknown[], err: unknown): void {
    if (this.#bound === args && err instanceof Error && BIND_ERROR.test(err.message)) {
      this.#bound = undefined;
    }
  }

  #send(
    target: Target,
    op: string,
    callArgs: unknown[],
    map: ((reply: unknown) => unknown) | undefined,
  ): Promise<unknown> {
    if (target.reader === undefined) return this.#db.send(target, op, callArgs, map);
    return this.#db.send(target, op, callArgs, map, (err: unknown) =>
      this.#retryOnWriter(err, op, callArgs, map),
    );
  }

  /**
   * A reader cannot see the writer's TEMP tables, attached databases or other per-connection
   * state: a statement that fails to compile there runs on the writer from then on.
   */
  #retryOnWriter(
    err: unknown,
    op: string,
    callArgs: unknown[],
    map: ((reply: unknown) => unknown) | undefined,
  ): Promise<unknown> {
    if (!(err instanceof SqliteError) || err.code !== 'SQLITE_ERROR') throw err;
    this.#writerOnly = true;
    const again = this.#db.call(Route.write, op, callArgs);
    return map === undefined ? again : again.then(map);
  }

  /** @internal Opens a cursor (the first batch comes with it). */
  openCursor(
    args: unknown[],
    flags: number,
    route: typeof Route.read | typeof Route.write,
    batch: number,
  ): Promise<{
    opened: CursorReply;
    reader: ReaderSlot | undefined;
  }> {
    const db = this.#db;
    const callArgs = [this.source, flags, args, batch];
    const send = async (
      target: Target,
    ): Promise<{ opened: CursorReply; reader: ReaderSlot | undefined }> => {
      if (target.reader !== undefined) target.reader.cursors++;
      try {
        const opened = cursorReply(await target.session.call('iterate', callArgs, db.callOptions));
        if (opened.d && target.reader !== undefined) target.reader.cursors--;
        return { opened, reader: target.reader };
      } catch (err) {
        if (target.reader !== undefined) {
          target.reader.cursors--;
          if (err instanceof SqliteError && err.code === 'SQLITE_ERROR') {
            this.#writerOnly = true;
            return send(await db.target(Route.write));
          }
        }
        throw err;
      }
    };
    let opening: ReturnType<typeof send>;
    if (this.#stopsReaders) {
      opening = db.withoutReaders(async () => send(await db.target(route))) as ReturnType<
        typeof send
      >;
    } else {
      // Sent synchronously when the session is at hand, so the cursor handle's origin stack
      // (shown by leak reports) reaches the caller's `next()`.
      const target = db.target(route);
      opening = target instanceof Promise ? target.then(send) : send(target);
    }
    return opening.catch((err: unknown) => {
      this.#unbindRefused(args, err);
      throw err;
    });
  }
}

/**
 * What an iterator holds open, kept apart from the iterator so that a FinalizationRegistry can
 * release it once an abandoned iterator is collected.
 */
interface CursorState {
  statement: (delta: number) => void;
  db: DatabaseInternals;
  /** Counted in the database's writer iterators. */
  onWriter: boolean;
  reader: ReaderSlot | undefined;
  released: boolean;
}

function releaseCursorState(state: CursorState): void {
  if (state.released) return;
  state.released = true;
  state.db.iterators(-1);
  if (state.onWriter) state.db.iterating(-1);
  if (state.reader !== undefined) state.reader.cursors--;
  state.reader = undefined;
  state.statement(-1);
}

/**
 * An iterator dropped without `return()`: its statement and connection must not stay busy.
 * (Its cursor handle is collected with it: core releases the worker-side cursor and reports the
 * leak.)
 */
const abandoned = new FinalizationRegistry<CursorState>(releaseCursorState);

/** What the worker's `iterate` operation and a cursor's `next` return. */
interface CursorReply {
  r: unknown[];
  d: boolean;
  h?: RemoteHandle;
}

/** A batch of a cursor as it arrives: a row set (rows rebuilt here), or expanded rows as sent. */
function cursorReply(value: unknown): CursorReply {
  if (typeof value !== 'object' || value === null || !('rows' in value)) {
    return value as CursorReply;
  }
  const { rows, extra } = value as ReceivedRows;
  const { d, h } = extra as { d: boolean; h: RemoteHandle | undefined };
  return { r: rows, d, h };
}

/**
 * The width of `list` when every entry is an array of that many numbers, strings, BigInts or
 * nulls: such lists travel as a RowBatch, packed by column. Undefined otherwise.
 */
function uniformWidth(list: readonly unknown[]): number | undefined {
  const first = list[0];
  if (!Array.isArray(first) || first.length === 0) return undefined;
  const width = first.length;
  for (let i = 0; i < list.length; i++) {
    const row = list[i] as unknown;
    if (!Array.isArray(row) || row.length !== width) return undefined;
    for (let j = 0; j < width; j++) {
      const v = row[j] as unknown;
      const t = typeof v;
      if (t !== 'number' && t !== 'string' && t !== 'bigint' && v !== null) return undefined;
    }
  }
  return width;
}

/** `run()` results travel as `[changes, lastInsertRowid]`: smaller to clone than an object. */
export function runResultOf(reply: unknown): RunResult {
  const [changes, lastInsertRowid] = reply as [number, number | bigint];
  return { changes, lastInsertRowid };
}

function rowsOf(result: unknown): unknown[] {
  return Array.isArray(result) ? result : (result as ReceivedRows).rows;
}

/** What `all` answers with WITH_NAMES: row objects beside the names, or a row set carrying them. */
function namedRowsOf(result: unknown): { rows: unknown[]; columns: string[] } {
  if ('objects' in (result as object)) {
    const { objects, names } = result as NamedRows;
    return { rows: objects, columns: names };
  }
  const { rows, extra } = result as ReceivedRows;
  return { rows, columns: (extra as { names: string[] }).names };
}

/** The async iterator of `stmt.iterate()`: a worker-side cursor read in batches. */
class StatementIterator<Row> implements AsyncIterableIterator<Row> {
  /** The statement iterated, as the driver's iterators have it (their only own property). */
  readonly statement: Statement;
  readonly #args: unknown[];
  readonly #flags: number;
  readonly #route: typeof Route.read | typeof Route.write;
  #rows: unknown[] = [];
  #index = 0;
  #handle: RemoteHandle | undefined;
  readonly #state: CursorState;
  #done = false;
  #started = false;
  #fetching: Promise<void> | undefined;
  #finished = false;
  /** Rows asked for by the first round trip, and by each one after it. */
  readonly #batches: readonly [first: number, later: number];

  constructor(
    statement: Statement,
    args: unknown[],
    flags: number,
    route: typeof Route.read | typeof Route.write,
    state: CursorState,
    batches: readonly [first: number, later: number],
  ) {
    this.statement = statement;
    Object.defineProperty(this, 'statement', { writable: false, configurable: false });
    this.#args = args;
    this.#flags = flags;
    this.#route = route;
    this.#state = state;
    this.#batches = batches;
    state.statement(1);
    state.db.iterators(1);
    if (state.onWriter) state.db.iterating(1);
    abandoned.register(this, state, state);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<Row>> {
    if (this.#index < this.#rows.length) {
      return Promise.resolve({ value: this.#rows[this.#index++] as Row, done: false });
    }
    if (this.#done) {
      this.#finish();
      return Promise.resolve({ value: undefined, done: true });
    }
    this.#fetching ??= this.#fetch().finally(() => (this.#fetching = undefined));
    return this.#fetching.then(
      () => this.next(),
      (err: unknown) => {
        this.#done = true;
        this.#finish();
        throw err;
      },
    );
  }

  async return(): Promise<IteratorResult<Row>> {
    this.#done = true;
    this.#rows = [];
    await this.#fetching?.catch(() => undefined);
    this.#finish();
    return { value: undefined, done: true };
  }

  async #fetch(): Promise<void> {
    let reply: CursorReply;
    if (!this.#started) {
      this.#started = true;
      const { opened, reader } = await this.statement.openCursor(
        this.#args,
        this.#flags,
        this.#route,
        this.#batches[0],
      );
      reply = opened;
      this.#handle = opened.h;
      const state = this.#state;
      // Where the cursor really went: correct the guess made when the iterator was created.
      const onWriter = reader === undefined;
      if (onWriter !== state.onWriter && !state.released) {
        state.db.iterating(onWriter ? 1 : -1);
        state.onWriter = onWriter;
      }
      if (!opened.d && !state.released) state.reader = reader;
      else if (!opened.d && reader !== undefined) reader.cursors--;
    } else {
      try {
        // `defaultQueryTimeout` covers each batch, as it covers the first.
        reply = cursorReply(
          await this.#handle!.call('next', [this.#batches[1]], this.#state.db.callOptions),
        );
      } catch (err) {
        // The rows left are lost, so the iteration fails: with the error of a call made on a
        // closed database when the uniform client forced it closed (close() refuses while an
        // iterator is open), else with the worker's exit as it was reported.
        throw this.#state.db.closedError() ?? err;
      }
    }
    this.#rows = reply.r;
    this.#index = 0;
    if (reply.d) this.#done = true;
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    const handle = this.#handle;
    this.#handle = undefined;
    if (handle !== undefined) void handle.close();
    abandoned.unregister(this.#state);
    releaseCursorState(this.#state);
  }
}
