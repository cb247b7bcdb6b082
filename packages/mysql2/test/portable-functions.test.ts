// typeCast and queryFormat given as a self-contained function or as a { module, export }
// reference: each must act as mysql2 acts with the function itself.
import rawMysql from 'mysql2/promise';
import mysql from '@unblock/mysql2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB, dbAvailable, expectSameRows } from './helpers.js';

const T = `ub_portable_${process.pid}`;
const FIXTURE = new URL('./fixtures/functions.mjs', import.meta.url);
const TLA_FIXTURE = new URL('./fixtures/top-level-await.mjs', import.meta.url);

type TypeCast = (field: { type: string; string(): string | null }, next: () => unknown) => unknown;
type QueryFormat = (this: { escape(v: unknown): string }, sql: string, values: unknown) => string;

const fixture = (await import(FIXTURE.href)) as {
  upperStrings: TypeCast;
  colonFormat: QueryFormat;
};

// The same functions, self-contained, for the function form.
const upperStrings: TypeCast = (field, next) =>
  field.type === 'VAR_STRING' ? (field.string() ?? '').toUpperCase() : next();
const colonFormat: QueryFormat = function (this, sql, values) {
  if (!values) return sql;
  const named = values as Record<string, unknown>;
  return sql.replace(/:(\w+)/g, (match, key: string) =>
    Object.hasOwn(named, key) ? this.escape(named[key]) : match,
  );
};

const typeCastForms = [
  { form: 'function', ours: upperStrings as unknown, theirs: upperStrings },
  {
    form: 'module reference',
    ours: { module: FIXTURE, export: 'upperStrings' },
    theirs: fixture.upperStrings,
  },
] as const;

const queryFormatForms = [
  { form: 'function', ours: colonFormat as unknown, theirs: colonFormat },
  {
    form: 'module reference',
    ours: { module: FIXTURE.href, export: 'colonFormat' },
    theirs: fixture.colonFormat,
  },
] as const;

describe.skipIf(!dbAvailable)('typeCast and queryFormat: functions and module references', () => {
  beforeAll(async () => {
    const c = await rawMysql.createConnection(DB);
    await c.query(`CREATE TABLE IF NOT EXISTS ${T} (id INT PRIMARY KEY, name VARCHAR(20))`);
    await c.query(`REPLACE INTO ${T} VALUES (1, 'ada'), (2, 'grace')`);
    await c.end();
  });
  afterAll(async () => {
    const c = await rawMysql.createConnection(DB);
    await c.query(`DROP TABLE IF EXISTS ${T}`);
    await c.end();
  });

  describe.each(typeCastForms)('per-query typeCast as a $form', ({ ours, theirs }) => {
    const sql = `SELECT id, name FROM ${T} ORDER BY id`;

    it('runs in the worker for query, execute, pool.query and iterate, as mysql2 runs it', async () => {
      const raw = await rawMysql.createConnection(DB);
      const [expected] = await raw.query({ sql, typeCast: theirs as never });
      await raw.end();
      expect(expected).toEqual([
        { id: 1, name: 'ADA' },
        { id: 2, name: 'GRACE' },
      ]);
      await using conn = await mysql.createConnection(DB);
      const [viaQuery] = await conn.query({ sql, typeCast: ours as never });
      expectSameRows(viaQuery, expected);
      const [viaExecute] = await conn.execute({ sql, typeCast: ours as never });
      expect(viaExecute).toEqual(expected);
      const rows: unknown[] = [];
      for await (const row of conn.iterate({ sql, typeCast: ours as never })) rows.push(row);
      expect(rows).toEqual(expected);
      await using pool = mysql.createPool({ ...DB, connectionLimit: 1 });
      const [viaPool] = await pool.query({ sql, typeCast: ours as never });
      expect(viaPool).toEqual(expected);
    });
  });

  describe.each(queryFormatForms)('queryFormat as a $form', ({ ours, theirs }) => {
    it('conn.format() runs it locally and queries run it in the worker, as in mysql2', async () => {
      const raw = await rawMysql.createConnection({ ...DB, queryFormat: theirs as never });
      await using conn = await mysql.createConnection({ ...DB, queryFormat: ours as never });
      const values = { id: 2, name: "o'neil" };
      const sql = `SELECT id, :name AS quoted FROM ${T} WHERE id = :id`;
      const expected = raw.format(sql, values as never);
      expect(expected).toBe(`SELECT id, 'o\\'neil' AS quoted FROM ${T} WHERE id = 2`);
      expect(conn.format(sql, values)).toBe(expected);
      const [theirRows] = await raw.query(sql, values);
      const [ourRows] = await conn.query(sql, values);
      expectSameRows(ourRows, theirRows);
      await raw.end();
      await using pool = mysql.createPool({
        ...DB,
        connectionLimit: 1,
        queryFormat: ours as never,
      });
      await using pooled = await pool.getConnection();
      expect(pooled.format(sql, values)).toBe(expected);
      const [pooledRows] = await pooled.query(sql, values);
      expect(pooledRows).toEqual(ourRows);
    });
  });

  it('a module-reference queryFormat that cannot load synchronously makes format() throw UNBLOCK_ERR_INVALID_ARG', async () => {
    await using conn = await mysql.createConnection({
      ...DB,
      queryFormat: { module: TLA_FIXTURE, export: 'colonFormat' },
    });
    // The worker import()s it: queries use it.
    const [rows] = await conn.query('SELECT :x AS x', { x: 5 });
    expect(rows).toEqual([{ x: 5 }]);
    let error: unknown;
    try {
      conn.format('SELECT :x', { x: 1 });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect(error).toMatchObject({ code: 'UNBLOCK_ERR_INVALID_ARG' });
    expect((error as Error).message).toMatch(
      /queryFormat: .*top-level-await\.mjs cannot be loaded/,
    );
  });
});
