import { defineCases, type CaseContext } from '../case.js';
import { count, rejection, settle, sleep, within } from '../util.js';

function expectAbort(ctx: CaseContext, err: unknown, reason?: unknown): void {
  ctx.expect(err).toBeInstanceOf(Error);
  ctx.expect((err as Error).name).toBe('AbortError');
  ctx.expect((err as { code?: string }).code).toBe('ABORT_ERR');
  if (reason !== undefined) ctx.expect((err as Error).cause).toBe(reason);
}

async function works(ctx: CaseContext): Promise<void> {
  const { rows } = await within(
    ctx.client.query('select 2 as two'),
    10_000,
    'a query after the abort',
  );
  ctx.expect(rows).toEqual([{ two: 2 }]);
}

/** Keeps the transaction's connection busy so the next call inside it waits in the queue. */
async function queuedBehindSlowQuery(
  ctx: CaseContext,
  t: string,
  options: { signal?: AbortSignal; timeout?: number },
  abort?: () => void,
): Promise<unknown> {
  let queuedError: unknown;
  await ctx.client.transaction(async () => {
    const slow = ctx.client.query(ctx.sql.sleep(400));
    const queued = settle(ctx.client.query(`insert into ${t} (v) values (?)`, [1], options));
    await sleep(50);
    abort?.();
    await slow;
    const outcome = await queued;
    queuedError = outcome.ok ? undefined : outcome.error;
  });
  return queuedError;
}

const LONG = 20_000;

