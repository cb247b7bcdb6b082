/**
 * A handle the worker keeps for an object that a call returned; the caller gets a RemoteHandle.
 * Made by {@link OperationContext.handle}; an operation returns it (or a value containing it).
 *
 * @example
 * ```ts
 * operations: {
 *   prepare: (db, [sql], ctx): HandleRef => ctx.handle(db.prepare(sql as string), 'statement'),
 * },
 * ```
 */
export class HandleRef {
  constructor(
    readonly id: number,
    readonly kind: string,
    readonly meta: unknown,
  ) {}
}

/**
 * What an operation receives besides its connection and arguments.
 *
 * @example
 * ```ts
 * prepare: (db, [sql], ctx) => ctx.handle(db.prepare(sql), 'statement', { reader: true }),
 * ```
 */
export interface OperationContext {
  /**
   * Keeps `object` in this worker and returns it to the caller as a remote handle of `kind`,
   * carrying `meta` (cloneable data the caller can read at once).
   */
  handle(object: object, kind: string, meta?: unknown): HandleRef;
  /** The id of the session the call came from (0 for stateless calls). */
  readonly sessionId: number;
  /**
   * Whether more calls of this session, received with or before this one, wait behind it: a
   * blocking driver may then share work over them (one read transaction for a run of reads,
   * say), and finish it in {@link Driver.endBatch}.
   */
  readonly moreQueued: boolean;
}

/**
 * What `open` receives besides the options.
 *
 * @example
 * ```ts
 * open(options, ctx) {
 *   const conn = connect(options);
 *   conn.on('end', () => ctx.notify('end'));
 *   return conn;
 * },
 * ```
 */
export interface OpenContext {
  /**
   * Tells the caller's side something about the connection that no call asked for (the server
   * closed it, say): the session's notice listener gets `event` and `data` (cloneable), in
   * order with the answers. Dropped for the per-worker default connection.
   */
  notify(event: string, data?: unknown): void;
}

/**
 * One operation of a driver: runs in the worker with the session's connection. What it returns
 * (or resolves to) is the call's result; what it throws is rebuilt on the caller's side.
 *
 * @example
 * ```ts
 * import Database from 'better-sqlite3';
 * const exec: Operation<Database.Database> = (db, [sql]) => {
 *   db.exec(sql as string);
 * };
 * export default defineDriver({ open: () => new Database(':memory:'), operations: { exec } });
 * ```
 */
export type Operation<C> = (connection: C, args: unknown[], ctx: OperationContext) => unknown;

/**
 * The methods callable on handles of one kind, plus how to free such an object.
 *
 * @example
 * ```ts
 * const cursor: HandleKind<IterableIterator<unknown>> = {
 *   methods: { next: (iterator) => iterator.next() },
 *   release: (iterator) => void iterator.return?.(), // closed by the caller, or collected there
 * };
 * export default defineDriver({ open, operations, handles: { cursor } });
 * ```
 */
export interface HandleKind<T = never> {
  /** Methods by name, called as `method(object, args, ctx)`. */
  methods?: Record<string, (object: T, args: unknown[], ctx: OperationContext) => unknown>;
  /** Called for any method that `methods` does not list (a generic dispatcher, as offload() uses). */
  invoke?(object: T, method: string, args: unknown[], ctx: OperationContext): unknown;
  /** Frees the object when the caller closes the handle or it is garbage-collected there. */
  release?(object: T): void;
}

/**
 * The contract an adapter author fills in: one worker module whose default export is a
 * driver. Core does the rest: transport, batching, errors, handles, cancellation, leaks.
 *
 * @example
 * ```ts
 * // my-driver.worker.ts
 * import Database from 'better-sqlite3';
 * import { defineDriver } from '@unblock/core/worker';
 * export default defineDriver({
 *   open: (options: { filename: string }) => new Database(options.filename),
 *   operations: {
 *     all: (db, [sql, params]) => db.prepare(sql as string).all(...(params as unknown[])),
 *   },
 *   close: (db) => db.close(),
 * });
 * ```
 */
export interface Driver<C = unknown, O = unknown> {
  /** Opens a session's connection (also the worker's default connection for stateless calls). */
  open(options: O, ctx: OpenContext): C | Promise<C>;
  /** The operations callers may name. */
  operations: Record<string, Operation<C>>;
  /** Handle kinds by name; an object without a kind entry has its own methods called. */
  handles?: Record<string, HandleKind<never>>;
  /** Closes a connection when its session closes. */
  close?(connection: C): void | Promise<void>;
  /** Cloneable facts about a new connection, handed to the caller when the session opens. */
  info?(connection: C): unknown;
  /**
   * For drivers that block the worker (synchronous native calls): a cloneable token that the
   * pool's `interrupt` hook, running on the caller's thread, uses to stop the running call.
   */
  interruptToken?(connection: C): unknown;
  /**
   * For drivers whose operations are asynchronous: stops the running operation from inside
   * the worker (for instance `KILL QUERY` on a side connection). The next call waits for it.
   */
  cancel?(connection: C): void | Promise<void>;
  /**
   * Ends what the driver shared over a batch of calls (see {@link OperationContext.moreQueued}).
   * A session calls it after a run of calls: before it waits for more, before it awaits an
   * asynchronous operation or streams a large result, and before it runs a call received
   * after the batch's first call ran, so a batch never covers a call sent after it began.
   * It must not throw.
   *
   * @example
   * ```ts
   * endBatch(conn) {
   *   if (conn.readBatch) { conn.readBatch = false; conn.db.prepare('COMMIT').run(); }
   * },
   * ```
   */
  endBatch?(connection: C): void;
}

/**
 * Identity function that gives a driver definition its types.
 *
 * @example
 * ```ts
 * export default defineDriver({ open: () => ({}), operations: { ping: () => 'pong' } });
 * ```
 */
export function defineDriver<C, O>(driver: Driver<C, O>): Driver<C, O> {
  return driver;
}
