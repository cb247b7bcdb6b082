import { ErrorCodes, type ErrorCode } from './error-codes.js';

/**
 * Base class of every error unblock itself raises. Match on `err.code`, which is stable.
 *
 * @example
 * ```ts
 * import { UnblockError } from '@unblock/core';
 * try { await db.get(); } catch (err) {
 *   if (err instanceof UnblockError && err.code === 'UNBLOCK_ERR_POOL_CLOSED') reconnect();
 * }
 * ```
 */
export class UnblockError extends Error {
  /** A stable `UNBLOCK_ERR_*` code. */
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/**
 * The pool (or the database or client built on it) is closed.
 *
 * @example
 * ```ts
 * await pool.close();
 * await session.call('get').catch((err) => err.code); // 'UNBLOCK_ERR_POOL_CLOSED'
 * ```
 */
export class PoolClosedError extends UnblockError {
  constructor(message = 'The pool is closed') {
    super('UNBLOCK_ERR_POOL_CLOSED', message);
  }
}

/**
 * `maxQueue` calls are already waiting.
 *
 * @example
 * ```ts
 * const pool = createPool({ driver, maxQueue: 100 });
 * // the 101st waiting call rejects with code 'UNBLOCK_ERR_QUEUE_FULL'
 * ```
 */
export class QueueFullError extends UnblockError {
  constructor(maxQueue: number) {
    super('UNBLOCK_ERR_QUEUE_FULL', `The queue is full (maxQueue: ${maxQueue})`);
  }
}

/**
 * A call ran past its timeout. It arrives as the `cause` of an {@link AbortError}.
 *
 * @example
 * ```ts
 * await session.call('sleep', [5000], { timeout: 100 }).catch((err) => err.cause.code);
 * // 'UNBLOCK_ERR_TIMEOUT'
 * ```
 */
export class TimeoutError extends UnblockError {
  /** The timeout in milliseconds. */
  readonly timeout: number;
  constructor(timeout: number) {
    super('UNBLOCK_ERR_TIMEOUT', `The call timed out after ${timeout} ms`);
    this.timeout = timeout;
  }
}

/**
 * The worker thread running the call exited.
 *
 * @example
 * ```ts
 * await session.call('crash').catch((err) => [err.code, err.exitCode, err.started]);
 * // ['UNBLOCK_ERR_WORKER_EXITED', 1, true]
 * ```
 */
export class WorkerExitedError extends UnblockError {
  /** The worker's exit code, when it is known. */
  readonly exitCode: number | undefined;
  /** What else is known of why, or when, it exited. */
  readonly reason: string | undefined;
  /**
   * Whether the call had started: `false` for one still queued behind the call that ended the
   * worker (it never ran, so it is safe to send again), `true` for the one running (or done,
   * its answer lost), `undefined` when unknown.
   */
  readonly started: boolean | undefined;
  constructor(exitCode: number | undefined, reason?: string, started?: boolean) {
    super(
      'UNBLOCK_ERR_WORKER_EXITED',
      `The worker thread exited${exitCode === undefined ? '' : ` with code ${exitCode}`}${reason ? `: ${reason}` : ''}${started === false ? ' before the call started' : ''}`,
    );
    this.exitCode = exitCode;
    this.reason = reason;
    this.started = started;
  }
}

/**
 * The session lost its worker before this call; open a new one.
 *
 * @example
 * ```ts
 * await session.call('get').catch((err) => err.code); // 'UNBLOCK_ERR_SESSION_BROKEN'
 * ```
 */
export class SessionBrokenError extends UnblockError {
  constructor(cause?: Error) {
    super('UNBLOCK_ERR_SESSION_BROKEN', 'The session is broken: its worker thread exited', {
      cause,
    });
  }
}

/**
 * The session was closed before this call.
 *
 * @example
 * ```ts
 * await session.close();
 * await session.call('get').catch((err) => err.code); // 'UNBLOCK_ERR_SESSION_CLOSED'
 * ```
 */
export class SessionClosedError extends UnblockError {
  constructor(message = 'The session is closed') {
    super('UNBLOCK_ERR_SESSION_CLOSED', message);
  }
}

/**
 * The remote handle was closed.
 *
 * @example
 * ```ts
 * await handle.close();
 * await handle.call('next').catch((err) => err.code); // 'UNBLOCK_ERR_HANDLE_CLOSED'
 * ```
 */
export class HandleClosedError extends UnblockError {
  constructor(kind: string) {
    super('UNBLOCK_ERR_HANDLE_CLOSED', `The ${kind} handle is closed`);
  }
}

/**
 * A value cannot cross between threads: an argument (to a worker), or a driver's result (from
 * one). `path` names where it was found.
 *
 * @example
 * ```ts
 * await session.call('run', [() => 1]).catch((err) => err.message);
 * // 'Argument args[0] is a function, which cannot be sent to a worker thread'
 * // a result: 'Result value rows[0][1] is a symbol, which cannot be sent back from a worker thread'
 * ```
 */
export class DataCloneError extends UnblockError {
  /**
   * Where the value sits, such as `args[1].name`, or `result.rows[0]` in a result (`thrown`: what
   * the operation threw).
   */
  readonly path: string;
  constructor(path: string, what: string) {
    // What a worker sends back is encoded from these roots (a result, its rows or columns, an
    // error); a caller's values from `args` and the names of its options.
    const result = /^(?:result|rows|column |error|thrown)/.test(path);
    super(
      'UNBLOCK_ERR_DATA_CLONE',
      result
        ? `Result value ${path} is ${what}, which cannot be sent back from a worker thread`
        : `Argument ${path} is ${what}, which cannot be sent to a worker thread`,
    );
    this.path = path;
  }
}

/**
 * The worker driver has no such operation.
 *
 * @example
 * ```ts
 * await session.call('nope').catch((err) => err.code); // 'UNBLOCK_ERR_UNKNOWN_OPERATION'
 * ```
 */
export class UnknownOperationError extends UnblockError {
  constructor(op: string) {
    super('UNBLOCK_ERR_UNKNOWN_OPERATION', `The driver has no operation named "${op}"`);
  }
}

/**
 * The worker could not load its driver or open its connection.
 *
 * @example
 * ```ts
 * createPool({ driver: new URL('./missing.js', import.meta.url) }).openSession()
 *   .catch((err) => err.code); // 'UNBLOCK_ERR_WORKER_INIT'
 * ```
 */
export class WorkerInitError extends UnblockError {
  constructor(message: string, options?: ErrorOptions) {
    super('UNBLOCK_ERR_WORKER_INIT', message, options);
  }
}

/** The error classes above, by name: errors built in a worker are rebuilt from this list. */
export const unblockErrorClasses = {
  UnblockError,
  PoolClosedError,
  QueueFullError,
  TimeoutError,
  WorkerExitedError,
  SessionBrokenError,
  SessionClosedError,
  HandleClosedError,
  DataCloneError,
  UnknownOperationError,
  WorkerInitError,
} as const;

export { ErrorCodes };

// `name` lives on each prototype, not on instances (as in better-sqlite3's SqliteError), so
// errors print as `QueueFullError: ...` without an extra own property.
for (const [name, cls] of Object.entries(unblockErrorClasses)) {
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true });
}
