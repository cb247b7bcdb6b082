import { access } from 'node:fs/promises';
import { dirname } from 'node:path';
import { inspect } from 'node:util';
import {
  AbortError,
  assertSendable,
  createPool,
  currentCallOptions,
  PoolClosedError,
  SessionBrokenError,
  toPortableFunction,
  WorkerExitedError,
  type CallOptions,
  type FunctionReference,
  type Pool,
  type PoolStats,
  type ReceivedRows,
  type Session,
} from '@unblock/core';
import { bindable, copyOf } from './bind.js';
import { SqliteError } from './errors.js';
import { interruptHook } from './interrupt.js';
import { checkedLength, checkTableDefinition } from './table-definition.js';
import {
  booleanOption,
  parseDatabaseArguments,
  type DatabaseOptions,
  type ParsedOptions,
} from './options.js';
import { Statement, kCreate, type StatementOf } from './statement.js';
import { toggleArgument } from './toggle-argument.js';
import { createTransaction, type Transaction } from './transaction.js';
import {
  adoptCalls,
  callAnswered,
  callMade,
  currentScope,
  lateFailure,
  lockScope,
  newScope,
  runDetached,
  runInScope,
  type TxScope,
} from './transaction-scope.js';
import {
  refusedWhileIterating,
  SAFE_INTEGERS,
  STATE_SLOTS,
  StateSlot,
  type ConnectionInfo,
  type ConnectionOptions,
  type SetupStep,
} from './wire.js';

const workerModule = new URL('./worker.js', import.meta.url);

/** Where a call may run. */
export const Route = {
  /** Reads: a reader when there is one and no transaction is open. */
  read: 0,
  /** Writes and everything else: the writer, after any transaction of another context. */
  write: 1,
  /** No data touched (prepare, columns): the writer, without waiting for transactions. */
  meta: 2,
} as const;
export type RouteCode = (typeof Route)[keyof typeof Route];

/** A reader connection and the cursors open on it (a cursor pins an old snapshot). */
export interface ReaderSlot {
  session: Session;
  cursors: number;
  /** The Target of calls sent to this reader (made once). */
  target?: Target;
}

/**
 * `db.pragma()` sources that set a per-connection setting which reads depend on: the pragma's
 * name, when the source assigns it (`name = value` or `name(value)`, maybe schema-qualified).
 */
