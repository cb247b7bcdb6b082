import type { Session } from '@unblock/core';
import { closedStateMessage } from './closed-state-error.js';

/** What one session's calls have seen of the fatal error that closed its connection. */
interface SessionFailure {
  /** Calls sent so far (each call's number is the count when it was sent). */
  sent: number;
  /** The first fatal error a call rejected with. */
  fatal: Error | undefined;
  /** The number of calls that were sent when that error reached this thread. */
  sentBeforeFatal: number;
}

/** Per session, not per object: a pool's connection is used through several objects. */
const failures = new WeakMap<Session, SessionFailure>();

function failureOf(session: Session): SessionFailure {
  let failure = failures.get(session);
  if (failure === undefined) {
    failure = { sent: 0, fatal: undefined, sentBeforeFatal: 0 };
    failures.set(session, failure);
  }
  return failure;
}

function isFatal(err: unknown): err is Error {
  return err instanceof Error && (err as { fatal?: unknown }).fatal === true;
}

function isClosedState(err: unknown): boolean {
  return err instanceof Error && err.message === closedStateMessage;
}

/**
 * Numbers a command sent on the session (see {@link failLikeQueued}).
 *
 * @example
 * ```ts
 * const number = nextCommand(session);
 * ```
 */
export function nextCommand(session: Session): number {
  return ++failureOf(session).sent;
}

/**
 * The fatal error that closed the session's connection, when command `number` was sent before
 * that error reached this thread: mysql2 gives it to every command queued when it happened.
 *
 * @example
 * ```ts
 * const number = nextCommand(session);
 * await session.close();
 * return failedBehind(session, number); // what mysql2's end() resolves then
 * ```
 */
export function failedBehind(session: Session, number: number): Error | undefined {
  const failure = failures.get(session);
  return failure !== undefined && number <= failure.sentBeforeFatal ? failure.fatal : undefined;
}

/**
 * Sends a command the way mysql2 queues one. When a command fails with a fatal error (the
 * server closed the connection mid-query), mysql2 fails every command queued behind it with
 * that same error. The worker runs a session's calls one after another instead, so those meet
 * mysql2's closed-state error when their turn comes: a command sent before the fatal error
 * reached this thread (as a rejection) gets the fatal error itself here; one sent after it
 * keeps the closed-state error, as in mysql2. `sent` is the call, just sent.
 *
 * @example
 * ```ts
 * const answer = failLikeQueued(session, session.call('ping', []));
 * ```
 */
export function failLikeQueued<T>(session: Session, sent: Promise<T>): Promise<T> {
  const number = nextCommand(session);
  return sent.catch((err: unknown) => {
    throw queuedError(session, number, err);
  });
}

function queuedError(session: Session, number: number, err: unknown): unknown {
  const failure = failureOf(session);
  if (failure.fatal === undefined) {
    if (isFatal(err) && !isClosedState(err)) {
      failure.fatal = err;
      failure.sentBeforeFatal = failure.sent;
    }
    return err;
  }
  return isClosedState(err) ? (failedBehind(session, number) ?? err) : err;
}