export const cancellationCases = defineCases('cancellation', [
  {
    id: 'cancellation.pre-aborted.never-runs',
    title: 'a call with an already aborted signal rejects with an AbortError and never runs',
    run: async (ctx) => {
      const t = await ctx.table({ v: 'int' });
      const reason = new Error('already');
      const err = await rejection(
        ctx.client.query(`insert into ${t} (v) values (?)`, [1], {
          signal: AbortSignal.abort(reason),
        }),
      );
      expectAbort(ctx, err, reason);
      ctx.expect(await count(ctx.client, t)).toBe(0);
    },
  },
  {
    id: 'cancellation.queued.same-tick',
    title: 'a call aborted in the tick it was made never runs (checked by its side effect)',
    run: async (ctx) => {
      const t = await ctx.table({ v: 'int' });
      const ac = new AbortController();
      const call = ctx.client.query(`insert into ${t} (v) values (?)`, [1], { signal: ac.signal });
      ac.abort();
      expectAbort(ctx, await rejection(call));
      await sleep(100);
      ctx.expect(await count(ctx.client, t)).toBe(0);
    },
  },
  {
    id: 'cancellation.queued.behind-running',
    title: 'a call aborted while queued behind a running one never runs; the running one completes',
    run: async (ctx) => {
      const t = await ctx.table({ v: 'int' });
      const ac = new AbortController();
      const err = await queuedBehindSlowQuery(ctx, t, { signal: ac.signal }, () => ac.abort());
      expectAbort(ctx, err);
      ctx.expect(await count(ctx.client, t)).toBe(0);
    },
  },
  {
    id: 'cancellation.timeout.queued',
    title:
      'a call whose timeout passes while queued rejects (cause UNBLOCK_ERR_TIMEOUT) and never runs',
    run: async (ctx) => {
      const t = await ctx.table({ v: 'int' });
      const err = await queuedBehindSlowQuery(ctx, t, { timeout: 30 });
      expectAbort(ctx, err);
      ctx.expect(((err as Error).cause as { code?: string }).code).toBe('UNBLOCK_ERR_TIMEOUT');
      ctx.expect(await count(ctx.client, t)).toBe(0);
    },
  },
  {
    id: 'cancellation.running.rejects-promptly',
    title:
      'a running query aborted after 100 ms rejects within 3 s with AbortError (cause = the reason)',
    requires: ['cancelRunning'],
    run: async (ctx) => {
      const ac = new AbortController();
      const reason = new Error('user left');
      const call = settle(ctx.client.query(ctx.sql.sleep(LONG), [], { signal: ac.signal }));
      await sleep(100);
      const abortedAt = performance.now();
      ac.abort(reason);
      const done = await within(call, 10_000, 'the aborted query');
      ctx.expect(done.ok).toBe(false);
      expectAbort(ctx, done.error, reason);
      ctx.expect(done.at - abortedAt).toBeLessThan(3_000);
    },
  },
  {
    id: 'cancellation.running.state',
    title: "an abort of a running call says state 'running'",
    requires: ['cancelRunning'],
    run: async (ctx) => {
      const ac = new AbortController();
      const call = rejection(ctx.client.query(ctx.sql.sleep(LONG), [], { signal: ac.signal }));
      await sleep(100);
      ac.abort();
      const err = await within(call, 10_000, 'the aborted query');
      ctx.expect((err as { state?: string }).state).toBe('running');
    },
  },
  {
    id: 'cancellation.running.client-works',
    title: 'after a running query is aborted the client answers the next queries and writes',
    requires: ['cancelRunning'],
    run: async (ctx) => {
      const t = await ctx.table({ v: 'int' });
      const ac = new AbortController();
      const call = rejection(ctx.client.query(ctx.sql.sleep(LONG), [], { signal: ac.signal }));
      await sleep(100);
      ac.abort();
      await within(call, 10_000, 'the aborted query');
      await works(ctx);
      await ctx.client.query(`insert into ${t} (v) values (?)`, [1]);
      ctx.expect(await count(ctx.client, t)).toBe(1);
    },
  },
  {
    id: 'cancellation.running.timeout',
    title:
      'a running query past its timeout rejects promptly with AbortError (cause UNBLOCK_ERR_TIMEOUT)',
    requires: ['cancelRunning'],
    run: async (ctx) => {
      const started = performance.now();
      const done = await within(
        settle(ctx.client.query(ctx.sql.sleep(LONG), [], { timeout: 200 })),
        10_000,
        'the query',
      );
      ctx.expect(done.ok).toBe(false);
      expectAbort(ctx, done.error);
      ctx
        .expect(((done.error as Error).cause as { code?: string }).code)
        .toBe('UNBLOCK_ERR_TIMEOUT');
      ctx.expect(done.at - started).toBeLessThan(3_200);
      await works(ctx);
    },
  },
  {
    id: 'cancellation.timeout.not-reached',
    title: 'a call that finishes before its timeout resolves normally, and nothing fires later',
    run: async (ctx) => {
      const t = await ctx.table({ v: 'int' });
      await ctx.client.query(`insert into ${t} (v) values (?)`, [1], { timeout: 100 });
      await sleep(200);
      ctx.expect(await count(ctx.client, t)).toBe(1);
      await works(ctx);
    },
  },
  {
    id: 'cancellation.after-completion.no-effect',
    title: 'aborting after the call resolved changes nothing',
    run: async (ctx) => {
      const t = await ctx.table({ v: 'int' });
      const ac = new AbortController();
      const result = await ctx.client.query(`insert into ${t} (v) values (?)`, [1], {
        signal: ac.signal,
      });
      ac.abort();
      await sleep(50);
      ctx.expect(result.changes).toBe(1);
      ctx.expect(await count(ctx.client, t)).toBe(1);
      await works(ctx);
    },
  },
  {
    id: 'cancellation.isolation.queued-neighbours',
    title: "aborting some of 40 concurrent calls never touches another caller's call",
    run: async (ctx) => {
      const t = await ctx.table({ v: 'int' });
      const controllers = Array.from({ length: 40 }, () => new AbortController());
      const calls = controllers.map((ac, i) =>
        settle(ctx.client.query(`insert into ${t} (v) values (?)`, [i], { signal: ac.signal })),
      );
      controllers.forEach((ac, i) => i % 2 === 1 && ac.abort());
      const done = await Promise.all(calls);
      done.forEach((d, i) => {
        if (i % 2 === 0) ctx.expect(d.ok, `call ${i} was not aborted`).toBe(true);
      });
      const { rows } = await ctx.client.query(`select v from ${t} order by v`);
      const stored = rows.map((r) => Number(r.v));
      // Every call that was not aborted ran; no aborted call that reported an abort ran.
      const expected = done.map((d, i) => (d.ok ? i : -1)).filter((i) => i >= 0);
      ctx.expect(stored).toEqual(expected);
      ctx.expect(stored.filter((v) => v % 2 === 0)).toHaveLength(20);
    },
  },
  {
    id: 'cancellation.isolation.running-neighbour',
    title: 'aborting a running query does not fail the call queued after it',
    requires: ['cancelRunning'],
    run: async (ctx) => {
      const t = await ctx.table({ v: 'int' });
      const ac = new AbortController();
      const slow = settle(ctx.client.query(ctx.sql.sleep(LONG), [], { signal: ac.signal }));
      const neighbour = settle(ctx.client.query(`insert into ${t} (v) values (?)`, [7]));
      await sleep(100);
      ac.abort();
      ctx.expect((await within(slow, 10_000, 'the aborted query')).ok).toBe(false);
      const other = await within(neighbour, 10_000, 'the neighbour');
      ctx.expect(other.ok, String(other.error)).toBe(true);
      ctx.expect(await count(ctx.client, t)).toBe(1);
    },
  },
  {
    id: 'cancellation.transaction.signal-rolls-back',
    title: "aborting a transaction's signal between its queries rolls it back",
    run: async (ctx) => {
      const t = await ctx.table({ v: 'int' });
      const ac = new AbortController();
      const tx = settle(
        ctx.client.transaction(
          async () => {
            await ctx.client.query(`insert into ${t} (v) values (?)`, [1]);
            await sleep(200);
            await ctx.client.query(`insert into ${t} (v) values (?)`, [2]);
          },
          { signal: ac.signal },
        ),
      );
      await sleep(50);
      ac.abort();
      const done = await within(tx, 10_000, 'the transaction');
      ctx.expect(done.ok).toBe(false);
      expectAbort(ctx, done.error);
      ctx.expect(await count(ctx.client, t)).toBe(0);
      await works(ctx);
    },
  },
  {
    id: 'cancellation.transaction.running-rolls-back',
    title: 'aborting a transaction while its query runs rejects promptly and rolls it back',
    requires: ['cancelRunning'],
    run: async (ctx) => {
      const t = await ctx.table({ v: 'int' });
      const ac = new AbortController();
      const tx = settle(
        ctx.client.transaction(
          async () => {
            await ctx.client.query(`insert into ${t} (v) values (?)`, [1]);
            await ctx.client.query(ctx.sql.sleep(LONG));
          },
          { signal: ac.signal },
        ),
      );
      await sleep(150);
      const abortedAt = performance.now();
      ac.abort();
      const done = await within(tx, 10_000, 'the transaction');
      ctx.expect(done.ok).toBe(false);
      expectAbort(ctx, done.error);
      ctx.expect(done.at - abortedAt).toBeLessThan(3_000);
      ctx.expect(await within(count(ctx.client, t), 10_000, 'a count after the abort')).toBe(0);
    },
  },
  {
    id: 'cancellation.transaction.timeout-rolls-back',
    title: 'a transaction timeout that expires during a query rolls it back',
    requires: ['cancelRunning'],
    run: async (ctx) => {
      const t = await ctx.table({ v: 'int' });
      const done = await within(
        settle(
          ctx.client.transaction(
            async () => {
              await ctx.client.query(`insert into ${t} (v) values (?)`, [1]);
              await ctx.client.query(ctx.sql.sleep(LONG));
            },
            { timeout: 300 },
          ),
        ),
        10_000,
        'the transaction',
      );
      ctx.expect(done.ok).toBe(false);
      expectAbort(ctx, done.error);
      ctx.expect(await count(ctx.client, t)).toBe(0);
    },
  },
]);