const CONNECTION_SETTING =
  /^\s*(\w+\.)?(case_sensitive_like|busy_timeout|cache_size|cache_spill|mmap_size|temp_store|reverse_unordered_selects|automatic_index|threads|analysis_limit|trusted_schema|cell_size_check|full_column_names|short_column_names)\s*(?:=|\()/i;

/**
 * SQL that takes the database out of WAL mode (`journal_mode` set to anything but WAL) or makes
 * the writer lock the file for good (`locking_mode = EXCLUSIVE`): SQLite allows either only to a
 * connection alone on the database, so the readers close first (see #withoutReaders).
 */
export const STOPS_READERS =
  /\b(?:journal_mode\s*(?:=|\()\s*(?!['"`[]?\s*wal\b)|locking_mode\s*(?:=|\()\s*['"`[]?\s*exclusive\b)/i;

/**
 * SQL that may open a transaction on the writer: a statement that starts with `BEGIN` or
 * `SAVEPOINT` (after comments). Until such a call has run, the writer's state does not say so
 * yet: the reads made meanwhile stay on the writer (see #pickReader). Only a statement's first
 * word counts, so that a column named `begin` does not keep reads off the readers.
 */
export const OPENS_TRANSACTION =
  /(?:^|;)\s*(?:(?:--[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)\s*)*(?:begin|savepoint)\b/i;

/** Where a call went: the session, and the reader slot when it was a reader. */
export interface Target {
  session: Session;
  reader: ReaderSlot | undefined;
}

/** Internal access for Statement, transactions and the client. */
export const kInternals = Symbol('unblock.better-sqlite3.internals');

/**
 * User-defined functions travel to the workers as source text (self-contained) or as a
 * `{ module, export }` reference the workers import.
 *
 * @example
 * ```ts
 * db.function('slug', { module: new URL('./udfs.js', import.meta.url), export: 'slug' });
 * ```
 */
export type UserFunction = ((...args: never[]) => unknown) | FunctionReference;

/**
 * Options of {@link Database.function}.
 *
 * @example
 * ```ts
 * db.function('add', { deterministic: true }, (a, b) => a + b);
 * ```
 */
export interface FunctionOptions {
  varargs?: boolean;
  deterministic?: boolean;
  directOnly?: boolean;
  safeIntegers?: boolean;
  /** Arity of a function given as a module reference (a function's own is its `length`). */
  length?: number;
}

/**
 * Options of {@link Database.aggregate}.
 *
 * @example
 * ```ts
 * db.aggregate('addAll', { start: 0, step: (total, next) => total + next });
 * ```
 */
export interface AggregateOptions extends FunctionOptions {
  start?: unknown;
  step: UserFunction;
  inverse?: UserFunction;
  result?: UserFunction;
  /** Arity of `start` / `step` / `inverse` when they are module references (their `length`). */
  length?: number;
}

/**
 * Options of {@link Database.backup}.
 *
 * @example
 * ```ts
 * await db.backup('backup.db', { progress: ({ remainingPages }) => (remainingPages > 1000 ? 500 : 100) });
 * ```
 */
export interface BackupOptions {
  attached?: string;
  /** Runs in the worker thread, so it must be self-contained (or a `{ module, export }`). */
  progress?:
    ((info: { totalPages: number; remainingPages: number }) => number | void) | FunctionReference;
}

/**
 * What `db.backup()` resolves to.
 *
 * @example
 * ```ts
 * const { totalPages, remainingPages }: BackupMetadata = await db.backup('backup.db');
 * ```
 */
export interface BackupMetadata {
  totalPages: number;
  remainingPages: number;
}

/** The "not open" errors this module made: the uniform client maps them to PoolClosedError. */
const notOpenErrors = new WeakSet<object>();

function notOpen(): TypeError {
  const error = new TypeError('The database connection is not open');
  notOpenErrors.add(error);
  return error;
}

/**
 * @internal Whether `err` is the driver's "not open" TypeError raised because the database was
 * closed (the drop-in keeps it; the uniform client reports PoolClosedError instead).
 */
export function isNotOpenError(err: unknown): boolean {
  return typeof err === 'object' && err !== null && notOpenErrors.has(err);
}

/**
 * What the worker's `query` operation answers: rows (with the statement's kind and its column
 * names: the rows' own columns leave out `__proto__`) or a run result.
 */
export type QueryReply =
  | (ReceivedRows & { extra: { reader: boolean; readonly: boolean; names: string[] } })
  | { reader: false; readonly: boolean; changes: number; lastInsertRowid: number | bigint };

function busyDatabase(): TypeError {
  return new TypeError('This database connection is busy executing a query');
}

/** The arity of `fn` (a module reference's is `explicit`), checked as the driver does. */
function functionLength(fn: unknown, explicit: number | undefined): number {
  return checkedLength(typeof fn === 'function' ? fn.length : (explicit ?? 0));
}

/** Waits for `promise`, or rejects with an AbortError (still queued) once `signal` aborts. */
function unlessAborted(
  promise: Promise<unknown>,
  signal: AbortSignal | undefined,
): Promise<unknown> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(new AbortError('queued', signal.reason));
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(new AbortError('queued', signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** What a reader call still running when close()'s grace period ends rejects with. */
function closedBeforeCallFinished(): PoolClosedError {
  return new PoolClosedError('The pool closed before the call finished');
}

/** Waits for `promise` to settle, for at most `ms` milliseconds; whether it did. */
async function settledWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const elapsed = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise.then(settled, settled), elapsed]);
  } finally {
    clearTimeout(timer);
  }
}

const settled = (): true => true;

/**
 * Whether a failed call never ran, so that it may be sent again: a broken session refused it up
 * front, or its worker exited (terminated to stop the call before it, or crashed) before it
 * started.
 */
function neverRan(err: unknown): boolean {
  return (
    err instanceof SessionBrokenError || (err instanceof WorkerExitedError && err.started === false)
  );
}

function isUserFunction(value: unknown): value is UserFunction {
  if (typeof value === 'function') return true;
  const ref = value as Partial<FunctionReference> | null;
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof ref?.export === 'string' &&
    ref.module !== undefined
  );
}

/** The flags of `function()` and `aggregate()`, checked in the driver's order. */
function functionFlags(options: object): Record<string, unknown> {
  const safeIntegers =
    'safeIntegers' in options ? booleanOption(options, 'safeIntegers') : undefined;
  const flags: Record<string, unknown> = {
    deterministic: booleanOption(options, 'deterministic'),
    directOnly: booleanOption(options, 'directOnly'),
    varargs: booleanOption(options, 'varargs'),
  };
  if (safeIntegers !== undefined) flags.safeIntegers = safeIntegers;
  return flags;
}

/**
 * A SQLite database, opened in a worker thread: better-sqlite3's API with every call returning
 * a promise. File databases in WAL mode get reader connections on further threads, so reads
 * run in parallel with each other and with writes.
 *
 * @example
 * ```ts
 * import Database from '@unblock/better-sqlite3';
 * const db = new Database('app.db');
 * await db.exec('create table if not exists t (x)');
 * const stmt = await db.prepare('insert into t values (?)');
 * console.log(await stmt.run(42)); // { changes: 1, lastInsertRowid: 1 }
 * await db.close();
 * ```
 */
export class Database {
  /** The driver's error class (also exported as `SqliteError`). */
  static SqliteError: typeof SqliteError = SqliteError;

  /**
   * Resolves once the connection is open; rejects with the driver's error when it cannot
   * open (every call made before then waits for it, and fails the same way).
   *
   * @example
   * ```ts
   * const db = new Database('app.db', { fileMustExist: true });
   * await db.ready; // rejects with SqliteError SQLITE_CANTOPEN when app.db is missing
   * ```
   */
  readonly ready: Promise<this>;

  readonly #options: ParsedOptions;
  readonly #pool: Pool<ConnectionOptions>;
  readonly #state = new Int32Array(
    new SharedArrayBuffer(STATE_SLOTS * Int32Array.BYTES_PER_ELEMENT),
  );
  #writer: Session | undefined;
  #writerTarget: Target | undefined;
  #writerOpening: Promise<Session> | undefined;
  #readers: ReaderSlot[] = [];
  #readersOpening = false;
  /** Settles when the readers being opened are open (or failed): close waits for it. */
  #readersOpened: Promise<void> | undefined;
  /** Calls under way that need the writer alone (see #withoutReaders): no reader opens or reads. */
  #readersHeld = 0;
  /** Settles once the readers that #closeReaders took out have closed. */
  #readersClosed: Promise<unknown> | undefined;
  #setup: SetupStep[] = [];
  #setupFailure: unknown;
  /** Settles once the setup steps sent so far have run on the writer: the next call waits for it. */
  #setupPending: Promise<void> | undefined;
  #unsafe = false;
  /** Calls in flight on the writer that may open a transaction (see OPENS_TRANSACTION). */
  #opening = 0;
  /** Settles once the calls counted in #opening so far have settled. */
  #openingSettled: Promise<void> = Promise.resolve();
  /** Setup steps a connection ran (see #openSession). */
  #setupRan = new WeakSet<SetupStep>();
  /** Iterators open on the writer connection (as the caller sees them): the driver's "iterating" state. */
  #writerIterators = 0;
  /**
   * The writer of a transaction whose rollback its driver refused because `fn` left an iterator
   * open there: rolled back as soon as the last iterator on the writer closes (see #iterating).
   */
  #rollbackWhenIterated: Session | undefined;
  /** Iterators not yet ended, on any connection: as in the driver, they forbid `close()`. */
  #openIterators = 0;
  #failed: unknown;
  #closed = false;
  /**
   * A transaction function was created. The driver prepares its BEGIN, COMMIT... with the first
   * one and keeps them, so once one was made, `transaction()` still makes them after `close()`
   * (calling them fails).
   */
  #transactionCreated = false;
  #closing: Promise<this> | undefined;
  /** Set while a transaction holds the writer: outside writes wait for it. */
  #gate: Promise<void> | undefined;
  /**
   * The gate is held by a transaction function nested (as a savepoint) in a transaction opened
   * with raw SQL: outside reads wait for it too, to run in that transaction, which is theirs.
   */
  #gateOverRaw = false;
  readonly #callOptions: CallOptions | undefined;
  #safeIntegers = false;
  #opened = false;
  #internals: DatabaseInternals | undefined;
  readonly #prepared = new Map<string, [reader: boolean, readonly: boolean]>();

  constructor(filename?: string | Buffer, options?: DatabaseOptions) {
    const parsed = parseDatabaseArguments(filename, options);
    this.#options = parsed;
    this.#callOptions =
      parsed.defaultQueryTimeout === undefined
        ? undefined
        : { timeout: parsed.defaultQueryTimeout };
    const readers = parsed.anonymous || parsed.buffer !== undefined ? 0 : parsed.readers;
    const interrupt = interruptHook(parsed.interrupt);
    this.#pool = createPool<ConnectionOptions>({
      driver: workerModule,
      threads: 1 + readers,
      // Core calls the hook again every millisecond while the call runs: once the cursor is
      // closed, the interrupt goes through.
      interrupt:
        interrupt &&
        ((token) => {
          this.#markWriterInterrupted(token);
          return this.#cursorOpenOn(token) || interrupt(token);
        }),
      // Cursors are the only handles: held across calls, so they are what leak reports watch.
      leaseKinds: ['cursor'],
      maxQueue: parsed.pool.maxQueue,
      leakDetectionThreshold: parsed.pool.leakDetectionThreshold,
      closeTimeout: parsed.pool.closeTimeout,
      workerNice: parsed.pool.workerNice,
      name: `better-sqlite3 ${parsed.filenameGiven || '(temporary)'}`,
    });
    this.ready = this.#writerSession().then(
      () => {
        this.#opened = true;
        this.#maybeOpenReaders();
        return this;
      },
      (err: unknown) => {
        this.#failed = err;
        void this.#pool.close();
        throw err;
      },
    );
    // The failure also reaches every call; unobserved, it must not crash the process.
    this.ready.catch(() => undefined);
  }

  /**
   * Opens a database and waits until it is ready.
   *
   * @example
   * ```ts
   * const db = await Database.open('app.db', { fileMustExist: true });
   * ```
   */
  static async open(filename?: string | Buffer, options?: DatabaseOptions): Promise<Database> {
    const db = new this(filename, options);
    await db.ready;
    return db;
  }

  /**
   * False once `close()` was called or the database failed to open (true while opening).
   *
   * @example
   * ```ts
   * await db.close();
   * console.log(db.open); // false
   * ```
   */
  get open(): boolean {
    return !this.#closed && this.#failed === undefined;
  }

  /**
   * Whether the writer connection is inside a transaction (kept current by the worker, in
   * shared memory, so it is read synchronously; raw `BEGIN` included).
   *
   * @example
   * ```ts
   * await db.exec('begin');
   * console.log(db.inTransaction); // true
   * ```
   */
  get inTransaction(): boolean {
    // A writer whose worker exited took its transaction with it (its last word is stale); a
    // closed database has none, as in the driver, even while its close() is under way.
    return (
      !this.#closed && this.#state[StateSlot.inTransaction] === 1 && this.#writer?.ended !== true
    );
  }

  /**
   * The filename, as given (untrimmed).
   *
   * @example
   * ```ts
   * console.log(new Database('app.db').name); // 'app.db'
   * ```
   */
  get name(): string {
    return this.#options.filenameGiven;
  }

  /**
   * Whether the database is in memory or temporary.
   *
   * @example
   * ```ts
   * console.log(new Database(':memory:').memory); // true
   * ```
   */
  get memory(): boolean {
    return this.#options.anonymous;
  }

  /**
   * Whether the database was opened read-only.
   *
   * @example
   * ```ts
   * console.log(new Database('app.db', { readonly: true }).readonly); // true
   * ```
   */
  get readonly(): boolean {
    return this.#options.readonly;
  }

  /**
   * Prepares a statement. Its `reader`, `readonly` and `source` are known once it resolves.
   * The type parameters are @types/better-sqlite3's: the parameters (an array of them, or the
   * one object of named ones) and the type of a row.
   *
   * @example
   * ```ts
   * const stmt = await db.prepare('select * from users where id = ?');
   * const user = await stmt.get(1);
   * const byName = await db.prepare<{ name: string }, User>('select * from users where name = @name');
   * const ann: User | undefined = await byName.get({ name: 'Ann' });
   * ```
   */
  prepare<BindParameters extends unknown[] | NonNullable<unknown> = unknown[], Result = unknown>(
    sql: string,
  ): Promise<StatementOf<NoInfer<BindParameters>, NoInfer<Result>>> {
    if (typeof sql !== 'string') throw new TypeError('Expected first argument to be a string');
    if (this.#closed) return Promise.reject(notOpen());
    const known = this.#knownStatement(sql);
    if (known !== undefined) return Promise.resolve(known as StatementOf<BindParameters, Result>);
    const safe = this.#safeIntegers;
    return this.#call(Route.meta, 'prepare', [sql]).then((meta) => {
      const [reader, readonly] = meta as [boolean, boolean];
      if (this.#prepared.size >= 512)
        this.#prepared.delete(this.#prepared.keys().next().value as string);
      this.#prepared.set(sql, [reader, readonly]);
      return new Statement(kCreate, this, sql, reader, readonly, safe) as StatementOf<
        BindParameters,
        Result
      >;
    });
  }

  /**
   * Runs one or more statements separated by semicolons.
   *
   * @example
   * ```ts
   * await db.exec('create table a (x); create table b (y);');
   * ```
   */
  exec(sql: string): Promise<this> {
    // Not `async`: an argument error is thrown here, as the driver does, not a rejection.
    if (typeof sql !== 'string') throw new TypeError('Expected first argument to be a string');
    // Refused before `verbose` hears of it, as the driver logs only what it runs.
    if (this.#closed) return Promise.reject(notOpen());
    const busy = this.#iteratingError(true);
    if (busy !== undefined) return Promise.reject(busy);
    this.#options.verbose?.call(this, sql);
    if (STOPS_READERS.test(sql))
      return this.#withoutReaders(() => this.#call(Route.write, 'exec', [sql])).then(() => this);
    const sent = this.#call(Route.write, 'exec', [sql]);
    return (OPENS_TRANSACTION.test(sql) ? this.#whileOpening(sent) : sent).then(() => this);
  }

  /**
   * Runs `PRAGMA source`; with `simple`, resolves to the first column of the first row.
   *
   * @example
   * ```ts
   * await db.pragma('journal_mode = WAL');
   * const version = await db.pragma('user_version', { simple: true });
   * ```
   */
  pragma(source: string, options?: { simple?: boolean }): Promise<unknown> {
    const opts = (options ?? {}) as object;
    if (typeof source !== 'string') throw new TypeError('Expected first argument to be a string');
    if (typeof opts !== 'object')
      throw new TypeError('Expected second argument to be an options object');
    const simple = booleanOption(opts, 'simple');
    if (this.#closed) return Promise.reject(notOpen());
    const busy = this.#iteratingError(true);
    if (busy !== undefined) return Promise.reject(busy);
    this.#options.verbose?.call(this, `PRAGMA ${source}`);
    const send = (): Promise<unknown> => this.#call(Route.write, 'pragma', [source, simple]);
    const sent = STOPS_READERS.test(source) ? this.#withoutReaders(send) : send();
    const result = sent.then((value) => {
      this.#maybeOpenReaders();
      return value;
    });
    // Sent to the readers now, so that a read made after this call, awaited or not, sees it.
    this.#shareSetting(source);
    return result;
  }

  /**
   * A connection setting that reads depend on goes to the readers too (and to connections
   * opened later), as on better-sqlite3's single connection, in order with the calls made after
   * it. It replaces an earlier setting of the same pragma.
   */
  #shareSetting(source: string): void {
    const match = CONNECTION_SETTING.exec(source);
    if (match === null || this.#closed) return;
    // The setting of one schema (main.cache_size and aux.cache_size are two).
    const name = `${match[1] ?? ''}${match[2]}`.toLowerCase();
    const step: SetupStep = { k: 'pragma', name, source };
    // The writer ran it: connections opened later take it with their opening.
    this.#setupRan.add(step);
    const earlier = this.#setup.findIndex((s) => s.k === 'pragma' && s.name === name);
    if (earlier === -1) this.#setup.push(step);
    else this.#setup[earlier] = step;
    // The writer ran it already. Best effort on the readers: one that refuses it keeps its own.
    this.#sendToReaders(step, true);
  }

  /**
   * Wraps `fn` in a transaction: BEGIN, then `fn` (which may be async), then COMMIT, or
   * ROLLBACK when it throws. Every call made inside `fn`'s async context runs in the
   * transaction; writes from elsewhere wait for it. Nested calls use savepoints.
   *
   * @example
   * ```ts
   * const transfer = db.transaction(async (from: number, to: number, amount: number) => {
   *   await debit.run(amount, from);
   *   await credit.run(amount, to);
   * });
   * await transfer.immediate(1, 2, 100);
   * ```
   */
  transaction<A extends unknown[], R>(fn: (...args: A) => R): Transaction<A, Awaited<R>> {
    if (typeof fn !== 'function') throw new TypeError('Expected first argument to be a function');
    // The driver prepares its BEGIN with the first transaction function, which a closed
    // database refuses; later ones reuse it.
    if (this.#closed && !this.#transactionCreated) throw notOpen();
    this.#transactionCreated = true;
    return createTransaction(this, (begin, self, args) =>
      this.#runTransaction(begin, fn, self, args),
    );
  }

  /**
   * Serializes the database into a Buffer (what `new Database(buffer)` opens).
   *
   * @example
   * ```ts
   * const copy = new Database(await db.serialize());
   * ```
   */
  serialize(options?: { attached?: string }): Promise<Buffer> {
    const opts = (options ?? {}) as Record<string, unknown>;
    if (typeof opts !== 'object')
      throw new TypeError('Expected first argument to be an options object');
    const attached = 'attached' in opts ? opts.attached : 'main';
    if (typeof attached !== 'string')
      throw new TypeError('Expected the "attached" option to be a string');
    if (!attached) throw new TypeError('The "attached" option cannot be an empty string');
    const busy = this.#iteratingError(false);
    if (busy !== undefined) return Promise.reject(busy);
    return this.#call(Route.write, 'serialize', [{ attached }]) as Promise<Buffer>;
  }

  /**
   * Backs the database up to a file. `progress` runs in the worker thread (see docs/api.md).
   *
   * @example
   * ```ts
   * const { totalPages } = await db.backup(`backup-${Date.now()}.db`);
   * ```
   */
  async backup(destination: string, options?: BackupOptions): Promise<BackupMetadata> {
    const opts = (options ?? {}) as Record<string, unknown>;
    if (typeof destination !== 'string')
      throw new TypeError('Expected first argument to be a string');
    if (typeof opts !== 'object')
      throw new TypeError('Expected second argument to be an options object');
    const filename = destination.trim();
    const attached = 'attached' in opts ? opts.attached : 'main';
    const progress = 'progress' in opts ? opts.progress : null;
    if (!filename) throw new TypeError('Backup filename cannot be an empty string');
    if (filename === ':memory:') throw new TypeError('Invalid backup filename ":memory:"');
    if (typeof attached !== 'string')
      throw new TypeError('Expected the "attached" option to be a string');
    if (!attached) throw new TypeError('The "attached" option cannot be an empty string');
    if (progress != null && !isUserFunction(progress)) {
      throw new TypeError('Expected the "progress" option to be a function');
    }
    await access(dirname(filename)).catch(() => {
      throw new TypeError('Cannot save backup because the directory does not exist');
    });
    const portable = progress == null ? undefined : toPortableFunction(progress, 'progress');
    return (await this.#call(Route.write, 'backup', [
      filename,
      attached,
      portable,
    ])) as BackupMetadata;
  }

  /**
   * Defines a SQL function in every connection (writer, readers, and those opened later). The
   * function is sent to the worker threads: see docs/api.md for what it may use.
   *
   * @example
   * ```ts
   * db.function('add2', { deterministic: true }, (a: number, b: number) => a + b);
   * const three = await (await db.prepare('select add2(1, 2)')).pluck().get();
   * ```
   */
  function(name: string, options: FunctionOptions | UserFunction, fn?: UserFunction): this {
    let opts: unknown = options;
    let impl: unknown = fn;
    if (opts == null) opts = {};
    // As in the driver, a function in second place is the function (whatever follows it).
    if (typeof opts === 'function' || (isUserFunction(opts) && impl === undefined)) {
      impl = opts;
      opts = {};
    }
    if (typeof name !== 'string') throw new TypeError('Expected first argument to be a string');
    if (!isUserFunction(impl)) throw new TypeError('Expected last argument to be a function');
    if (typeof opts !== 'object')
      throw new TypeError('Expected second argument to be an options object');
    if (!name) throw new TypeError('User-defined function name cannot be an empty string');
    const flags = functionFlags(opts as object);
    // As in the driver, a varargs function's length is not looked at.
    const length = flags.varargs ? 0 : functionLength(impl, (opts as FunctionOptions).length);
    if (length > 100) {
      throw new RangeError('User-defined functions cannot have more than 100 arguments');
    }
    delete (flags as { length?: number }).length;
    this.#addSetup({
      k: 'function',
      name,
      options: flags,
      fn: toPortableFunction(impl, name),
      length,
    });
    return this;
  }

  /**
   * Defines an aggregate (or window) function in every connection.
   *
   * @example
   * ```ts
   * db.aggregate('addAll', { start: 0, step: (total: number, next: number) => total + next });
   * ```
   */
  aggregate(name: string, options: AggregateOptions): this {
    if (typeof name !== 'string') throw new TypeError('Expected first argument to be a string');
    if (typeof options !== 'object' || options === null) {
      throw new TypeError('Expected second argument to be an options object');
    }
    if (!name) throw new TypeError('User-defined function name cannot be an empty string');
    const fnOption = (
      key: 'step' | 'inverse' | 'result',
      required: boolean,
    ): UserFunction | undefined => {
      const value = key in options ? options[key] : null;
      if (isUserFunction(value)) return value;
      if (value != null) throw new TypeError(`Expected the "${key}" option to be a function`);
      if (required) throw new TypeError(`Missing required option "${key}"`);
      return undefined;
    };
    const step = fnOption('step', true)!;
    const inverse = fnOption('inverse', false);
    const result = fnOption('result', false);
    const flags = functionFlags(options);
    const start = 'start' in options ? options.start : null;
    // Sent to every connection a worker opens, now and later: refused now if it cannot cross.
    if (!isUserFunction(start)) assertSendable(start, 'options.start');
    // As in the driver, a varargs aggregate's function lengths are not looked at.
    const lengthOf = (fn: UserFunction | undefined): number =>
      fn === undefined || flags.varargs ? 0 : functionLength(fn, options.length);
    const stepLength = lengthOf(step);
    const inverseLength = lengthOf(inverse);
    if (Math.max(stepLength, inverseLength) - 1 > 100) {
      throw new RangeError('User-defined functions cannot have more than 100 arguments');
    }
    this.#addSetup({
      k: 'aggregate',
      name,
      options: flags,
      start: isUserFunction(start)
        ? { fn: toPortableFunction(start, 'start'), length: functionLength(start, 0) }
        : { value: start },
      step: toPortableFunction(step, 'step'),
      stepLength,
      inverse: inverse === undefined ? undefined : toPortableFunction(inverse, 'inverse'),
      inverseLength,
      result: result === undefined ? undefined : toPortableFunction(result, 'result'),
    });
    return this;
  }

  /**
   * Defines a virtual table in every connection: a definition object (with `rows` a generator
   * function) or a factory function.
   *
   * @example
   * ```ts
   * db.table('series', { columns: ['value'], *rows(n: number) { for (let i = 0; i < n; i++) yield [i]; } });
   * ```
   */
  table(name: string, definition: object | UserFunction): this {
    if (typeof name !== 'string') throw new TypeError('Expected first argument to be a string');
    if (!name) throw new TypeError('Virtual table module name cannot be an empty string');
    if (typeof definition === 'object' && definition !== null && !isUserFunction(definition)) {
      // Checked here, as the driver does at once, rather than by the workers after the call.
      const { rows, columns, options } = checkTableDefinition(
        definition as Record<string, unknown>,
        name,
      );
      this.#addSetup({
        k: 'table',
        name,
        eponymous: true,
        factory: toPortableFunction(rows, 'rows'),
        def: {
          columns,
          rows: toPortableFunction(rows, 'rows'),
          length: rows.length,
          rest: options,
        },
      });
      return this;
    }
    if (!isUserFunction(definition)) {
      throw new TypeError('Expected second argument to be a function or a table definition object');
    }
    this.#addSetup({
      k: 'table',
      name,
      eponymous: false,
      factory: toPortableFunction(definition, name),
      def: undefined,
    });
    return this;
  }

  /**
   * Loads a SQLite extension in every connection. A failure rejects the next call.
   *
   * @example
   * ```ts
   * db.loadExtension('./mod_spatialite');
   * ```
   */
  loadExtension(...args: [path: string, entryPoint?: string]): this {
    const [path, entryPoint] = args;
    if (typeof path !== 'string') throw new TypeError('Expected first argument to be a string');
    // As in the driver, a second argument given (an explicit `undefined` too) must be a string.
    if (args.length > 1 && typeof entryPoint !== 'string') {
      throw new TypeError('Expected second argument to be a string');
    }
    this.#addSetup({ k: 'loadExtension', path, entryPoint });
    return this;
  }

  /**
   * INTEGERs come back as BigInt from statements prepared afterwards (and in UDFs).
   *
   * @example
   * ```ts
   * db.defaultSafeIntegers();
   * ```
   */
  defaultSafeIntegers(...on: [toggle?: boolean]): this {
    const toggle = toggleArgument(on);
    this.#safeIntegers = toggle;
    // The driver allows it on a closed database too (there is no connection left to tell).
    if (!this.#closed) this.#addSetup({ k: 'defaultSafeIntegers', on: toggle });
    return this;
  }

  /**
   * Lifts the driver's safety checks (writes while iterating; DEFENSIVE off).
   *
   * @example
   * ```ts
   * db.unsafeMode();
   * ```
   */
  unsafeMode(...on: [toggle?: boolean]): this {
    const toggle = toggleArgument(on);
    this.#unsafe = toggle;
    if (!this.#closed) this.#addSetup({ k: 'unsafeMode', on: toggle });
    return this;
  }

  /**
   * Closes every connection after the calls in flight, and stops the worker threads.
   * Idempotent; later calls reject with the driver's "not open" TypeError.
   *
   * @example
   * ```ts
   * await db.close();
   * ```
   */
  close(): Promise<this> {
    return this.#close(false);
  }

  /** `force`: close even with iterators open (the uniform client; their cursors are released). */
  #close(force: boolean): Promise<this> {
    if (this.#closing !== undefined) return this.#closing;
    // As in the driver: an open iterator forbids closing, on whichever connection its cursor is.
    const busy = force || this.#openIterators === 0 ? undefined : busyDatabase();
    if (busy !== undefined) return Promise.reject(busy);
    this.#closed = true;
    this.#closing = (async () => {
      await this.#writerOpening?.catch(() => undefined);
      // A worker terminated while it opens a connection (loading native addons) can bring the
      // whole process down, so sessions still opening finish first.
      await this.#readersOpened;
      // The writer closes last. SQLite checkpoints a WAL database and deletes its -wal and -shm
      // files when the last connection to it closes, and only if that one can write: a reader
      // (read-only) closing last would leave them, with commits not yet in the main file. The
      // readers finish their calls first, within the grace period of close; past it, the reads
      // still running are interrupted (or their workers terminated), and the readers closed,
      // before the pool closes the writer.
      const grace = this.#options.pool.closeTimeout ?? 5_000;
      const readers = this.#readers.map((slot) => slot.session);
      // Closing a reader forgets its handles: a cursor left open there (the uniform client's
      // close) is reported now, as the pool reports those of the writer.
      if (force) this.#pool.leaks.reportOpenAtClose();
      const readersClosed = this.#closeReaders();
      if (!(await settledWithin(readersClosed, grace))) {
        for (const session of readers) session.cancelAll(closedBeforeCallFinished);
        await settledWithin(readersClosed, grace);
      }
      await this.#pool.close();
      return this;
    })();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  [inspect.custom](_depth: number, options: object): string {
    const { open, inTransaction, name, memory, readonly } = this;
    return `Database ${inspect({ name, open, inTransaction, readonly, memory }, options)}`;
  }

  /** @internal */
  get [kInternals](): DatabaseInternals {
    return (this.#internals ??= {
      call: (route, op, args) => this.#call(route, op, args),
      send: this.#send.bind(this),
      target: (route) => this.#target(route),
      withoutReaders: (send) => this.#withoutReaders(send),
      whileOpening: (sent) => this.#whileOpening(sent),
      callOptions: this.#callOptions,
      verbose: this.#options.verbose,
      pool: this.#pool,
      iterating: (delta) => this.#iterating(delta),
      iterators: (delta) => (this.#openIterators += delta),
      iteratingError: (unlessUnsafe) => this.#iteratingError(unlessUnsafe),
      mayUseReader: (route) => this.#mayUseReader(route),
      // Bound, not wrapped: one frame less in the caller's stack that core captures per call.
      query: this.#query.bind(this),
      close: (force) => this.#close(force),
      closedError: () => (this.#closed ? notOpen() : undefined),
      knownStatement: (sql) => this.#knownStatement(sql),
    });
  }

  /** Counts iterators open on the writer; sends a rollback held for them once none is left. */
  #iterating(delta: number): void {
    this.#writerIterators += delta;
    const writer = this.#rollbackWhenIterated;
    if (this.#writerIterators > 0 || writer === undefined) return;
    this.#rollbackWhenIterated = undefined;
    // Sent now, in order after the release of the last cursor (posted just before): before any
    // other call can run in the transaction that failed.
    if (!this.#writerGone(writer))
      void runDetached(() => writer.call('tx', ['rollback'])).catch(() => undefined);
  }

  /**
   * The driver's rule while a cursor is open on the connection: `run`, `exec` and `pragma`
   * are refused unless in unsafe mode; `serialize`, `close` and defining functions always are.
   * Checked on the caller's side, because a cursor whose rows were all fetched by the first
   * batch is already finished in the worker while the caller still iterates it.
   */
  #iteratingError(unlessUnsafe: boolean): TypeError | undefined {
    if (this.#writerIterators === 0 || (unlessUnsafe && this.#unsafe) || this.#closed)
      return undefined;
    return busyDatabase();
  }

  #assertNotIterating(unlessUnsafe: boolean): void {
    const busy = this.#iteratingError(unlessUnsafe);
    if (busy !== undefined) throw busy;
  }

  /**
   * `sent`, a writer call that may open a transaction: until it settles, the caller's reads run
   * on the writer, after it, as they would on the driver's one connection (a read made right
   * after an un-awaited `exec('begin')` sees the transaction's writes).
   */
  #whileOpening<T>(sent: Promise<T>): Promise<T> {
    this.#opening++;
    const done = sent.finally(() => {
      // Nothing in flight: what waited for them has gone on, and no chain is kept.
      if (--this.#opening === 0) this.#openingSettled = Promise.resolve();
    });
    const settled = done.then(
      () => undefined,
      () => undefined,
    );
    this.#openingSettled = Promise.all([this.#openingSettled, settled]).then(() => undefined);
    return done;
  }

  /** Whether a call on `route` made now would run on a reader (without reserving it). */
  #mayUseReader(route: RouteCode): boolean {
    if (route !== Route.read || !this.#readersUsable()) return false;
    if (
      this.#gate !== undefined && !this.#gateOverRaw
        ? currentScope(this) !== undefined
        : this.#state[StateSlot.inTransaction] === 1 || this.#opening > 0
    ) {
      return false;
    }
    return this.#readers.some((slot) => slot.cursors === 0 && !slot.session.ended);
  }

  /**
   * @internal The uniform client's query in one round trip. A statement seen before goes
   * through a Statement (its route is known); so does any query while an iterator is open on
   * the writer, or from outside an open transaction (it may be a read for a reader). Otherwise
   * the writer prepares and runs it at once, and says what kind of statement it was. One call
   * instead of `prepare` + `all` matters beyond speed: a caller's timeout then covers the whole
   * query, since the worker answers a batch of calls only when it has run them all.
   */
  #query(sql: string, params: unknown[]): Promise<QueryReply> | undefined {
    if (this.#prepared.has(sql) || this.#iteratingError(true) !== undefined) return undefined;
    // Through a Statement, which closes the readers first.
    if (STOPS_READERS.test(sql)) return undefined;
    if (this.#gate !== undefined && currentScope(this) === undefined) return undefined;
    let args: unknown[];
    try {
      args = bindable(params);
    } catch (err) {
      return Promise.reject(err);
    }
    this.#options.verbose?.call(this, sql);
    const flags = this.#safeIntegers ? SAFE_INTEGERS : 0;
    const callArgs = [sql, flags, args];
    // #target and #send directly (not #call): core keeps the caller's stack from the last few
    // frames only, and the caller's own frames must be among them.
    const target = this.#target(Route.write);
    let sent: Promise<unknown>;
    if (target instanceof Promise) {
      // Sent later: the values are taken now (see Statement's #exec).
      const held = [sql, flags, args.map(copyOf)];
      sent = target.then((t) => this.#send(t, 'query', held));
    } else {
      sent = this.#send(target, 'query', callArgs);
    }
    if (OPENS_TRANSACTION.test(sql)) sent = this.#whileOpening(sent);
    return sent.then((result) => {
      const reply = result as QueryReply;
      const kind = 'columns' in reply ? reply.extra : reply;
      if (this.#prepared.size >= 512)
        this.#prepared.delete(this.#prepared.keys().next().value as string);
      this.#prepared.set(sql, [kind.reader, kind.readonly]);
      return reply;
    });
  }

  #call(route: RouteCode, op: string, args: unknown[]): Promise<unknown> {
    const target = this.#target(route);
    if (target instanceof Promise) return target.then((t) => this.#send(t, op, args));
    return this.#send(target, op, args);
  }

  /**
   * @internal Sends a call; one queued behind a terminated worker is sent again to its
   * replacement. `map` turns the answer into the result, and `onFailure` gets a failure that
   * is not resent: both in the one reaction chained to the call, so the common path costs a
   * single promise (every promise counts once a transaction's AsyncLocalStorage is active).
   */
  #send(
    target: Target,
    op: string,
    args: unknown[],
    map?: (value: unknown) => unknown,
    onFailure?: (err: unknown) => unknown,
  ): Promise<unknown> {
    const result = target.session.call(op, args, this.#callOptions);
    const scope =
      target.reader === undefined && this.#gate !== undefined ? currentScope(this) : undefined;
    if (scope !== undefined) {
      // A call of a transaction: never sent again (its transaction lives on that connection
      // only), and counted until answered, for the transaction to wait for if fn did not (see
      // lateFailure), in the call's one reaction.
      const call = result.then(
        (value) => {
          callAnswered(scope);
          return map === undefined ? value : map(value);
        },
        (err: unknown) => {
          callAnswered(scope, { error: err });
          if (onFailure === undefined) throw err;
          return onFailure(err);
        },
      );
      callMade(scope, call);
      return call;
    }
    // Whether the call belongs to a transaction opened with raw SQL on the writer (read when it
    // is sent: by the time it fails, the transaction may be over). Such a call is never sent again.
    const inTransaction = target.reader === undefined && this.#state[StateSlot.inTransaction] === 1;
    return result.then(map, (err: unknown) => {
      if (onFailure === undefined) return this.#recover(target, op, args, err, map, inTransaction);
      let recovered: Promise<unknown>;
      try {
        recovered = this.#recover(target, op, args, err, map, inTransaction);
      } catch (failure) {
        return onFailure(failure);
      }
      return recovered.catch(onFailure);
    });
  }

  /**
   * A failed call: sent again when that is safe (see #send), else the error is thrown. A call
   * made in a transaction never is: the transaction died with its worker, and the call would run
   * in autocommit mode on the new writer, committing part of the transaction.
   */
  #recover(
    target: Target,
    op: string,
    args: unknown[],
    err: unknown,
    map: ((value: unknown) => unknown) | undefined,
    inTransaction: boolean,
  ): Promise<unknown> {
    if (!neverRan(err) || inTransaction || this.#closed) throw err;
    const again =
      target.reader !== undefined
        ? this.#call(Route.write, op, args)
        : this.#writerSession().then((session) => session.call(op, args, this.#callOptions));
    return map === undefined ? again : again.then(map);
  }

  /** A statement for SQL prepared before, made without a round trip. */
  #knownStatement(sql: string): Statement | undefined {
    const known = this.#prepared.get(sql);
    return known === undefined
      ? undefined
      : new Statement(kCreate, this, sql, known[0], known[1], this.#safeIntegers);
  }

  /**
   * Whether a cursor is open on the connection that `token` names. SQLite keeps an interrupt
   * pending until every statement of the connection has ended, so one delivered there would
   * stop the cursor too (another caller's iterator): the aborted call is rejected, and its
   * statement runs to its end instead.
   */
  #cursorOpenOn(token: unknown): boolean {
    const idOf = (session: Session): unknown =>
      (session.info as ConnectionInfo | undefined)?.interruptId;
    const writer = this.#writer;
    if (writer !== undefined && this.#writerIterators > 0 && idOf(writer) === token) return true;
    return this.#readers.some((slot) => slot.cursors > 0 && idOf(slot.session) === token);
  }

  /**
   * Tells a backup running on the writer that its call was stopped, when `token` names the
   * writer: `sqlite3_interrupt()` stops statements, not the steps of a backup, which would
   * otherwise keep the writer (a `progress` returning 0 asks for no pages, forever).
   */
  #markWriterInterrupted(token: unknown): void {
    const info = this.#writer?.info as ConnectionInfo | undefined;
    if (info !== undefined && info.interruptId === token) {
      Atomics.store(this.#state, StateSlot.interrupted, 1);
    }
  }

  /**
   * Picks the session for a call: synchronously on the hot path, or once it can. A call made in
   * a transaction that must wait (for a setup step such as `db.function()`, or the writer) is
   * sent only later: the transaction waits for it all the same (see lateFailure).
   */
  #target(route: RouteCode): Target | Promise<Target> {
    const target = this.#pickTarget(route);
    if (target instanceof Promise && this.#gate !== undefined) {
      const scope = currentScope(this);
      if (scope !== undefined) {
        callMade(scope, target);
        target.then(
          () => callAnswered(scope),
          (error: unknown) => callAnswered(scope, { error }),
        );
      }
    }
    return target;
  }

  #pickTarget(route: RouteCode): Target | Promise<Target> {
    if (this.#closed) return Promise.reject(notOpen());
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    if (this.#setupPending !== undefined)
      return this.#setupPending.then(() => this.#pickTarget(route));
    if (this.#setupFailure !== undefined) {
      const failure = this.#setupFailure;
      this.#setupFailure = undefined;
      return Promise.reject(failure);
    }
    const scope = this.#gate === undefined ? undefined : currentScope(this);
    const inScope = scope !== undefined;
    const outside = this.#gate !== undefined && !inScope;
    if (scope?.writer !== undefined && this.#writerGone(scope.writer)) {
      // The transaction's worker exited: its later calls would run outside any transaction.
      return Promise.reject(new SessionBrokenError());
    }
    if (route === Route.read && !inScope) {
      // From outside an open transaction, a reader sees the last committed state.
      const reader = this.#pickReader(outside && !this.#gateOverRaw);
      if (reader !== undefined) return (reader.target ??= { session: reader.session, reader });
    }
    if (outside && route !== Route.meta) return this.#gate!.then(() => this.#pickTarget(route));
    const writer = this.#writer;
    if (writer !== undefined && !writer.ended) {
      // One Target per writer session, not one per call.
      if (this.#writerTarget?.session !== writer)
        this.#writerTarget = { session: writer, reader: undefined };
      return this.#writerTarget;
    }
    // Through #target again once open: a setup step added meanwhile holds the calls.
    return this.#writerSession().then(() => this.#pickTarget(route));
  }

  /** Whether reads may go to readers: WAL mode, and no call under way needs the writer alone. */
  #readersUsable(): boolean {
    return this.#state[StateSlot.wal] === 1 && this.#readersHeld === 0;
  }

  /** `outsideTransaction`: the writer's transaction is one of `db.transaction()`, not the caller's. */
  #pickReader(outsideTransaction: boolean): ReaderSlot | undefined {
    if (!this.#readersUsable()) return undefined;
    // A transaction opened with raw SQL (or being opened) holds the caller's own uncommitted
    // writes: stay on the writer (one being opened, whoever else holds a transaction now).
    if (this.#opening > 0) return undefined;
    if (!outsideTransaction && this.#state[StateSlot.inTransaction] === 1) return undefined;
    const readers = this.#readers;
    if (readers.length === 0) {
      this.#maybeOpenReaders();
      return undefined;
    }
    let best: ReaderSlot | undefined;
    for (let i = 0; i < readers.length; i++) {
      const slot = readers[i];
      if (slot.cursors > 0 || slot.session.ended) continue;
      if (best === undefined || slot.session.inFlight < best.session.inFlight) best = slot;
    }
    if (readers.some((slot) => slot.session.ended)) {
      this.#readers = readers.filter((slot) => !slot.session.ended);
    }
    // A reader whose worker exited is replaced once the pool has started a new thread.
    if (this.#readers.length < this.#options.readers) this.#maybeOpenReaders();
    return best;
  }

  #writerSession(): Promise<Session> {
    if (this.#closed) return Promise.reject(notOpen());
    if (this.#writer !== undefined && !this.#writer.ended) return Promise.resolve(this.#writer);
    if (this.#writerOpening === undefined) {
      if (this.#opened && this.#options.anonymous) {
        process.emitWarning(
          'The worker thread of an in-memory database exited (terminated to stop a running statement, or crashed); its data is lost and the database starts empty.',
          { code: 'UNBLOCK_WARN_DATABASE_LOST' },
        );
      }
      this.#writerOpening = this.#openSession(true, undefined).then(
        (session) => {
          this.#writer = session;
          this.#writerOpening = undefined;
          return session;
        },
        (err: unknown) => {
          this.#writerOpening = undefined;
          throw err;
        },
      );
    }
    return this.#writerOpening;
  }

  /** Whether a transaction's writer is gone: its worker exited, or a new writer replaced it. */
  #writerGone(writer: Session): boolean {
    return writer.ended || writer !== this.#writer;
  }

  #maybeOpenReaders(): void {
    const o = this.#options;
    const wanted = o.anonymous || o.buffer !== undefined ? 0 : o.readers;
    if (this.#readersOpening || this.#closed || !this.#opened || !this.#readersUsable()) return;
    if (this.#readers.length >= wanted) return;
    const writerThread = this.#writer?.threadId;
    const busy = new Set(this.#readers.map((slot) => slot.session.threadId));
    const threads = this.#pool.threadIds().filter((id) => id !== writerThread && !busy.has(id));
    if (threads.length === 0) return;
    this.#readersOpening = true;
    this.#readersOpened = (async () => {
      try {
        const missing = wanted - this.#readers.length;
        const opened = await Promise.all(
          threads
            .slice(0, missing)
            .map((threadId) => this.#openSession(false, threadId).catch(() => undefined)),
        );
        for (const session of opened) {
          if (session === undefined) continue;
          if (this.#closed) void session.close().catch(() => undefined);
          else this.#readers.push({ session, cursors: 0 });
        }
      } finally {
        this.#readersOpening = false;
      }
    })();
  }

  /**
   * Runs `send` (a call on the writer) with the readers closed: leaving WAL mode or locking the
   * file exclusively needs the writer alone on the database, and a reader that has read keeps
   * the WAL open (and its lock) until it closes. Calls made from now on wait until the readers
   * have finished their reads and closed (as calls wait for a setup step), then run in order, on
   * the writer, as for a database not in WAL mode. Once `send` settles, readers come back if the
   * database is (still, or again) in WAL mode with normal locking.
   *
   * Refused with the driver's "busy" TypeError while a reader holds a cursor of the caller's
   * (an iterator not finished): better-sqlite3 refuses `pragma()` and `exec()` while any of its
   * iterators is open, and waiting for the iterator instead would never end when the caller
   * finishes it only after this call resolves.
   */
  #withoutReaders(send: () => Promise<unknown>): Promise<unknown> {
    if (this.#readers.some((slot) => slot.cursors > 0 && !slot.session.ended))
      return Promise.reject(busyDatabase());
    if (this.#readers.length > 0 || this.#readersOpening) {
      const pending = Promise.all([this.#setupPending, this.#closeReaders()]).then(() => {
        if (this.#setupPending === pending) this.#setupPending = undefined;
      });
      this.#setupPending = pending;
    }
    this.#readersHeld++;
    const release = (): void => {
      this.#readersHeld--;
      this.#maybeOpenReaders();
    };
    let sent: Promise<unknown>;
    try {
      sent = send();
    } catch (err) {
      release();
      throw err;
    }
    return sent.finally(release);
  }

  /**
   * Closes the readers (each after its calls in flight) and those still opening; settles once
   * they are closed, and so are those an earlier call was closing.
   */
  async #closeReaders(): Promise<void> {
    await this.#readersOpened;
    const slots = this.#readers;
    this.#readers = [];
    const closing = slots.map((slot) => slot.session.close().catch(() => undefined));
    this.#readersClosed = Promise.all([this.#readersClosed, ...closing]);
    await this.#readersClosed;
  }

  async #openSession(writer: boolean, threadId: number | undefined): Promise<Session> {
    const o = this.#options;
    // Only steps a connection ran go with the opening: one that fails there would fail the
    // opening, and every later one (a writer reopened after its worker exited, with a
    // `loadExtension()` made meanwhile of a file that is not there). The others follow it.
    const given = this.#setup.filter((step) => this.#setupRan.has(step));
    const session = await this.#pool.openSession(
      {
        filename: o.filename,
        buffer:
          o.buffer === undefined
            ? undefined
            : new Uint8Array(o.buffer.buffer, o.buffer.byteOffset, o.buffer.byteLength),
        readonly: writer ? o.readonly : true,
        fileMustExist: writer ? o.fileMustExist : true,
        timeout: o.timeout,
        nativeBinding: o.nativeBinding,
        interrupt: o.interrupt,
        state: writer ? this.#state : undefined,
        setup: given,
      },
      { threadId },
    );
    // Steps no connection ran yet, or added or replaced (a setting set again) while it opened:
    // sent now, before any call can reach the session. Compared by identity, as a step that
    // failed meanwhile was removed and shifted the others. A reader's failure is not reported:
    // the writer had the step too, and reported its own.
    const sent = new Set(given);
    const late = this.#setup
      .filter((step) => !sent.has(step))
      .map((step) => this.#sendSetup(session, step, !writer));
    // As for a step added later (`loadExtension()` right after the constructor, or while the
    // writer was gone), the next call waits for the writer's outcome, so a failure rejects the
    // first call made after it, not the second, and the step is dropped.
    if (writer && late.length > 0) this.#holdCallsUntil(Promise.all(late));
    return session;
  }

  #addSetup(step: SetupStep): void {
    if (this.#closed) throw notOpen();
    if (refusedWhileIterating(step)) this.#assertNotIterating(false);
    this.#dropSuperseded(step);
    this.#setup.push(step);
    if (this.#writer !== undefined && !this.#writer.ended) {
      // The next call waits for the writer's outcome, so a failure (a missing extension)
      // rejects the first call made after it, not a later one.
      this.#holdCallsUntil(this.#sendSetup(this.#writer, step));
      // The writer's outcome is the one reported: the readers fail the same way, and their
      // copies of the error would reject later, unrelated calls.
      this.#sendToReaders(step, true);
    } else this.#sendToReaders(step, false);
  }

  /**
   * The steps are kept for the connections opened later, which replay them in order. A toggle
   * that `step` overrides before any step depended on it is dropped, so that toggling in a loop
   * (`unsafeMode()` around each bulk write) does not grow the list, and every opening, for good:
   * `unsafeMode` changes nothing the other steps do, and `defaultSafeIntegers` only the default
   * of the functions, aggregates and tables defined after it.
   */
  #dropSuperseded(step: SetupStep): void {
    if (step.k !== 'unsafeMode' && step.k !== 'defaultSafeIntegers') return;
    for (let i = this.#setup.length - 1; i >= 0; i--) {
      const { k } = this.#setup[i]!;
      if (k === step.k) {
        this.#setup.splice(i, 1);
        return;
      }
      if (
        step.k === 'defaultSafeIntegers' &&
        (k === 'function' || k === 'aggregate' || k === 'table')
      )
        return;
    }
  }

  /** Makes calls made from now on wait until `done` settles (and what they waited for before). */
  #holdCallsUntil(done: Promise<unknown>): void {
    const pending = Promise.all([this.#setupPending, done]).then(() => {
      if (this.#setupPending === pending) this.#setupPending = undefined;
    });
    this.#setupPending = pending;
  }

  /** Sends a setup step to the open readers; `bestEffort` as in #sendSetup. */
  #sendToReaders(step: SetupStep, bestEffort: boolean): void {
    for (const slot of this.#readers)
      if (!slot.session.ended) void this.#sendSetup(slot.session, step, bestEffort);
  }

  /**
   * Sends a setup step; settles (never rejects) once it ran, recording a failure for the next
   * call unless `bestEffort` (then a failure is ignored).
   */
  #sendSetup(session: Session, step: SetupStep, bestEffort = false): Promise<void> {
    return session.call('setup', [step]).then(
      () => void this.#setupRan.add(step),
      (err: unknown) => {
        const gone = err instanceof WorkerExitedError || err instanceof SessionBrokenError;
        if (bestEffort || gone) return;
        this.#setupFailure ??= err;
        // As in the driver, a failed step leaves nothing behind. Kept, it would be replayed on
        // every connection opened later, whose opening it would fail: readers would never come
        // (when the database enters WAL mode), and a writer whose worker exited never reopen.
        const index = this.#setup.indexOf(step);
        if (index !== -1) this.#setup.splice(index, 1);
      },
    );
  }

  async #runTransaction(
    begin: string,
    fn: (...args: never[]) => unknown,
    self: unknown,
    args: unknown[],
  ): Promise<unknown> {
    // As in the driver, BEGIN (or SAVEPOINT) is refused while an iterator is open on the writer.
    this.#assertNotIterating(true);
    const outer = currentScope(this);
    if (outer !== undefined) {
      // A call of the outer transaction like any other: waited for if its fn did not.
      const nested = this.#runSavepoint(outer, fn, self, args, (failure) =>
        callAnswered(outer, failure),
      );
      callMade(outer, nested);
      return nested;
    }
    await this.ready;
    // The signal of withCallOptions() around the transaction: every call in it carries it too.
    const signal = currentCallOptions()?.signal;
    // A BEGIN sent but not yet run (an un-awaited `exec('begin')`) is waited for: in the driver
    // it has run, and this transaction nests in it as a savepoint. Those in flight now only: a
    // stream of later ones must not keep this transaction waiting.
    if (this.#opening > 0) await unlessAborted(this.#openingSettled, signal);
    // No await between this loop and taking the gate, so two transactions cannot both pass.
    while (this.#gate !== undefined) await unlessAborted(this.#gate, signal);
    if (this.inTransaction) {
      // A transaction opened with raw SQL: like the driver, nest with a savepoint. The gate
      // keeps another transaction function (from another async context) out until it ends:
      // two savepoints of the same name, interleaved, would release or undo each other's.
      const openGate = this.#closeGate(true);
      try {
        return await this.#runSavepoint(undefined, fn, self, args);
      } finally {
        openGate();
      }
    }
    const openGate = this.#closeGate(false);
    const scope = newScope(this);
    const release = (): void => {
      if (scope.done) return;
      scope.done = true;
      openGate();
    };
    let rolledBack: Promise<TypeError | undefined> | undefined;
    // Aborted: rolled back at once, not when fn next touches the database (its later calls
    // carry the aborted signal and reject), and writes from outside need not wait for fn.
    const onAbort = (): void => {
      rolledBack ??= this.#undo('rollback', scope.writer);
      release();
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      try {
        await runInScope(scope, () => this.#begin(scope, begin));
        const result = await runInScope(scope, () => fn.apply(self, args as never[]));
        await lateFailure(scope);
        if (signal?.aborted) throw new AbortError('running', signal.reason);
        // As in the driver, COMMIT (RELEASE) is refused while fn left an iterator open; thrown
        // inside the transaction, so it is rolled back rather than left open.
        this.#assertNotIterating(true);
        // From here on the outcome is COMMIT's: neither the signal nor a timeout covers it. A
        // COMMIT aborted while running (waiting for a lock, say) still commits in the worker,
        // and the caller would be told the transaction was aborted when it was not.
        signal?.removeEventListener('abort', onAbort);
        const target = await runInScope(scope, () => this.#target(Route.write));
        await runDetached(() => target.session.call('tx', ['commit']));
        return result;
      } catch (err) {
        adoptCalls(scope);
        const refused = await (rolledBack ??= this.#undo('rollback', scope.writer));
        // As in the driver, a ROLLBACK it refuses throws its own error in place of fn's (an
        // abort keeps its AbortError).
        throw refused !== undefined && !(err instanceof AbortError) ? refused : err;
      }
    } finally {
      signal?.removeEventListener('abort', onAbort);
      release();
    }
  }

  /**
   * Makes calls from outside the transaction wait (see #target) until the returned function
   * runs; `overRaw`: the transaction is a savepoint in one opened with raw SQL.
   */
  #closeGate(overRaw: boolean): () => void {
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    this.#gate = gate;
    this.#gateOverRaw = overRaw;
    return () => {
      if (this.#gate === gate) {
        this.#gate = undefined;
        this.#gateOverRaw = false;
      }
      open();
    };
  }

  /**
   * Sends BEGIN and records the writer it ran on as the transaction's. A BEGIN queued behind a
   * call whose worker core terminated never ran: it is sent once more, to the new writer.
   */
  async #begin(scope: TxScope, begin: string): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      scope.writer = undefined;
      const target = await this.#target(Route.write);
      scope.writer = target.session;
      try {
        await target.session.call('tx', [begin], this.#callOptions);
        return;
      } catch (err) {
        if (!neverRan(err) || attempt > 0 || this.#closed) throw err;
      }
    }
  }

  async #runSavepoint(
    outer: TxScope | undefined,
    fn: (...args: never[]) => unknown,
    self: unknown,
    args: unknown[],
    ended?: (failure?: { error: unknown }) => void,
  ): Promise<unknown> {
    const unlock = outer === undefined ? () => undefined : await lockScope(outer);
    const scope = newScope(this, outer === undefined ? this.#writer : outer.writer);
    let failure: { error: unknown } | undefined;
    // Whether SAVEPOINT ran: one that did not (aborted while queued, or failed) leaves nothing
    // to undo, and its ROLLBACK TO would reach the savepoint of an outer transaction function
    // (they all have the same name) and undo that one's work instead.
    let made = false;
    try {
      try {
        await runInScope(scope, () => this.#call(Route.write, 'tx', ['savepoint'])).catch(
          (err: unknown) => {
            // Aborted while running: it runs to its end all the same.
            made = err instanceof AbortError && err.state === 'running';
            throw err;
          },
        );
        made = true;
        const result = await runInScope(scope, () => fn.apply(self, args as never[]));
        await lateFailure(scope);
        // As in the driver, COMMIT (RELEASE) is refused while fn left an iterator open; thrown
        // inside the transaction, so it is rolled back rather than left open.
        this.#assertNotIterating(true);
        await runInScope(scope, () => this.#call(Route.write, 'tx', ['release']));
        return result;
      } catch (err) {
        adoptCalls(scope);
        failure = { error: err };
        if (made) await this.#undo('rollbackTo', scope.writer);
        throw err;
      }
    } finally {
      scope.done = true;
      unlock();
      ended?.(failure);
    }
  }

  /**
   * Rolls back outside every async-local scope (an aborted signal must not stop it) and
   * without a timeout, on the writer the transaction began on. A writer whose worker died has
   * nothing left to roll back (and its replacement has no transaction of ours to undo).
   */
  /**
   * Rolls back (`rollback`) or undoes a savepoint (`rollbackTo`), never aborted. Resolves to the
   * driver's refusal of a ROLLBACK while fn left an iterator open (the rollback then waits for
   * that iterator), else to undefined.
   */
  async #undo(
    step: 'rollback' | 'rollbackTo',
    writer: Session | undefined,
  ): Promise<TypeError | undefined> {
    if (writer === undefined || this.#writerGone(writer)) return undefined;
    try {
      await runDetached(() => writer.call('tx', [step]));
    } catch (err) {
      if (err instanceof WorkerExitedError || err instanceof SessionBrokenError) return undefined;
      // The worker's driver refuses ROLLBACK while a cursor fn left open on the writer is not
      // finished (as it refuses COMMIT). Left for later, the transaction would stay open after
      // that iterator closes, and take in the writes made from outside. (Its only TypeError.)
      if (step === 'rollback' && err instanceof TypeError) {
        this.#rollbackWhenIterated = writer;
        this.#iterating(0);
        return err;
      }
      throw err;
    }
    return undefined;
  }
}

/** What Statement and the client reach inside a Database. */
export interface DatabaseInternals {
  call(route: RouteCode, op: string, args: unknown[]): Promise<unknown>;
  target(route: RouteCode): Target | Promise<Target>;
  /** Runs `send` (a call on the writer) with the readers closed (see STOPS_READERS). */
  withoutReaders(send: () => Promise<unknown>): Promise<unknown>;
  /** Keeps the caller's reads on the writer until `sent` settles (see OPENS_TRANSACTION). */
  whileOpening(sent: Promise<unknown>): Promise<unknown>;
  /** `map` turns the answer into the result; `onFailure` handles an error that is not resent. */
  send(
    target: Target,
    op: string,
    args: unknown[],
    map?: (value: unknown) => unknown,
    onFailure?: (err: unknown) => unknown,
  ): Promise<unknown>;
  callOptions: CallOptions | undefined;
  verbose: ((message?: unknown, ...additional: unknown[]) => void) | undefined;
  pool: Pool<ConnectionOptions>;
  /** Counts iterators open on the writer. */
  iterating(delta: number): void;
  /** Counts iterators not yet ended, on any connection. */
  iterators(delta: number): void;
  /** The driver's "busy executing a query" error when an iterator is open on the writer. */
  iteratingError(unlessUnsafe: boolean): TypeError | undefined;
  mayUseReader(route: RouteCode): boolean;
  /** The client's one-round-trip query, or undefined when it must go through a Statement. */
  query(sql: string, params: unknown[]): Promise<QueryReply> | undefined;
  /** A Statement for SQL seen before, at once (so calls leave in the order they were made). */
  knownStatement(sql: string): Statement | undefined;
  /** Closes; with `force`, even while iterators are open. */
  close(force: boolean): Promise<Database>;
  /** The driver's "not open" error once the database is closed (or closing), else undefined. */
  closedError(): TypeError | undefined;
}

export type { PoolStats, ConnectionInfo };
