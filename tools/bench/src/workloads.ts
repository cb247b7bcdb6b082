// The three call patterns most trials use. Each takes `call(i)`, the operation under test, so
// the same pattern measures a raw driver, a drop-in and a raw MessagePort alike.
import { median, percentile } from './stats.js';

/** One operation of a trial: the i-th call. May return synchronously (a raw driver). */
export type Call = (i: number) => unknown;

/**
 * Awaits `n` calls one after another: the round-trip time of a single caller.
 *
 * @example
 * ```ts
 * await sequential((i) => session.call('noop', [i]), 10_000);
 * ```
 */
export async function sequential(call: Call, n: number): Promise<void> {
  for (let i = 0; i < n; i++) await call(i);
}

/**
 * Keeps `width` calls in flight until `n` have been made: `width` independent callers, each
 * starting its next call as soon as its previous one is answered.
 *
 * @example
 * ```ts
 * await inFlight((i) => session.call('noop', [i]), 100_000, 64);
 * ```
 */
export async function inFlight(call: Call, n: number, width: number): Promise<void> {
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < n) await call(next++);
  };
  await Promise.all(Array.from({ length: width }, lane));
}

/**
 * The latency of calls made one every `everyMs` on an otherwise idle thread, the way a server
 * sees requests that do not overlap: each call finds the worker asleep.
 *
 * @example
 * ```ts
 * const { medianUs, p99Us } = await isolated((i) => session.call('noop', [i]), 1000, 1);
 * ```
 */
export async function isolated(
  call: Call,
  count: number,
  everyMs: number,
): Promise<{ medianUs: number; p99Us: number }> {
  const latencies: number[] = [];
  let started = 0;
  await new Promise<void>((resolve, reject) => {
    const tick = (): void => {
      if (started === count) return;
      const i = started++;
      const t0 = performance.now();
      Promise.resolve(call(i)).then(() => {
        latencies.push((performance.now() - t0) * 1000);
        if (latencies.length === count) resolve();
      }, reject);
      if (started < count) setTimeout(tick, everyMs);
    };
    setTimeout(tick, everyMs);
  });
  return { medianUs: median(latencies), p99Us: percentile(latencies, 99) };
}
