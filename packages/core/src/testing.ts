import type { LeakEvent } from './leak-detector.js';
import type { Pool } from './pool.js';

export { threadNiceValues } from './thread-nice-values.js';

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
