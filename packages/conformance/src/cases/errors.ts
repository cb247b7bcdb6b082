import type { ExpectedError } from '../dialects.js';
import { defineCases, type CaseContext } from '../case.js';
import { collect, count, rejection } from '../util.js';

// The query calls below are made from this file, so a joined caller stack must name it.
// Matched by name, as .js in dist or as .ts when a runner maps stacks through source maps.
const thisFile = /conformance[/](?:dist|src)[/]cases[/]errors\.(?:js|ts)\b/;
const suiteFile = /conformance[/](?:dist|src)[/][\w/-]+\.(?:js|ts)\b/;

function expectDriverError(
  ctx: CaseContext,
  err: Error & Record<string, unknown>,
  expected: ExpectedError,
): void {
  ctx.expect(err).toBeInstanceOf(Error);
  ctx.expect(err.code, err.message).toBe(expected.code);
  if (expected.props) ctx.expect(err).toMatchObject(expected.props);
}

async function uniqueTable(ctx: CaseContext): Promise<string> {
  const t = await ctx.table({ k: 'key unique', n: 'int not null' });
  await ctx.client.query(`insert into ${t} (k, n) values (?, ?)`, ['a', 1]);
  return t;
}

export const errorsCases = defineCases('errors', [
  {
    id: 'errors.syntax.code',
    title: "a syntax error rejects with the driver's code",
    run: async (ctx) => {
      const err = await rejection(ctx.client.query('selec 1'));
      expectDriverError(ctx, err, ctx.sql.syntaxError);
      ctx.expect(err.message).toMatch(/syntax/i);
    },
  },
  {
    id: 'errors.syntax.class',
    title: "a driver error keeps the driver's class name",
    run: async (ctx) => {
      const err = await rejection(ctx.client.query('selec 1'));
      ctx.expect(err.name).toBe(ctx.sql.errorName);
      ctx.expect(err.constructor.name).toBe(ctx.sql.errorName);
    },
  },
  {
    id: 'errors.unique.code',
    title:
      'a unique violation rejects with the driver code (SQLITE_CONSTRAINT_UNIQUE / ER_DUP_ENTRY)',
    run: async (ctx) => {
      const t = await uniqueTable(ctx);
      const err = await rejection(
        ctx.client.query(`insert into ${t} (k, n) values (?, ?)`, ['a', 2]),
      );
      expectDriverError(ctx, err, ctx.sql.uniqueViolation);
      ctx.expect(err.name).toBe(ctx.sql.errorName);
    },
  },
  {
    id: 'errors.not-null.code',
    title: 'a NOT NULL violation rejects with the driver code',
    run: async (ctx) => {
      const t = await uniqueTable(ctx);
      const err = await rejection(
        ctx.client.query(`insert into ${t} (k, n) values (?, ?)`, ['b', null]),
      );
      expectDriverError(ctx, err, ctx.sql.notNullViolation);
    },
  },
  {
    id: 'errors.no-such-table.code',
    title: 'a missing table rejects with the driver code',
    run: async (ctx) => {
      const err = await rejection(ctx.client.query('select * from cf_no_such_table_here'));
      expectDriverError(ctx, err, ctx.sql.noSuchTable);
    },
  },
  {
    id: 'errors.stack.caller',
    title: "err.stack includes the caller's frames (this file), not only the worker's",
    run: async (ctx) => {
      const err = await rejection(ctx.client.query('selec 1'));
      ctx.expect(err.stack).toMatch(thisFile);
    },
  },
  {
    id: 'errors.stack.first-frame',
    title:
      "err.stack's first frame is the caller's (this suite's), not the adapter's or core's, as the driver's errors begin",
    run: async (ctx) => {
      const err = await rejection(ctx.client.query('selec 1'));
      const first = err.stack?.split('\n').find((line) => line.startsWith('    at '));
      // This file, or the helper awaiting the call (when the adapter sent it after an await).
      ctx.expect(first, err.stack).toMatch(suiteFile);
    },
  },
  {
    id: 'errors.stack.caller-constraint',
    title: "a constraint error's stack includes the caller's frames too",
    run: async (ctx) => {
      const t = await uniqueTable(ctx);
      const err = await rejection(
        ctx.client.query(`insert into ${t} (k, n) values (?, ?)`, ['a', 3]),
      );
      ctx.expect(err.stack).toMatch(thisFile);
      ctx.expect(err.stack).toContain(err.message);
    },
  },
  {
    id: 'errors.client-usable',
    title: 'after syntax and constraint errors the client still works',
    run: async (ctx) => {
      const t = await uniqueTable(ctx);
      await rejection(ctx.client.query('selec 1'));
      await rejection(ctx.client.query(`insert into ${t} (k, n) values (?, ?)`, ['a', 2]));
      await ctx.client.query(`insert into ${t} (k, n) values (?, ?)`, ['b', 2]);
      ctx.expect(await count(ctx.client, t)).toBe(2);
    },
  },
  {
    id: 'errors.concurrent.isolated',
    title: 'interleaved failing and succeeding calls each get their own outcome',
    run: async (ctx) => {
      const calls = Array.from({ length: 40 }, (_, i) =>
        i % 2 === 0 ? ctx.client.query(`select ${i} as v`) : ctx.client.query(`selec ${i}`),
      );
      const settled = await Promise.allSettled(calls);
      settled.forEach((s, i) => {
        if (i % 2 === 0) {
          ctx.expect(s.status).toBe('fulfilled');
          ctx
            .expect((s as PromiseFulfilledResult<{ rows: unknown[] }>).value.rows)
            .toEqual([{ v: i }]);
        } else {
          ctx.expect(s.status).toBe('rejected');
          ctx
            .expect(((s as PromiseRejectedResult).reason as { code: string }).code)
            .toBe(ctx.sql.syntaxError.code);
        }
      });
    },
  },
  {
    id: 'errors.transaction.driver-error',
    title: 'an uncaught driver error in a transaction rejects it with that error and rolls it back',
    run: async (ctx) => {
      const t = await uniqueTable(ctx);
      const err = await rejection(
        ctx.client.transaction(async () => {
          await ctx.client.query(`insert into ${t} (k, n) values (?, ?)`, ['b', 1]);
          await ctx.client.query(`insert into ${t} (k, n) values (?, ?)`, ['a', 1]);
        }),
      );
      expectDriverError(ctx, err, ctx.sql.uniqueViolation);
      ctx.expect(await count(ctx.client, t)).toBe(1);
    },
  },
  {
    id: 'errors.transaction.caught',
    title: 'a driver error caught inside a transaction lets it go on and commit',
    run: async (ctx) => {
      const t = await uniqueTable(ctx);
      await ctx.client.transaction(async () => {
        await ctx.client.query(`insert into ${t} (k, n) values (?, ?)`, ['b', 1]);
        await rejection(ctx.client.query(`insert into ${t} (k, n) values (?, ?)`, ['a', 1]));
        await ctx.client.query(`insert into ${t} (k, n) values (?, ?)`, ['c', 1]);
      });
      ctx.expect(await count(ctx.client, t)).toBe(3);
    },
  },
  {
    id: 'errors.transaction.user-error-identity',
    title: "the caller's own error thrown in a transaction comes back as the same object",
    run: async (ctx) => {
      class Mine extends Error {}
      const mine = new Mine('mine');
      const err = await rejection(
        ctx.client.transaction(async () => {
          await ctx.client.query('select 1 as one');
          throw mine;
        }),
      );
      ctx.expect(err).toBe(mine);
    },
  },
  {
    id: 'errors.iterate.syntax',
    title: "iterate() of bad SQL rejects with the driver's code",
    run: async (ctx) => {
      const err = await rejection(collect(ctx.client.iterate('selec 1')));
      expectDriverError(ctx, err, ctx.sql.syntaxError);
    },
  },
  {
    id: 'errors.unhandled.none',
    title: 'a failing call raises no unhandled rejection',
    run: async (ctx) => {
      const seen: unknown[] = [];
      const onUnhandled = (reason: unknown): void => void seen.push(reason);
      process.on('unhandledRejection', onUnhandled);
      try {
        await rejection(ctx.client.query('selec 1'));
        await rejection(collect(ctx.client.iterate('selec 2')));
        await new Promise((resolve) => setTimeout(resolve, 50));
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
      ctx.expect(seen).toEqual([]);
    },
  },
]);
