import { defineCases, type CaseContext } from '../case.js';
import { collect, count, rejection, settle, within } from '../util.js';

const xs = (rows: Record<string, unknown>[]): number[] => rows.map((r) => Number(r.x));
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

/** The client can still write and run a transaction: nothing holds the connection. */
async function connectionFree(ctx: CaseContext): Promise<void> {
  const t = await ctx.table({ v: 'int' });
  await within(
    ctx.client.query(`insert into ${t} (v) values (?)`, [1]),
    5_000,
    'a write after iterating',
  );
  await within(
    ctx.client.transaction(
      async () => void (await ctx.client.query(`insert into ${t} (v) values (?)`, [2])),
    ),
    5_000,
    'a transaction after iterating',
  );
  ctx.expect(await count(ctx.client, t)).toBe(2);
  if (ctx.adapter.leaks !== undefined) {
    const { byKind } = ctx.adapter.leaks.pool(ctx.client).stats().handles;
    ctx.expect(byKind[ctx.adapter.leaks.cursorKind] ?? 0, 'cursor handles still open').toBe(0);
  }
}

export const iterationCases = defineCases('iteration', [
  {
    id: 'iteration.rows.in-order',
    title: 'iterate() yields every row, in order, as objects',
    run: async ({ client, sql, expect }) => {
      const rows = await collect(
        client.iterate<Record<string, unknown>>(sql.series(3000), [], { batchSize: 100 }),
      );
      expect(xs(rows)).toEqual(range(3000));
      expect(Object.keys(rows[0])).toEqual(['x', 'pad']);
    },
  },
  {
    id: 'iteration.rows.params',
    title: 'iterate() binds parameters',
    run: async ({ client, table, expect }) => {
      const t = await table({ v: 'int' });
      for (const v of [1, 2, 3, 4]) await client.query(`insert into ${t} (v) values (?)`, [v]);
      const rows = await collect(
        client.iterate<{ v: number }>(`select v from ${t} where v > ? order by v`, [2]),
      );
      expect(rows.map((r) => Number(r.v))).toEqual([3, 4]);
    },
  },
  {
    id: 'iteration.rows.empty',
    title: 'iterate() of an empty result ends at once',
    run: async ({ client, table, expect }) => {
      const t = await table({ v: 'int' });
      expect(await collect(client.iterate(`select v from ${t}`))).toEqual([]);
    },
  },
  {
    id: 'iteration.rows.batch-size-one',
    title: 'batchSize 1 still yields every row once',
    run: async ({ client, sql, expect }) => {
      expect(xs(await collect(client.iterate(sql.series(50), [], { batchSize: 1 })))).toEqual(
        range(50),
      );
    },
  },
  {
    id: 'iteration.batches.arrive',
    title:
      'a large result arrives in batches (the event loop turns between them), not in one piece',
    run: async ({ client, sql, expect }) => {
      let turns = 0;
      let running = true;
      const tick = (): void => {
        turns++;
        if (running) setImmediate(tick);
      };
      const it = client.iterate<Record<string, unknown>>(sql.series(20_000), [], {
        batchSize: 500,
      });
      let n = 0;
      const first = await it.next();
      expect(first.done).toBe(false);
      n++;
      setImmediate(tick);
      for await (const _ of it) n++;
      running = false;
      expect(n).toBe(20_000);
      // 40 batches: a client that fetched everything at once would let the loop turn ~once.
      expect(turns).toBeGreaterThanOrEqual(10);
    },
  },
  {
    id: 'iteration.memory.bounded',
    title:
      'memory stays bounded while iterating 200,000 rows of 200 characters (needs --expose-gc)',
    timeout: 120_000,
    run: async ({ client, sql, expect }) => {
      const gc = (globalThis as { gc?: () => void }).gc;
      expect(gc, 'run vitest with --expose-gc (execArgv in the test config)').toBeTypeOf(
        'function',
      );
      gc!();
      const base = process.memoryUsage().heapUsed;
      let peak = 0;
      let n = 0;
      for await (const row of client.iterate<{ pad: string }>(sql.series(200_000, 200), [], {
        batchSize: 1000,
      })) {
        if (row.pad.length !== 200) throw new Error(`row ${n} has a pad of ${row.pad.length}`);
        if (++n % 20_000 === 0) {
          gc!();
          peak = Math.max(peak, process.memoryUsage().heapUsed - base);
        }
      }
      expect(n).toBe(200_000);
      // The rows add up to at least 40 MB; a bounded iterator holds a few batches of them.
      expect(peak).toBeLessThan(20 * 1024 * 1024);
    },
  },
  {
    id: 'iteration.break.releases',
    title: '`break` out of a large iteration releases it: writes and transactions work at once',
    run: async (ctx) => {
      let n = 0;
      for await (const _ of ctx.client.iterate(ctx.sql.series(100_000), [], { batchSize: 100 })) {
        if (++n === 10) break;
      }
      ctx.expect(n).toBe(10);
      await connectionFree(ctx);
    },
  },
  {
    id: 'iteration.return.releases',
    title: 'calling return() on the iterator releases it',
    run: async (ctx) => {
      const it = ctx.client.iterate(ctx.sql.series(100_000), [], { batchSize: 100 });
      ctx.expect((await it.next()).done).toBe(false);
      const done = await it.return!();
      ctx.expect(done.done).toBe(true);
      ctx.expect((await it.next()).done).toBe(true);
      await connectionFree(ctx);
    },
  },
  {
    id: 'iteration.throw-in-loop.releases',
    title: 'an exception thrown in the loop body releases the iterator',
    run: async (ctx) => {
      const boom = new Error('loop body');
      const err = await rejection(
        (async () => {
          for await (const _ of ctx.client.iterate(ctx.sql.series(100_000), [], { batchSize: 100 }))
            throw boom;
        })(),
      );
      ctx.expect(err).toBe(boom);
      await connectionFree(ctx);
    },
  },
  {
    id: 'iteration.error.mid-stream',
    title: "an error in the middle of a result surfaces from the loop with the driver's code",
    run: async (ctx) => {
      let n = 0;
      const err = await rejection(
        (async () => {
          for await (const _ of ctx.client.iterate(ctx.sql.failingSeries(5000, 1500), [], {
            batchSize: 100,
          }))
            n++;
        })(),
      );
      ctx.expect(err.code, err.message).toBe(ctx.sql.midStreamError.code);
      ctx.expect(n).toBeLessThan(1500);
      await connectionFree(ctx);
    },
  },
  {
    id: 'iteration.concurrent.independent',
    title: 'ten iterations running at once each yield their own rows',
    run: async ({ client, sql, expect }) => {
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          collect(client.iterate(sql.series(500 + i), [], { batchSize: 64 })),
        ),
      );
      results.forEach((rows, i) => expect(xs(rows)).toEqual(range(500 + i)));
    },
  },
  {
    id: 'iteration.abort.mid-iteration',
    title: 'aborting the signal mid-iteration rejects with an AbortError and releases the iterator',
    run: async (ctx) => {
      const ac = new AbortController();
      let n = 0;
      const done = await settle(
        (async () => {
          for await (const _ of ctx.client.iterate(ctx.sql.series(100_000), [], {
            batchSize: 100,
            signal: ac.signal,
          })) {
            if (++n === 150) ac.abort();
          }
        })(),
      );
      ctx.expect(done.ok).toBe(false);
      ctx.expect((done.error as Error).name).toBe('AbortError');
      ctx.expect(n).toBeLessThan(100_000);
      await connectionFree(ctx);
    },
  },
]);
