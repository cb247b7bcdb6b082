import type { Client, LeakEvent } from '@unblock/core';
import { watchLeaks } from '@unblock/core/testing';
import { defineCases, type CaseContext } from '../case.js';
import { collect, rejection, sleep } from '../util.js';

// iterate() is called from this file, so a leak's origin stack must name it.
// Matched by name, as .js in dist or as .ts when a runner maps stacks through source maps.
const thisFile = /conformance[/](?:dist|src)[/]cases[/]leaks\.(?:js|ts)\b/;

function leakTools(ctx: CaseContext, client: Client) {
  const leaks = ctx.adapter.leaks;
  if (leaks === undefined)
    throw new Error('leakReports is claimed, but the descriptor has no `leaks` hook');
  const pool = leaks.pool(client);
  const events: LeakEvent[] = [];
  const warnings: Error[] = [];
  const onLeak = (event: LeakEvent): void => void events.push(event);
  const onWarning = (warning: Error): void => {
    if (String((warning as { code?: string }).code).startsWith('UNBLOCK_WARN_LEAK'))
      warnings.push(warning);
  };
  pool.leaks.on('leak', onLeak);
  process.on('warning', onWarning);
  ctx.onCleanup(() => {
    pool.leaks.off('leak', onLeak);
    process.off('warning', onWarning);
  });
  const live = (): number => pool.stats().handles.byKind[leaks.cursorKind] ?? 0;
  return { pool, kind: leaks.cursorKind, events, warnings, live };
}

function gcOrFail(ctx: CaseContext): () => void {
  const gc = (globalThis as { gc?: () => void }).gc;
  ctx
    .expect(gc, 'run vitest with --expose-gc (execArgv in the test config)')
    .toBeTypeOf('function');
  return gc!;
}

async function collectGarbage(gc: () => void, until: () => boolean): Promise<void> {
  for (let i = 0; i < 50 && !until(); i++) {
    gc();
    await sleep(20);
  }
}

/** Starts an iteration, takes one row, and drops every reference to it. */
async function abandonIterator(client: Client, sql: string): Promise<void> {
  const it = client.iterate(sql, [], { batchSize: 10 });
  await it.next();
}

