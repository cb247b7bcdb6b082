import type { LeakEvent } from './leak-detector.js';
import type { Pool } from './pool.js';

import { MAX_CALL_ID, sessionStart } from './session-counts.js';

export { threadNiceValues } from './thread-nice-values.js';

/**
 * Where the message counts and call ids of sessions opened from now on start (see
 * {@link startSessionCountsAt}).
 *
 * @example
 * ```ts
 * const start: SessionCountsStart = { count: 2 ** 31 - 20, lastCallId: 2 ** 31 - 30 };
 * ```
 */
export interface SessionCountsStart {
  /** Every message count of the session, and its lanes' sequence numbers (an Int32). */
  count: number;
  /** The id of the last call, as if the calls up to it had run (0 to 2^31 - 1; 0: none). */
  lastCallId: number;
}

/**
 * Starts the counts and call ids of sessions opened from now on at `start`, and returns where
 * they started before. A session keeps them in Int32 slots of its shared state, and both go
 * round past 2^31 - 1; a long-lived session gets there after 2^31 calls. Starting near that
 * limit lets a test take a session round it in a few calls.
 *
 * @example
 * ```ts
 * const before = startSessionCountsAt({ count: 2 ** 31 - 20, lastCallId: 2 ** 31 - 30 });
 * const session = await pool.openSession();
 * startSessionCountsAt(before);
 * for (let i = 0; i < 100; i++) await session.call('echo', [i]);
 * ```
 */
export function startSessionCountsAt(start: SessionCountsStart): SessionCountsStart {
  const { count, lastCallId } = start;
  if (!Number.isInteger(count) || (count | 0) !== count)
    throw new RangeError('start.count must be an Int32');
  if (!Number.isInteger(lastCallId) || lastCallId < 0 || lastCallId > MAX_CALL_ID)
    throw new RangeError(`start.lastCallId must be an integer from 0 to ${MAX_CALL_ID}`);
  const before = { ...sessionStart };
  sessionStart.count = count;
  sessionStart.lastCallId = lastCallId;
  return before;
}

/**
 * What {@link watchLeaks} found.
 *
 * @example
 * ```ts
 * const { events, live } = await watchLeaks(pool, { kinds: ['cursor'] }).check();
 * // events: [] and live: {} when nothing leaked (check() throws otherwise)
 * ```
 */
export interface LeakReport {
  events: LeakEvent[];
  /** Live handles per kind when checked (of the kinds watched: every kind by default). */
  live: Record<string, number>;
}

/**
 * For test authors: watches a pool's leak reports from now on; `check()` forces garbage
 * collection, waits for finalizers, and throws an error listing every leak and every live
 * handle of the given `kinds` (of every kind when `kinds` is left out). A handle dropped without
 * being closed is only reported once it is collected, so `check()` needs `globalThis.gc`: without
 * it (node run without `--expose-gc`) it throws, saying so, rather than pass a leaking test.
 *
 * @example
 * ```ts
 * import { watchLeaks } from '@unblock/core/testing';
 * const leaks = watchLeaks(pool, { kinds: ['statement'] });
 * await runTheTest();
 * await leaks.check(); // throws if anything leaked
 * ```
 */
export function watchLeaks(
  pool: Pool,
  options: { kinds?: readonly string[] } = {},
): { check(): Promise<LeakReport>; stop(): void } {
  const events: LeakEvent[] = [];
  const listener = (event: LeakEvent): void => {
    if (event.reason !== 'returned') events.push(event);
  };
  pool.leaks.on('leak', listener);
  return {
    async check() {
      const gc = (globalThis as { gc?: () => void }).gc;
      if (typeof gc !== 'function') {
        throw new Error(
          'watchLeaks().check() needs globalThis.gc to find dropped handles: run node with ' +
            "--expose-gc (vitest: test.execArgv: ['--expose-gc'])",
        );
      }
      for (let i = 0; i < 3; i++) {
        gc();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const { byKind } = pool.leaks.counts();
      const live: Record<string, number> = {};
      for (const kind of options.kinds ?? Object.keys(byKind))
        if (byKind[kind]) live[kind] = byKind[kind];
      if (events.length > 0 || Object.keys(live).length > 0) {
        const lines = events.map((e) => `- ${e.kind} ${e.reason}\n${e.stack ?? '(no stack)'}`);
        for (const [kind, n] of Object.entries(live))
          lines.push(`- ${n} ${kind} handle(s) still open`);
        throw new Error(`Leaks found:\n${lines.join('\n')}`);
      }
      return { events, live };
    },
    stop() {
      pool.leaks.off('leak', listener);
    },
  };
}
