/**
 * The caller's stack, captured synchronously where a call was made, for a call whose statement
 * is sent later (after a wait for a pool connection) or whose error is built later (a timeout):
 * by then the stack no longer holds the caller's frames. mysql2/promise does the same (its
 * `trace` option, `lib/promise/capture_local_err.js`). Core's `withCallerStack` gives an error
 * these frames.
 */
export interface CallerStack {
  stack?: string;
}

/**
 * Captures the stack above `fn` (so the first frame is `fn`'s caller). The holder is an Error
 * (by its prototype, without a second capture) so the leak detector can take it as an origin.
 *
 * @internal
 * @example
 * ```ts
 * const caller = captureCaller(Pool.prototype.query);
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type -- any function is a valid stack boundary
export function captureCaller(fn: Function): Error {
  const holder = Object.create(Error.prototype) as Error;
  Error.captureStackTrace(holder, fn);
  return holder;
}
