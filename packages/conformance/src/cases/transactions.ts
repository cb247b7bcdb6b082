import { defineCases, type CaseContext } from '../case.js';
import { collect, count, rejection, settle, sleep, within } from '../util.js';

async function items(ctx: CaseContext): Promise<string> {
  return ctx.table({ v: 'int' });
}

const insert = (ctx: CaseContext, t: string, v: number) =>
  ctx.client.query(`insert into ${t} (v) values (?)`, [v]);

async function values(ctx: CaseContext, t: string): Promise<number[]> {
  const { rows } = await ctx.client.query(`select v from ${t} order by v`);
  return rows.map((r) => Number(r.v));
}

/** A gate a transaction waits on, so the test can act while it is open. */
function gate(): { open: () => void; wait: Promise<void> } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { open, wait };
}

/**
 * Starts a transaction that runs `before`, then stays open until `release()` is called, then
 * runs `after`; resolves once `before` has run, so the test can act while it is open.
 */
async function heldTransaction(
  ctx: CaseContext,
  before: () => Promise<unknown>,
  after: () => Promise<unknown> = async () => undefined,
): Promise<{ tx: Promise<unknown>; release: () => void }> {
  const inside = gate();
  const resume = gate();
  const tx = ctx.client.transaction(async () => {
    await before();
    inside.open();
    await resume.wait;
    await after();
  });
  // Until the caller awaits it, a rejection must not count as unhandled.
  tx.catch(() => undefined);
  await inside.wait;
  return { tx, release: resume.open };
}

