/**
 * Every code that unblock's own errors carry, with the sentence that explains it.
 * One map feeds the error classes, their types and the generated docs/errors.md.
 *
 * @example
 * ```ts
 * import { ErrorCodes } from '@unblock/core';
 * if (err.code === 'UNBLOCK_ERR_QUEUE_FULL') retryLater();
 * console.log(ErrorCodes.UNBLOCK_ERR_QUEUE_FULL); // what the code means
 * ```
 */
export const ErrorCodes = {
  UNBLOCK_ERR_POOL_CLOSED: 'The pool is closed or closing; the call was not run.',
  UNBLOCK_ERR_QUEUE_FULL:
    'The pool already has `maxQueue` calls in flight; the call was not queued.',
  UNBLOCK_ERR_TIMEOUT:
    'The call ran past its `timeout`; it is the `cause` of the AbortError the call rejects with.',
  UNBLOCK_ERR_WORKER_EXITED:
    'The worker thread that ran the call exited (crash, out of memory, or terminated to stop a call that could not be interrupted).',
  UNBLOCK_ERR_SESSION_BROKEN:
    'The session lost its worker earlier; open a new session (or a new database/connection).',
  UNBLOCK_ERR_SESSION_CLOSED: 'The session (connection, database) was closed.',
  UNBLOCK_ERR_HANDLE_CLOSED: 'The remote handle was closed or released.',
  UNBLOCK_ERR_DATA_CLONE:
    'A value cannot cross to a worker thread (a function, a symbol, or a class instance no codec knows).',
  UNBLOCK_ERR_INVALID_ARG: 'An argument or option has the wrong type or value.',
  UNBLOCK_ERR_UNKNOWN_OPERATION: 'The worker driver has no operation with this name.',
  UNBLOCK_ERR_WORKER_INIT:
    'No worker could start, or the worker could not load its driver module or open its connection.',
} as const;

/**
 * A code of one of unblock's own errors: a key of {@link ErrorCodes}.
 *
 * @example
 * ```ts
 * import { UnblockError, type ErrorCode } from '@unblock/core';
 * const retryable: readonly ErrorCode[] = ['UNBLOCK_ERR_QUEUE_FULL', 'UNBLOCK_ERR_WORKER_EXITED'];
 * if (err instanceof UnblockError && retryable.includes(err.code)) retry();
 * ```
 */
export type ErrorCode = keyof typeof ErrorCodes;
