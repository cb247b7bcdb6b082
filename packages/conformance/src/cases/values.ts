import { randomBytes } from 'node:crypto';
import type { Client } from '@unblock/core';
import { defineCases, type CaseContext, type ColumnSpec } from '../case.js';
import { rejection } from '../util.js';

/** Stores `value` in a one-column table of `type` and reads it back. */
async function roundTrip(ctx: CaseContext, type: ColumnSpec, value: unknown): Promise<unknown> {
  const t = await ctx.table({ v: type });
  await ctx.client.query(`insert into ${t} (v) values (?)`, [value]);
  const { rows } = await ctx.client.query(`select v from ${t}`);
  ctx.expect(rows).toHaveLength(1);
  return rows[0].v;
}

/** Stores `value` and reads it back converted to text by the database. */
async function storedAsText(ctx: CaseContext, value: bigint): Promise<string> {
  const t = await ctx.table({ v: 'int' });
  await ctx.client.query(`insert into ${t} (v) values (?)`, [value]);
  const { rows } = await ctx.client.query(`select ${ctx.sql.castText('v')} as s from ${t}`);
  return rows[0].s as string;
}

async function stillWorks(ctx: CaseContext, client: Client = ctx.client): Promise<void> {
  const { rows } = await client.query('select 1 as one');
  ctx.expect(rows).toEqual([{ one: 1 }]);
}

const integer = (id: string, title: string, value: number) => ({
  id,
  title,
  run: async (ctx: CaseContext) => {
    const back = await roundTrip(ctx, 'int', value);
    ctx.expect(typeof back).toBe('number');
    ctx.expect(back).toBe(value);
  },
});

const bigintText = (id: string, title: string, value: bigint) => ({
  id,
  title,
  run: async (ctx: CaseContext) => {
    ctx.expect(await storedAsText(ctx, value)).toBe(value.toString());
  },
});

const exact = (id: string, title: string, type: ColumnSpec, value: unknown) => ({
  id,
  title,
  run: async (ctx: CaseContext) => {
    ctx.expect(await roundTrip(ctx, type, value)).toStrictEqual(value);
  },
});

const blob = (id: string, title: string, bytes: Uint8Array) => ({
  id,
  title,
  run: async (ctx: CaseContext) => {
    const back = await roundTrip(ctx, 'blob', bytes);
    ctx.expect(Buffer.isBuffer(back), 'a BLOB reads back as a Buffer').toBe(true);
    ctx
      .expect(
        (back as Buffer).equals(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)),
      )
      .toBe(true);
  },
});

