import { WorkerExitedError, type Client } from '@unblock/core';
import { defineCases, type CaseContext } from '../case.js';
import { count, rejection, settle, within } from '../util.js';

function crash(ctx: CaseContext, client: Client): Promise<unknown> {
  if (ctx.adapter.crash === undefined)
    throw new Error('crashRecovery is claimed, but the descriptor has no `crash` hook');
  return ctx.adapter.crash(client);
}

async function expectExited(ctx: CaseContext, promise: Promise<unknown>): Promise<Error> {
  const err = await within(rejection(promise, 'the crashing call'), 15_000, 'the crashing call');
  ctx.expect((err as { code?: string }).code, err.message).toBe('UNBLOCK_ERR_WORKER_EXITED');
  return err;
}

async function recovers(ctx: CaseContext, client: Client): Promise<void> {
  const { rows } = await within(
    client.query('select 3 as three'),
    15_000,
    'the first query after the crash',
  );
  ctx.expect(rows).toEqual([{ three: 3 }]);
}

export const crashesCases = defineCases('crashes', [
  {
    id: 'crashes.exit.code',
    title: 'a call whose worker dies rejects with UNBLOCK_ERR_WORKER_EXITED',
    requires: ['crashRecovery'],
    run: async (ctx) => {
      const client = await ctx.open();
      await expectExited(ctx, crash(ctx, client));
    },
  },
  {
    id: 'crashes.exit.class',
    title: "the rejection is core's WorkerExitedError",
    requires: ['crashRecovery'],
    run: async (ctx) => {
      const client = await ctx.open();
      const err = await expectExited(ctx, crash(ctx, client));
      ctx.expect(err).toBeInstanceOf(WorkerExitedError);
      ctx.expect(err.name).toBe('WorkerExitedError');
    },
  },
  {
    id: 'crashes.recovers.query',
    title: 'after a crash the client answers queries again',
    requires: ['crashRecovery'],
    run: async (ctx) => {
      const client = await ctx.open();
      await expectExited(ctx, crash(ctx, client));
      await recovers(ctx, client);
    },
  },
  {
    id: 'crashes.recovers.transaction',
    title: 'after a crash the client commits transactions again',
    requires: ['crashRecovery'],
    run: async (ctx) => {
      const client = await ctx.open();
      await expectExited(ctx, crash(ctx, client));
      await recovers(ctx, client);
      const t = await ctx.table({ v: 'int' }, client);
      await client.transaction(
        async () => void (await client.query(`insert into ${t} (v) values (?)`, [1])),
      );
      ctx.expect(await count(client, t)).toBe(1);
    },
  },
  {
    id: 'crashes.in-transaction.rolled-back',
    title:
      'a crash inside a transaction rejects it with UNBLOCK_ERR_WORKER_EXITED and commits nothing',
    requires: ['crashRecovery'],
    run: async (ctx) => {
      const client = await ctx.open();
      const t = await ctx.table({ v: 'int' }, client);
      await client.query(`insert into ${t} (v) values (?)`, [1]);
      await expectExited(
        ctx,
        client.transaction(async () => {
          await client.query(`insert into ${t} (v) values (?)`, [2]);
          await crash(ctx, client);
        }),
      );
      await recovers(ctx, client);
      // An in-memory database dies with its worker: then nothing at all survives, which is
      // also "nothing committed". Otherwise the committed row is there and the other is not.
      const left = await client.query(`select v from ${t}`).then(
        ({ rows }) => rows.map((r) => Number(r.v)),
        () => [] as number[],
      );
      ctx.expect([[1], []]).toContainEqual(left);
    },
  },
  {
    id: 'crashes.in-flight.all-settle',
    title: 'every call in flight when a worker dies settles; none hangs',
    requires: ['crashRecovery'],
    run: async (ctx) => {
      const client = await ctx.open();
      const others = Array.from({ length: 20 }, (_, i) => settle(client.query(`select ${i} as v`)));
      const crashing = settle(crash(ctx, client));
      const after = Array.from({ length: 20 }, (_, i) => settle(client.query(`select ${i} as v`)));
      const all = await within(
        Promise.all([...others, crashing, ...after]),
        20_000,
        'the calls in flight',
      );
      for (const [i, s] of [...others, ...after].entries()) {
        const done = await s;
        if (done.ok) ctx.expect((done.value as { rows: unknown[] }).rows).toEqual([{ v: i % 20 }]);
        else ctx.expect((done.error as { code?: string }).code).toMatch(/^UNBLOCK_ERR_/);
      }
      ctx.expect(all[20].ok).toBe(false);
      await recovers(ctx, client);
    },
  },
  {
    id: 'crashes.repeated',
    title: 'three crashes in a row still leave a working client',
    requires: ['crashRecovery'],
    timeout: 60_000,
    run: async (ctx) => {
      const client = await ctx.open();
      for (let i = 0; i < 3; i++) {
        await expectExited(ctx, crash(ctx, client));
        await recovers(ctx, client);
      }
    },
  },
]);