export const transactionsCases = defineCases('transactions', [
  {
    id: 'transactions.commit.visible',
    title: 'a transaction that returns commits its writes',
    run: async (ctx) => {
      const t = await items(ctx);
      await ctx.client.transaction(async () => {
        await insert(ctx, t, 1);
        await insert(ctx, t, 2);
      });
      ctx.expect(await values(ctx, t)).toEqual([1, 2]);
    },
  },
  {
    id: 'transactions.commit.return-value',
    title: "transaction() resolves to fn's return value",
    run: async (ctx) => {
      const t = await items(ctx);
      const result = await ctx.client.transaction(async () => {
        await insert(ctx, t, 1);
        return { answer: 42 };
      });
      ctx.expect(result).toEqual({ answer: 42 });
    },
  },
  {
    id: 'transactions.commit.sees-own-writes',
    title: 'queries inside a transaction see its uncommitted writes',
    run: async (ctx) => {
      const t = await items(ctx);
      await ctx.client.transaction(async () => {
        await insert(ctx, t, 5);
        ctx.expect(await values(ctx, t)).toEqual([5]);
        ctx.expect(await collect(ctx.client.iterate(`select v from ${t}`))).toHaveLength(1);
      });
    },
  },
  {
    id: 'transactions.rollback.on-throw',
    title: 'a transaction whose fn throws rolls back and rejects with that error',
    run: async (ctx) => {
      const t = await items(ctx);
      const boom = new Error('boom');
      const err = await rejection(
        ctx.client.transaction(async () => {
          await insert(ctx, t, 1);
          throw boom;
        }),
      );
      ctx.expect(err).toBe(boom);
      ctx.expect(await values(ctx, t)).toEqual([]);
    },
  },
  {
    id: 'transactions.rollback.empty',
    title: 'a transaction with no queries commits and a later one still works',
    run: async (ctx) => {
      const t = await items(ctx);
      ctx.expect(await ctx.client.transaction(async () => 'nothing')).toBe('nothing');
      await ctx.client.transaction(async () => void (await insert(ctx, t, 1)));
      ctx.expect(await values(ctx, t)).toEqual([1]);
    },
  },
  {
    id: 'transactions.nested.inner-rollback',
    title: 'a nested transaction that throws rolls back only its own writes (savepoint)',
    run: async (ctx) => {
      const t = await items(ctx);
      await ctx.client.transaction(async () => {
        await insert(ctx, t, 1);
        await rejection(
          ctx.client.transaction(async () => {
            await insert(ctx, t, 2);
            throw new Error('inner');
          }),
        );
        await insert(ctx, t, 3);
      });
      ctx.expect(await values(ctx, t)).toEqual([1, 3]);
    },
  },
  {
    id: 'transactions.nested.inner-commit',
    title: "a nested transaction's writes commit with the outer one",
    run: async (ctx) => {
      const t = await items(ctx);
      await ctx.client.transaction(async () => {
        await insert(ctx, t, 1);
        await ctx.client.transaction(async () => void (await insert(ctx, t, 2)));
      });
      ctx.expect(await values(ctx, t)).toEqual([1, 2]);
    },
  },
  {
    id: 'transactions.nested.outer-rollback',
    title: 'an outer rollback also undoes a nested transaction that succeeded',
    run: async (ctx) => {
      const t = await items(ctx);
      await rejection(
        ctx.client.transaction(async () => {
          await insert(ctx, t, 1);
          await ctx.client.transaction(async () => void (await insert(ctx, t, 2)));
          throw new Error('outer');
        }),
      );
      ctx.expect(await values(ctx, t)).toEqual([]);
    },
  },
  {
    id: 'transactions.nested.deep',
    title: 'three levels of savepoints roll back and commit independently',
    run: async (ctx) => {
      const t = await items(ctx);
      await ctx.client.transaction(async () => {
        await insert(ctx, t, 1);
        await ctx.client.transaction(async () => {
          await insert(ctx, t, 2);
          await rejection(
            ctx.client.transaction(async () => {
              await insert(ctx, t, 3);
              throw new Error('deepest');
            }),
          );
          await ctx.client.transaction(async () => void (await insert(ctx, t, 4)));
        });
      });
      ctx.expect(await values(ctx, t)).toEqual([1, 2, 4]);
    },
  },
  {
    id: 'transactions.outside-write.not-in-tx',
    title: 'a write made outside an open transaction is not part of it (survives its rollback)',
    run: async (ctx) => {
      const t = await items(ctx);
      const held = await heldTransaction(
        ctx,
        () => insert(ctx, t, 1),
        () => Promise.reject(new Error('roll back')),
      );
      const tx = settle(held.tx);
      // Started from the test's own async context, not from inside fn.
      const outside = settle(insert(ctx, t, 2));
      await sleep(50);
      held.release();
      ctx.expect((await within(tx, 10_000, 'the transaction')).ok).toBe(false);
      ctx.expect((await within(outside, 10_000, 'the outside write')).ok).toBe(true);
      ctx.expect(await values(ctx, t)).toEqual([2]);
    },
  },
  {
    id: 'transactions.outside-write.waits',
    title: 'a write from outside waits until the open transaction ends',
    requires: ['serializedWrites'],
    run: async (ctx) => {
      const t = await items(ctx);
      let committedAt = 0;
      const { tx, release } = await heldTransaction(
        ctx,
        () => insert(ctx, t, 1),
        async () => {
          await insert(ctx, t, 2);
          committedAt = performance.now();
        },
      );
      const outside = settle(insert(ctx, t, 3));
      await sleep(150);
      release();
      await tx;
      const done = await outside;
      ctx.expect(done.ok).toBe(true);
      ctx.expect(done.at).toBeGreaterThanOrEqual(committedAt);
      ctx.expect(await values(ctx, t)).toEqual([1, 2, 3]);
    },
  },
  {
    id: 'transactions.outside-read.no-uncommitted',
    title: 'a read from outside never sees the writes of an open transaction',
    run: async (ctx) => {
      const t = await items(ctx);
      const held = await heldTransaction(
        ctx,
        () => insert(ctx, t, 1),
        () => Promise.reject(new Error('roll back')),
      );
      const tx = settle(held.tx);
      const read = settle(values(ctx, t));
      await sleep(50);
      held.release();
      await within(tx, 10_000, 'the transaction');
      const seen = await within(read, 10_000, 'the outside read');
      ctx.expect(seen.ok).toBe(true);
      ctx.expect(seen.value).toEqual([]);
    },
  },
  {
    id: 'transactions.outside-read.concurrent',
    title: 'a read from outside answers while a transaction is open, with the committed state',
    requires: ['concurrentReaders'],
    run: async (ctx) => {
      const t = await items(ctx);
      await insert(ctx, t, 1);
      const { tx, release } = await heldTransaction(ctx, () => insert(ctx, t, 2));
      try {
        ctx
          .expect(await within(values(ctx, t), 5_000, 'a read during the transaction'))
          .toEqual([1]);
      } finally {
        release();
        await tx;
      }
      ctx.expect(await values(ctx, t)).toEqual([1, 2]);
    },
  },
  {
    id: 'transactions.concurrent.no-lost-update',
    title: '20 concurrent read-modify-write transactions lose no update',
    run: async (ctx) => {
      const t = await ctx.table({ id: 'int primary key', n: 'int' });
      await ctx.client.query(`insert into ${t} (id, n) values (1, 0)`);
      await Promise.all(
        Array.from({ length: 20 }, () =>
          ctx.client.transaction(async () => {
            const { rows } = await ctx.client.query(
              `select n from ${t} where id = 1${ctx.sql.forUpdate}`,
            );
            await sleep(1);
            await ctx.client.query(`update ${t} set n = ? where id = 1`, [Number(rows[0].n) + 1]);
          }),
        ),
      );
      const { rows } = await ctx.client.query(`select n from ${t} where id = 1`);
      ctx.expect(Number(rows[0].n)).toBe(20);
    },
  },
  {
    id: 'transactions.concurrent.independent',
    title: 'concurrent transactions commit or roll back independently',
    run: async (ctx) => {
      const t = await items(ctx);
      const outcomes = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          ctx.client.transaction(async () => {
            await insert(ctx, t, i);
            await sleep(i % 3);
            await insert(ctx, t, 100 + i);
            if (i % 2 === 1) throw new Error(`tx ${i} fails`);
          }),
        ),
      );
      ctx
        .expect(outcomes.map((o) => o.status))
        .toEqual(Array.from({ length: 10 }, (_, i) => (i % 2 === 1 ? 'rejected' : 'fulfilled')));
      ctx.expect(await values(ctx, t)).toEqual([0, 2, 4, 6, 8, 100, 102, 104, 106, 108]);
    },
  },
  {
    id: 'transactions.sequential.many',
    title: '100 transactions one after another all commit',
    run: async (ctx) => {
      const t = await items(ctx);
      for (let i = 0; i < 100; i++)
        await ctx.client.transaction(async () => void (await insert(ctx, t, i)));
      ctx.expect(await count(ctx.client, t)).toBe(100);
    },
  },
  {
    id: 'transactions.stray-call.settles',
    title:
      'a call that fn started but did not await, landing after commit, still settles and is not lost',
    run: async (ctx) => {
      const t = await items(ctx);
      let stray: Promise<unknown> | undefined;
      await ctx.client.transaction(async () => {
        await insert(ctx, t, 1);
        stray = new Promise((resolve) => setTimeout(resolve, 50)).then(() => insert(ctx, t, 2));
      });
      const done = await within(settle(stray!), 10_000, 'the stray call');
      // It may run on its own or be refused, but never hang, and a success must be durable.
      const expected = done.ok ? [1, 2] : [1];
      ctx.expect(await values(ctx, t)).toEqual(expected);
    },
  },
]);