export const valuesCases = defineCases('values', [
  integer('values.integer.zero', 'the integer 0 round-trips as a number', 0),
  integer('values.integer.negative', 'a negative integer round-trips', -42),
  integer(
    'values.integer.max-safe',
    'Number.MAX_SAFE_INTEGER (2^53 - 1) round-trips exactly as a number',
    Number.MAX_SAFE_INTEGER,
  ),
  integer(
    'values.integer.min-safe',
    'Number.MIN_SAFE_INTEGER round-trips exactly as a number',
    Number.MIN_SAFE_INTEGER,
  ),
  integer('values.integer.int32-overflow', 'an integer past 2^31 keeps its value', 2 ** 31 + 7),
  bigintText(
    'values.bigint.past-safe',
    'a BigInt parameter of 2^53 + 1 is stored exactly',
    2n ** 53n + 1n,
  ),
  bigintText(
    'values.bigint.int64-max',
    'a BigInt parameter of 2^63 - 1 is stored exactly',
    2n ** 63n - 1n,
  ),
  bigintText(
    'values.bigint.int64-min',
    'a BigInt parameter of -2^63 is stored exactly',
    -(2n ** 63n),
  ),
  {
    id: 'values.bigint.result-exact',
    title: 'an integer past 2^53 reads back exactly (a BigInt or a decimal string)',
    requires: ['exactBigIntResults'],
    run: async (ctx) => {
      const back = await roundTrip(ctx, 'int', 2n ** 53n + 1n);
      ctx.expect(['bigint', 'string']).toContain(typeof back);
      ctx.expect(String(back)).toBe('9007199254740993');
    },
  },
  exact(
    'values.real.fraction',
    'a fractional double round-trips bit for bit',
    'real',
    3.141592653589793,
  ),
  exact('values.real.negative', 'a negative double round-trips', 'real', -0.1),
  exact('values.real.max', 'the largest double round-trips', 'real', 1.7976931348623157e308),
  exact('values.real.tiny', 'a double near the smallest normal round-trips', 'real', 1e-300),
  exact(
    'values.text.unicode',
    'unicode text (accents, CJK, emoji with joiners, RTL) round-trips',
    'text',
    'héllo wörld — 日本語 — 🎉👩‍👩‍👧 — עברית',
  ),
  exact('values.text.empty', 'the empty string stays an empty string (not null)', 'text', ''),
  exact(
    'values.text.quotes',
    'quotes, backslashes and comment markers are data, not SQL',
    'text',
    `it's "quoted" \\ back\\slash; -- not a comment /* nor this */`,
  ),
  exact('values.text.nul', 'text with a NUL character round-trips', 'text', 'a\u0000b'),
  exact('values.text.long', 'a 1 MB string round-trips', 'text', 'ab€'.repeat(350_000)),
  blob(
    'values.blob.bytes',
    'a blob of every byte value round-trips as a Buffer',
    Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
  ),
  blob('values.blob.empty', 'an empty blob reads back as an empty Buffer', Buffer.alloc(0)),
  blob('values.blob.large', 'a 2 MB blob round-trips', randomBytes(2 * 1024 * 1024)),
  blob(
    'values.blob.uint8array',
    'a Uint8Array parameter is stored as a blob',
    new Uint8Array([1, 2, 3, 250]),
  ),
  {
    id: 'values.null.param',
    title: 'null parameters store NULL in integer, text and blob columns',
    run: async ({ client, table, expect }) => {
      const t = await table({ i: 'int', s: 'text', b: 'blob' });
      await client.query(`insert into ${t} (i, s, b) values (?, ?, ?)`, [null, null, null]);
      expect((await client.query(`select i, s, b from ${t}`)).rows).toEqual([
        { i: null, s: null, b: null },
      ]);
    },
  },
  {
    id: 'values.null.select',
    title: 'a NULL result is null',
    run: async ({ client, expect }) => {
      expect((await client.query('select null as v')).rows).toEqual([{ v: null }]);
    },
  },
  {
    id: 'values.params.positional',
    title: 'positional parameters bind in order',
    run: async ({ client, table, expect }) => {
      const t = await table({ a: 'int', b: 'text' });
      await client.query(`insert into ${t} (a, b) values (?, ?)`, [7, 'seven']);
      await client.query(`insert into ${t} (a, b) values (?, ?)`, [8, 'eight']);
      const { rows } = await client.query(`select a, b from ${t} where a = ? or b = ? order by a`, [
        8,
        'nothing',
      ]);
      expect(rows).toEqual([{ a: 8, b: 'eight' }]);
    },
  },
  {
    id: 'values.params.named',
    title: 'named :name parameters bind from an object',
    requires: ['namedParameters'],
    run: async ({ client, table, expect }) => {
      const t = await table({ a: 'int', b: 'text' });
      await client.query(`insert into ${t} (a, b) values (:a, :b)`, { a: 1, b: 'one' });
      expect((await client.query(`select a, b from ${t} where b = :b`, { b: 'one' })).rows).toEqual(
        [{ a: 1, b: 'one' }],
      );
    },
  },
  {
    id: 'values.params.named-repeated',
    title: 'a named parameter used twice binds the same value',
    requires: ['namedParameters'],
    run: async ({ client, table, expect }) => {
      const t = await table({ a: 'int', b: 'int' });
      await client.query(`insert into ${t} (a, b) values (:v, :v)`, { v: 5 });
      expect((await client.query(`select a, b from ${t}`)).rows).toEqual([{ a: 5, b: 5 }]);
    },
  },
  {
    id: 'values.params.too-few',
    title: 'too few positional values reject, store nothing, and the client still works',
    run: async (ctx) => {
      const t = await ctx.table({ a: 'int', b: 'int' });
      const err = await rejection(
        Promise.resolve().then(() =>
          ctx.client.query(`insert into ${t} (a, b) values (?, ?)`, [1]),
        ),
      );
      ctx.expect(err).toBeInstanceOf(Error);
      ctx.expect((await ctx.client.query(`select a from ${t}`)).rows).toEqual([]);
      await stillWorks(ctx);
    },
  },
  {
    id: 'values.params.too-many',
    title: 'too many positional values reject and the client still works',
    requires: ['strictParameterCount'],
    run: async (ctx) => {
      const t = await ctx.table({ a: 'int' });
      const err = await rejection(
        Promise.resolve().then(() =>
          ctx.client.query(`insert into ${t} (a) values (?)`, [1, 2, 3]),
        ),
      );
      ctx.expect(err).toBeInstanceOf(Error);
      ctx.expect((await ctx.client.query(`select a from ${t}`)).rows).toEqual([]);
      await stillWorks(ctx);
    },
  },
  {
    id: 'values.params.none',
    title: 'a query without parameters needs no params argument',
    run: async (ctx) => stillWorks(ctx),
  },
  {
    id: 'values.params.unsendable',
    title: 'a function parameter rejects (it cannot reach a worker) and the client still works',
    run: async (ctx) => {
      const err = await rejection(
        Promise.resolve().then(() => ctx.client.query('select ? as v', [() => 1])),
      );
      ctx.expect(err).toBeInstanceOf(Error);
      await stillWorks(ctx);
    },
  },
  {
    id: 'values.result.columns',
    title: 'columns lists the result column names in order',
    run: async ({ client, expect }) => {
      const result = await client.query('select 1 as b, 2 as a, 3 as c');
      expect(result.columns).toEqual(['b', 'a', 'c']);
      expect(result.rows).toEqual([{ b: 1, a: 2, c: 3 }]);
    },
  },
  {
    id: 'values.result.row-count',
    title: 'rowCount equals rows.length',
    run: async ({ client, sql, expect }) => {
      const result = await client.query(sql.series(25));
      expect(result.rows).toHaveLength(25);
      expect(result.rowCount).toBe(25);
      expect(result.rows.map((r) => Number(r.x))).toEqual(
        Array.from({ length: 25 }, (_, i) => i + 1),
      );
    },
  },
  {
    id: 'values.result.empty',
    title: 'a query with no rows gives rows [] and rowCount 0, with its columns',
    run: async ({ client, table, expect }) => {
      const t = await table({ x: 'int' });
      const result = await client.query(`select x from ${t} where x > ?`, [0]);
      expect(result.rows).toEqual([]);
      expect(result.rowCount).toBe(0);
      expect(result.columns).toEqual(['x']);
    },
  },
  {
    id: 'values.result.changes',
    title: 'changes counts the rows an UPDATE or DELETE touched',
    run: async ({ client, table, expect }) => {
      const t = await table({ x: 'int' });
      for (const x of [1, 2, 3, 4]) await client.query(`insert into ${t} (x) values (?)`, [x]);
      expect((await client.query(`update ${t} set x = x + 10 where x <= ?`, [3])).changes).toBe(3);
      expect((await client.query(`delete from ${t} where x > ?`, [10])).changes).toBe(3);
      expect((await client.query(`select x from ${t}`)).changes).toBe(0);
    },
  },
  {
    id: 'values.result.last-insert-id',
    title: 'lastInsertId is the id of the row just inserted',
    run: async ({ client, table, expect }) => {
      const t = await table({ id: 'pk', v: 'int' });
      const first = await client.query(`insert into ${t} (v) values (?)`, [1]);
      const second = await client.query(`insert into ${t} (v) values (?)`, [2]);
      const { rows } = await client.query(`select id from ${t} where v = ?`, [2]);
      expect(Number(second.lastInsertId)).toBe(Number(rows[0].id));
      expect(Number(second.lastInsertId)).toBe(Number(first.lastInsertId) + 1);
      expect(second.changes).toBe(1);
    },
  },
]);
