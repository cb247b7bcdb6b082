import { describe, expect, it } from 'vitest';
import Database from '@unblock/better-sqlite3';
import { outcome, Raw } from './helpers.js';

const ROWS = (n: number): string =>
  `with recursive c(x) as (select 1 union all select x + 1 from c where x < ${n}) select x, printf('%0100d', x) as pad from c`;

describe('edge cases (differential)', () => {
  it('a huge result (200k rows, ~20 MB) arrives whole; a too-big value is SQLITE_TOOBIG; the db stays usable', async () => {
    const raw = new Raw(':memory:');
    const db = await Database.open(':memory:');
    const expected = raw.prepare(ROWS(200_000)).all();
    const actual = await (await db.prepare(ROWS(200_000))).all();
    expect(actual.length).toBe(200_000);
    expect(actual).toEqual(expected);
    const tooBig = 'select zeroblob(2000000000) as b';
    const rawError = await outcome(() => raw.prepare(tooBig).get());
    expect(rawError).toMatchObject({ error: { name: 'SqliteError', code: 'SQLITE_TOOBIG' } });
    expect(await outcome(async () => (await db.prepare(tooBig)).get())).toEqual(rawError);
    expect(await (await db.prepare('select 1 as one')).get()).toEqual({ one: 1 });
    raw.close();
    await db.close();
  });

  it('SQL with two statements: prepare rejects with the driver RangeError, exec runs both', async () => {
    const raw = new Raw(':memory:');
    const db = await Database.open(':memory:');
    for (const sql of [
      'select 1; select 2',
      'select 1; select 2;',
      'select 1; -- only a comment',
      'select 1;   ',
    ]) {
      const expected = await outcome(() => raw.prepare(sql).get());
      expect(await outcome(async () => (await db.prepare(sql)).get()), sql).toEqual(expected);
    }
    expect(await outcome(() => db.prepare('select 1; select 2'))).toEqual({
      error: {
        name: 'RangeError',
        message: 'The supplied SQL string contains more than one statement',
        code: undefined,
        native: true,
      },
    });
    await db.exec('create table a (x); insert into a values (1)');
    expect(await (await db.prepare('select x from a')).pluck().get()).toBe(1);
    raw.close();
    await db.close();
  });

  it('a statement used after its db closed: TypeError "The database connection is not open"; toggles still work', async () => {
    const raw = new Raw(':memory:');
    const db = await Database.open(':memory:');
    raw.exec('create table t (x); insert into t values (1)');
    await db.exec('create table t (x); insert into t values (1)');
    const rawStmts = [raw.prepare('select x from t'), raw.prepare('insert into t values (2)')];
    const stmts = [
      await db.prepare('select x from t'),
      await db.prepare('insert into t values (2)'),
    ];
    raw.close();
    await db.close();
    const uses: [string, (s: any) => unknown][] = [
      ['run', (s) => s.run()],
      ['get', (s) => s.get()],
      ['all', (s) => s.all()],
      ['pluck', (s) => s.pluck() === s],
      ['raw', (s) => s.raw(false) === s],
    ];
    for (const [name, use] of uses) {
      for (let i = 0; i < 2; i++) {
        expect(await outcome(() => use(stmts[i])), `${name} ${i}`).toEqual(
          await outcome(() => use(rawStmts[i])),
        );
      }
    }
    await expect(stmts[1].run()).rejects.toThrow(
      new TypeError('The database connection is not open'),
    );
    await expect(db.exec('select 1')).rejects.toThrow(
      new TypeError('The database connection is not open'),
    );
    expect(() => db.function('f', () => 1)).toThrow(
      new TypeError('The database connection is not open'),
    );
    expect(db.open).toBe(false);
    expect(await db.close()).toBe(db); // idempotent
  });
});
