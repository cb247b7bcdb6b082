import { AsyncLocalStorage } from 'node:async_hooks';
import { assertKnownKeys } from './known-keys.js';

/**
 * Cancellation for one call: an AbortSignal, a timeout in milliseconds, or both.
 *
 * @example
 * ```ts
 * await session.call('query', ['select 1'], { signal: AbortSignal.timeout(1000) });
 * ```
 */
export interface CallOptions {
  signal?: AbortSignal;
  /** Milliseconds; the call rejects with an AbortError whose cause is a TimeoutError. */
  timeout?: number;
}

const storage = new AsyncLocalStorage<CallOptions>();

/** Every option {@link CallOptions} has. */
const CALL_OPTION_NAMES = Object.keys({
  signal: true,
  timeout: true,
} satisfies Record<keyof CallOptions, true>);

/**
 * Runs `fn` so that every unblock call made inside its async context, however deep, carries
 * these options: how drop-in APIs with no room for options get cancellation, and how one
 * request's signal covers all of its queries. Nested scopes combine: every signal applies and
 * the shortest timeout wins.
 *
 * @example
 * ```ts
 * import { withCallOptions } from '@unblock/core';
 * app.get('/report', (req, res) =>
 *   withCallOptions({ signal: req.signal, timeout: 2000 }, async () => {
 *     res.json(await db.prepare('select * from big').then((s) => s.all()));
 *   }),
 * );
 * ```
 */
export function withCallOptions<T>(options: CallOptions, fn: () => T): T {
  validateCallOptions(options, 'options');
  // A misspelled option would leave every call of the scope without the cancellation it asked
  // for. Checked here only: adapters pass per-call option bags that hold options of their own.
  assertKnownKeys(options, CALL_OPTION_NAMES, 'call option');
  return storage.run(combineCallOptions(storage.getStore(), options), fn);
}

/**
 * The options in force for a call: the scope's (see {@link withCallOptions}), combined with
 * the call's own. Session calls apply it themselves; an adapter uses it for waits of its own
 * (a pool lease), so that the scope's signal and timeout cover those too.
 *
 * @example
 * ```ts
 * import { currentCallOptions, withCallOptions } from '@unblock/core';
 * await withCallOptions({ timeout: 2000 }, async () => {
 *   currentCallOptions(); // { timeout: 2000 }
 *   currentCallOptions({ timeout: 500 }); // { signal: undefined, timeout: 500 }: the shortest wins
 *   const lease = await acquire(currentCallOptions({ signal })); // an adapter's own wait
 * });
 * ```
 */
export function currentCallOptions(own?: CallOptions): CallOptions | undefined {
  const scope = storage.getStore();
  if (own === undefined) return scope;
  validateCallOptions(own, 'options');
  return combineCallOptions(scope, own);
}

function combineCallOptions(outer: CallOptions | undefined, inner: CallOptions): CallOptions {
  if (outer === undefined) return inner;
  const signals = [outer.signal, inner.signal].filter((s): s is AbortSignal => s !== undefined);
  const timeouts = [outer.timeout, inner.timeout].filter((t): t is number => t !== undefined);
  return {
    signal: signals.length > 1 ? AbortSignal.any(signals) : signals[0],
    timeout: timeouts.length > 0 ? Math.min(...timeouts) : undefined,
  };
}

/**
 * Checks the shape of call options, with TypeError/RangeError naming the option.
 *
 * @example
 * ```ts
 * validateCallOptions({ timeout: -1 }, 'options'); // throws RangeError
 * ```
 */
export function validateCallOptions(options: CallOptions, name: string): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`${name} must be an object`);
  }
  const { signal, timeout } = options;
  if (signal !== undefined && !(signal instanceof AbortSignal)) {
    throw new TypeError(`${name}.signal must be an AbortSignal`);
  }
  if (timeout !== undefined) {
    if (typeof timeout !== 'number' || Number.isNaN(timeout)) {
      throw new TypeError(`${name}.timeout must be a number of milliseconds`);
    }
    if (timeout < 0 || timeout > 2_147_483_647) {
      throw new RangeError(`${name}.timeout must be between 0 and 2147483647`);
    }
  }
}