export const leaksCases = defineCases('leaks', [
  {
    id: 'leaks.collected.warns-with-origin',
    title:
      'an unfinished iterator that is garbage-collected warns (UNBLOCK_WARN_LEAK) with the stack that opened it',
    requires: ['leakReports'],
    run: async (ctx) => {
      const gc = gcOrFail(ctx);
      const tools = leakTools(ctx, ctx.client);
      await abandonIterator(ctx.client, ctx.sql.series(1000));
      await collectGarbage(gc, () => tools.events.some((e) => e.reason === 'collected'));
      const event = tools.events.find((e) => e.reason === 'collected');
      ctx.expect(event, 'a collected leak event').toBeDefined();
      ctx.expect(event!.kind).toBe(tools.kind);
      ctx.expect(event!.stack).toMatch(thisFile);
      await sleep(10);
      ctx.expect(tools.warnings.some((w) => thisFile.test(w.message))).toBe(true);
    },
  },
  {
    id: 'leaks.collected.released',
    title:
      'a collected iterator is released in its worker: no cursor stays open and the client works',
    requires: ['leakReports'],
    run: async (ctx) => {
      const gc = gcOrFail(ctx);
      const tools = leakTools(ctx, ctx.client);
      const before = tools.live();
      await abandonIterator(ctx.client, ctx.sql.series(1000));
      ctx.expect(tools.live()).toBe(before + 1);
      await collectGarbage(gc, () => tools.live() === before);
      ctx.expect(tools.live()).toBe(before);
      const t = await ctx.table({ v: 'int' });
      await ctx.client.query(`insert into ${t} (v) values (?)`, [1]);
    },
  },
  {
    id: 'leaks.threshold.warns',
    title: 'an iterator held past leakDetectionThreshold is reported with its origin stack',
    requires: ['leakReports'],
    run: async (ctx) => {
      const client = await ctx.open({ leakDetectionThreshold: 100 });
      const tools = leakTools(ctx, client);
      const it = client.iterate(ctx.sql.series(1000), [], { batchSize: 10 });
      await it.next();
      await sleep(300);
      const event = tools.events.find((e) => e.reason === 'threshold');
      ctx.expect(event, 'a threshold leak event').toBeDefined();
      ctx.expect(event!.stack).toMatch(thisFile);
      ctx
        .expect(tools.warnings.some((w) => (w as { code?: string }).code === 'UNBLOCK_WARN_LEAK'))
        .toBe(true);
      await it.return!();
    },
  },
  {
    id: 'leaks.threshold.returned',
    title: 'a lease reported past the threshold is reported again when it is returned',
    requires: ['leakReports'],
    run: async (ctx) => {
      const client = await ctx.open({ leakDetectionThreshold: 100 });
      const tools = leakTools(ctx, client);
      const it = client.iterate(ctx.sql.series(1000), [], { batchSize: 10 });
      await it.next();
      await sleep(300);
      await it.return!();
      await sleep(20);
      ctx.expect(tools.events.map((e) => e.reason)).toEqual(['threshold', 'returned']);
    },
  },
  {
    id: 'leaks.threshold.quiet',
    title: 'iterations that finish within the threshold report nothing',
    requires: ['leakReports'],
    run: async (ctx) => {
      const client = await ctx.open({ leakDetectionThreshold: 1000 });
      const tools = leakTools(ctx, client);
      for (let i = 0; i < 5; i++)
        await collect(client.iterate(ctx.sql.series(200), [], { batchSize: 50 }));
      await sleep(50);
      ctx.expect(tools.events).toEqual([]);
    },
  },
  {
    id: 'leaks.close.reports-open',
    title: 'closing a client with an iterator still open reports it (open-at-close)',
    requires: ['leakReports'],
    run: async (ctx) => {
      const client = await ctx.open({});
      const tools = leakTools(ctx, client);
      const it = client.iterate(ctx.sql.series(1000), [], { batchSize: 10 });
      await it.next();
      await client.close();
      const event = tools.events.find((e) => e.reason === 'open-at-close');
      ctx.expect(event, 'an open-at-close leak event').toBeDefined();
      ctx.expect(event!.stack).toMatch(thisFile);
    },
  },
  {
    id: 'leaks.watch-leaks.clean',
    title:
      '@unblock/core/testing watchLeaks().check() passes after iterations that were finished or broken',
    requires: ['leakReports'],
    run: async (ctx) => {
      gcOrFail(ctx);
      const tools = leakTools(ctx, ctx.client);
      const watch = watchLeaks(tools.pool, { kinds: [tools.kind] });
      ctx.onCleanup(() => watch.stop());
      await collect(ctx.client.iterate(ctx.sql.series(300), [], { batchSize: 50 }));
      for await (const _ of ctx.client.iterate(ctx.sql.series(300), [], { batchSize: 50 })) break;
      const report = await watch.check();
      ctx.expect(report.events).toEqual([]);
    },
  },
  {
    id: 'leaks.watch-leaks.detects',
    title: 'watchLeaks().check() throws naming the cursor kind when an iterator is left open',
    requires: ['leakReports'],
    run: async (ctx) => {
      const tools = leakTools(ctx, ctx.client);
      const watch = watchLeaks(tools.pool, { kinds: [tools.kind] });
      ctx.onCleanup(() => watch.stop());
      const it = ctx.client.iterate(ctx.sql.series(300), [], { batchSize: 10 });
      await it.next();
      const err = await rejection(watch.check());
      ctx.expect(err.message).toContain(tools.kind);
      await it.return!();
      await watch.check();
    },
  },
]);
