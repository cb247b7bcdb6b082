/**
 * The caller's stack, captured synchronously where a call was made, for a call whose statement
 * is sent later (after a wait for a pool connection) or whose error is built later (a timeout):
 * by then the stack no longer holds the caller's frames. mysql2/promise does the same (its
 * `trace` option, `lib/promise/capture_local_err.js`).
 */
export interface CallerStack {
  stack?: string;
}

/**
 * Captures the stack above `fn` (so the first frame is `fn`'s caller).
 *
 * @internal
 * @example
 * ```ts
 * const caller = captureCaller(Pool.prototype.query);
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- any function is a valid stack boundary
export function captureCaller(fn: Function): CallerStack {
  const holder: CallerStack = {};
  Error.captureStackTrace(holder, fn);
  return holder;
}

/** Where an error rebuilt from a worker (core's error codec) starts the worker's frames. */
const WORKER_FRAMES = '\n    at <worker thread>';

/** The frames of a stack, without its first "Name: message" line(s). */
function framesOf(stack: string): string {
  const at = stack.indexOf('\n    at ');
  return at === -1 ? '' : stack.slice(at + 1);
}

/**
 * Gives `err` the caller's frames: its stack becomes its header, the caller's frames, then the
 * worker thread's frames when it came from one (as a Connection's errors read). Frames captured
 * on this thread after the wait (promise callbacks of the pool) are dropped. Returns `err`.
 *
 * @internal
 * @example
 * ```ts
 * promise.catch((err) => { throw withCallerStack(err, caller); });
 * ```
 */
export function withCallerStack(err: unknown, caller: CallerStack): unknown {
  const frames = caller.stack === undefined ? '' : framesOf(caller.stack);
  if (frames === '' || !(err instanceof Error)) return err;
  const own = typeof err.stack === 'string' ? err.stack : '';
  const at = own.indexOf(WORKER_FRAMES);
  const parts = [`${err.name}: ${err.message}`, frames];
  if (at !== -1) parts.push(own.slice(at + 1));
  try {
    err.stack = parts.join('\n');
  } catch {
    // A frozen or accessor-only stack stays as it is.
  }
  return err;
}
