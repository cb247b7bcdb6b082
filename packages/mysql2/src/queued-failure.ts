import type { Session } from '@unblock/core';
import { closedStateMessage } from './closed-state-error.js';

/** An `end()` waiting, as mysql2's QUIT does, for the commands sent before it to finish. */
interface Quit {
  /** Commands sent before it: it starts once that many have settled. */
  after: number;
  start(): void;
}

/**
 * One session's commands as mysql2's command queue sees them: the fatal error that closed the
 * connection, which the commands queued behind it share, and the `end()` calls waiting.
 */
interface CommandQueue {
  /** Calls sent so far (each call's number is the count when it was sent). */
  sent: number;
  /** Calls settled so far (answered or rejected). */
  settled: number;
  /** The first fatal error a call rejected with. */
  fatal: Error | undefined;
  /** mysql2 reported the connection closed on its own ('end', or a fatal 'error' event). */
  lost: boolean;
  /**
   * The first fatal error heard, from a call or the connection's 'error' event: what mysql2
   * keeps as the error that closed its connection, and its `connect()` rejects with.
   */
  closedBy: Error | undefined;
  /** The number of calls that were sent when that error reached this thread. */
  sentBeforeFatal: number;
  quits: Quit[] | undefined;
}

/** Per session, not per object: a pool's connection is used through several objects. */
const queues = new WeakMap<Session, CommandQueue>();

function queueOf(session: Session): CommandQueue {
  let queue = queues.get(session);
  if (queue === undefined) {
    queue = {
      sent: 0,
      settled: 0,
      fatal: undefined,
      lost: false,
      closedBy: undefined,
      sentBeforeFatal: 0,
      quits: undefined,
    };
    queues.set(session, queue);
  }
  return queue;
}

function isFatal(err: unknown): err is Error {
  return err instanceof Error && (err as { fatal?: unknown }).fatal === true;
}

function isClosedState(err: unknown): boolean {
  return err instanceof Error && err.message === closedStateMessage;
}

/**
 * Sends a command the way mysql2 queues one, and maps its answer (`onAnswer`) or its error
 * (`onError`, which throws or returns) in the same promise reaction: no promise is added per
 * call. `sent` is the call, just sent.
 *
 * When a command fails with a fatal error (the server closed the connection mid-query), mysql2
 * fails every command queued behind it with that same error. The worker runs a session's calls
 * one after another instead, so those meet mysql2's closed-state error when their turn comes: a
 * command sent before the fatal error reached this thread (as a rejection) gets the fatal error
 * itself here; one sent after it keeps the closed-state error, as in mysql2.
 *
 * @example
 * ```ts
 * const answer = failLikeQueued(session, session.call('ping', []));
 * ```
 */
export function failLikeQueued(
  session: Session,
  sent: Promise<unknown>,
  onAnswer?: (value: unknown) => unknown,
  onError?: (err: unknown) => unknown,
): Promise<unknown> {
  const queue = queueOf(session);
  const number = ++queue.sent;
  return sent.then(
    (value) => {
      // mysql2 calls a QUIT's callback as it starts, in the same tick as the command before it
      // ends, but a statement's own callback one process.nextTick() later: end() comes first.
      settle(queue);
      return onAnswer === undefined ? value : onAnswer(value);
    },
    (err: unknown) => {
      const error = queuedError(queue, number, err);
      queue.settled++;
      // A failing command's callback is called at once, before the QUIT behind it starts: the
      // QUIT starts once this rejection has reached its reactions.
      if (queue.quits !== undefined) queueMicrotask(() => startQuits(queue));
      if (onError === undefined) throw error;
      return onError(error);
    },
  );
}

function settle(queue: CommandQueue): void {
  queue.settled++;
  if (queue.quits !== undefined) startQuits(queue);
}

function startQuits(queue: CommandQueue): void {
  const { quits, settled } = queue;
  // Several rejections in one tick each queue a look: the first may have started them all.
  if (quits === undefined) return;
  const due = quits.filter((quit) => quit.after <= settled);
  if (due.length === 0) return;
  const left = quits.filter((quit) => quit.after > settled);
  queue.quits = left.length === 0 ? undefined : left;
  for (const quit of due) quit.start();
}

/**
 * Resolves as mysql2's `end()` does, as its QUIT starts: once the commands sent before it have
 * settled (at once when none is in flight), in the same tick as the last of them, with the
 * fatal error that closed the connection while the QUIT waited (mysql2 fails its queued QUIT
 * with it), else `undefined`. Closing the connection is up to the caller.
 *
 * @example
 * ```ts
 * const ended = quitStarted(session);
 * void session.close();
 * await ended;
 * ```
 */
export function quitStarted(session: Session): Promise<Error | undefined> {
  const queue = queueOf(session);
  const fatalBefore = queue.fatal;
  const failedBehind = (): Error | undefined =>
    queue.fatal !== fatalBefore ? queue.fatal : undefined;
  if (queue.settled >= queue.sent) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    (queue.quits ??= []).push({ after: queue.sent, start: () => resolve(failedBehind()) });
  });
}

function queuedError(queue: CommandQueue, number: number, err: unknown): unknown {
  if (queue.fatal === undefined) {
    if (isFatal(err) && !isClosedState(err)) {
      queue.fatal = err;
      queue.closedBy ??= err;
      queue.sentBeforeFatal = queue.sent;
    }
    return err;
  }
  return isClosedState(err) && number <= queue.sentBeforeFatal ? queue.fatal : err;
}

/**
 * Marks the session's connection as closed by mysql2 on its own (the server closed it), as its
 * 'end' event or its fatal 'error' event (`error`) says.
 *
 * @example
 * ```ts
 * session.onNotice((event, data) => markLost(session, event === 'error' ? (data as Error) : undefined));
 * ```
 */
export function markLost(session: Session, error: Error | undefined): void {
  const queue = queueOf(session);
  queue.lost = true;
  // mysql2's refusal of a command sent after the close is not what closed it.
  if (error !== undefined && !isClosedState(error)) queue.closedBy ??= error;
}

/**
 * The error that closed the session's connection, as far as this thread has heard (see
 * `closedBy`), or undefined.
 *
 * @example
 * ```ts
 * const err = closedByError(session);
 * if (err !== undefined) throw err;
 * ```
 */
export function closedByError(session: Session): Error | undefined {
  return queueOf(session).closedBy;
}

/**
 * Whether mysql2 has closed the session's connection as far as this thread has heard: the server
 * closed it, or a call failed with a fatal error. mysql2 then refuses every command; it does so
 * through the command's callback, or, for a command without one (a streamed query), as an
 * 'error' event of the connection, which the command itself never hears.
 *
 * @example
 * ```ts
 * if (connectionGone(session)) throw closedStateError();
 * ```
 */
export function connectionGone(session: Session): boolean {
  const queue = queueOf(session);
  return queue.lost || queue.closedBy !== undefined;
}
