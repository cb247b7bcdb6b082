import { AbortError } from './abort-error.js';
import type { CallOptions } from './call-options.js';
import { TimeoutError } from './errors.js';

/**
 * Waits for `step` (what a call needs before it can be sent: a worker, a connection) as a
 * queued call: an abort of `options.signal`, or the end of `options.timeout` counted from
 * `since`, rejects at once with the AbortError the call would reject with (`state: 'queued'`;
 * the cause is the signal's reason, or a TimeoutError). `step` goes on; what it yields is then
 * not used.
 *
 * @example
 * ```ts
 * const session = await waitQueued(openSession(), { signal }, performance.now());
 * ```
 */
export function waitQueued<T>(
  step: Promise<T>,
  options: CallOptions | undefined,
  since: number,
): Promise<T> {
  const signal = options?.signal;
  const timeout = options?.timeout;
  if (signal === undefined && timeout === undefined) return step;
  if (signal?.aborted === true) return Promise.reject(new AbortError('queued', signal.reason));
  return new Promise<T>((resolve, reject) => {
    const stop = (reason: unknown): void => {
      cleanup();
      reject(new AbortError('queued', reason));
    };
    const onAbort = (): void => stop(signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer =
      timeout === undefined
        ? undefined
        : setTimeout(
            () => stop(new TimeoutError(timeout)),
            Math.max(0, since + timeout - performance.now()),
          );
    function cleanup(): void {
      signal?.removeEventListener('abort', onAbort);
      if (timer !== undefined) clearTimeout(timer);
    }
    step.then(
      (value) => {
        cleanup();
        resolve(value);
      },
      (err: unknown) => {
        cleanup();
        reject(err);
      },
    );
  });
}
