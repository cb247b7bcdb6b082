import { defineCases, type CaseContext } from '../case.js';
import { collect } from '../util.js';

/** Runs `work` while a 1 ms interval ticks; returns the longest gap between ticks and their count. */
async function watchLoop(
  work: () => Promise<unknown>,
): Promise<{ ms: number; ticks: number; maxGap: number }> {
  // The garbage of earlier cases is collected first (when gc is exposed, as the suite runs): a
  // major collection of it inside the window would stall this thread for reasons of its own.
  (globalThis as { gc?: () => void }).gc?.();
  let ticks = 0;
  let last = performance.now();
  let maxGap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    ticks++;
  }, 1);
  const started = performance.now();
  try {
    await work();
  } finally {
    clearInterval(timer);
  }
  const ms = performance.now() - started;
  maxGap = Math.max(maxGap, performance.now() - last);
  return { ms, ticks, maxGap };
}

function expectFree(
  ctx: CaseContext,
  { ms, ticks, maxGap }: { ms: number; ticks: number; maxGap: number },
): void {
  // Generous functional bounds, not a benchmark: a blocked loop shows a gap as long as the work,
  // and a free one ticks about once a millisecond (one tick per 100 ms is required).
  ctx
    .expect(maxGap, `longest gap ${maxGap.toFixed(0)} ms during ${ms.toFixed(0)} ms`)
    .toBeLessThan(250);
  ctx
    .expect(ticks, `${ticks} ticks during ${ms.toFixed(0)} ms`)
    .toBeGreaterThanOrEqual(Math.floor(ms / 100));
}

export const eventLoopCases = defineCases('event-loop', [
  {
    id: 'event-loop.heavy-query.timer-fires',
    title: 'while the heaviest query runs, a 1 ms timer keeps firing',
    timeout: 60_000,
    run: async (ctx) => {
      const seen = await watchLoop(() => ctx.client.query(ctx.sql.heavy));
      ctx.expect(seen.ms, 'the heavy query should take a while').toBeGreaterThan(100);
      expectFree(ctx, seen);
    },
  },
  {
    id: 'event-loop.large-result.timer-fires',
    title: 'while a 100,000-row result arrives, the timer keeps firing',
    timeout: 60_000,
    run: async (ctx) => {
      let rows = 0;
      const seen = await watchLoop(
        async () => (rows = (await ctx.client.query(ctx.sql.series(100_000, 20))).rowCount),
      );
      ctx.expect(rows).toBe(100_000);
      expectFree(ctx, seen);
    },
  },
  {
    id: 'event-loop.iterate.timer-fires',
    title: 'while 100,000 rows are iterated, the timer keeps firing',
    timeout: 60_000,
    run: async (ctx) => {
      let rows = 0;
      const seen = await watchLoop(
        async () =>
          (rows = (
            await collect(ctx.client.iterate(ctx.sql.series(100_000, 20), [], { batchSize: 1000 }))
          ).length),
      );
      ctx.expect(rows).toBe(100_000);
      expectFree(ctx, seen);
    },
  },
]);
