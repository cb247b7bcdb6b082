import { spawnSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { withCallOptions } from '@unblock/core';
import Database, { createClient, SqliteError } from '@unblock/better-sqlite3';
import { Raw, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const INFINITE =
  'with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c';

describe('opening', () => {
  it('rejects ready, and every call, with SQLITE_CANTOPEN for fileMustExist', async () => {
    const db = new Database(tmp.file('missing.db'), { fileMustExist: true });
    const early = db.prepare('select 1');
    await expect(db.ready).rejects.toMatchObject({ name: 'SqliteError', code: 'SQLITE_CANTOPEN' });
    await expect(early).rejects.toBeInstanceOf(SqliteError);
    expect(db.open).toBe(false);
  });

  it('works without new, and Database.open waits for the connection', async () => {
    const db = (Database as unknown as (f: string) => Database)(':memory:');
    expect(db).toBeInstanceOf(Database);
    await db.close();
    const opened = await Database.open(':memory:');
    expect(opened.open).toBe(true);
    expect(opened.memory).toBe(true);
    await opened.close();
    await expect(opened.prepare('select 1')).rejects.toThrow('The database connection is not open');
  });

  it('opens a serialized buffer', async () => {
    const db = await Database.open(':memory:');
    await db.exec("create table t (x); insert into t values ('kept')");
    const copy = await Database.open(await db.serialize());
    expect(await (await copy.prepare('select x from t')).pluck().get()).toBe('kept');
    await Promise.all([db.close(), copy.close()]);
  });

  it('can be required from CommonJS', () => {
    const script =
      "const Database = require('@unblock/better-sqlite3');" +
      "const db = new Database(':memory:');" +
      "db.prepare('select 41 + 1 as x').then((s) => s.get()).then((r) => { console.log(JSON.stringify([typeof Database.SqliteError, r])); return db.close(); });";
    const child = spawnSync(process.execPath, ['-e', script], {
      cwd: import.meta.dirname,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual(['function', { x: 42 }]);
  });
});

describe('transactions', () => {
  it('commits, rolls back on throw, nests with savepoints', async () => {
    const db = await Database.open(':memory:');
    await db.exec('create table t (x)');
    const ins = await db.prepare('insert into t values (?)');
    const count = async (): Promise<unknown> =>
      (await db.prepare('select count(*) from t')).pluck().get();
    const inner = db.transaction(async (x: number) => {
      await ins.run(x);
      if (x < 0) throw new Error('inner');
    });
    const outer = db.transaction(async () => {
      expect(db.inTransaction).toBe(true);
      await ins.run(1);
      await inner(2);
      await inner(-1).catch(() => undefined); // only the savepoint is rolled back
      return 'done';
    });
    expect(await outer()).toBe('done');
    expect(await count()).toBe(2);
    await expect(
      db
        .transaction(async () => {
          await ins.run(9);
          throw new Error('no');
        })
        .immediate(),
    ).rejects.toThrow('no');
    expect(await count()).toBe(2);
    expect(db.inTransaction).toBe(false);
    expect(db.transaction(() => 1).exclusive.database).toBe(db);
    await db.close();
  });

  it('holds writes from outside until it ends', async () => {
    const db = await Database.open(':memory:');
    await db.exec('create table t (x)');
    const ins = await db.prepare('insert into t values (?)');
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const tx = db.transaction(async () => {
      await ins.run('tx-1');
      await gate;
      await ins.run('tx-2');
      order.push('tx');
    })();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const outside = ins.run('outside').then(() => order.push('outside'));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(order).toEqual([]);
    release();
    await Promise.all([tx, outside]);
    expect(order).toEqual(['tx', 'outside']);
    expect(await (await db.prepare('select x from t')).pluck().all()).toEqual([
      'tx-1',
      'tx-2',
      'outside',
    ]);
    // Concurrent transactions each see their own writes, one after another.
    const add = db.transaction(async (n: number) => {
      const before = (await (await db.prepare('select count(*) from t')).pluck().get()) as number;
      await ins.run(n);
      return (
        ((await (await db.prepare('select count(*) from t')).pluck().get()) as number) - before
      );
    });
    expect(await Promise.all([1, 2, 3, 4, 5].map((n) => add(n)))).toEqual([1, 1, 1, 1, 1]);
    await db.close();
  });
});

describe('iterate and runMany', () => {
  it('runMany packs uniform lists and still takes mixed ones, named parameters and blobs', async () => {
    const db = await Database.open(':memory:');
    await db.exec('create table t (a, b)');
    const ins = await db.prepare('insert into t values (?, ?)');
    expect(
      await ins.runMany([
        [1, 'x'],
        [2n, null],
        [3.5, ''],
      ]),
    ).toEqual({ changes: 3, lastInsertRowid: 3 });
    expect(
      await ins.runMany([
        [4, Buffer.from('hi')],
        [5, 'y'],
      ]),
    ).toEqual({ changes: 2, lastInsertRowid: 5 });
    const named = await db.prepare('insert into t values (@a, @b)');
    expect(
      await named.runMany([
        { a: 6, b: 'z' },
        { a: 7, b: 'w' },
      ]),
    ).toEqual({ changes: 2, lastInsertRowid: 7 });
    const rows = await (await db.prepare('select a, b from t order by rowid')).raw().all();
    expect(rows).toEqual([
      [1, 'x'],
      [2, null],
      [3.5, ''],
      [4, Buffer.from('hi')],
      [5, 'y'],
      [6, 'z'],
      [7, 'w'],
    ]);
    // A row the driver refuses fails with its TypeError, after the rows before it ran.
    await expect(
      ins.runMany([
        [8, 'ok'],
        [9, true],
      ]),
    ).rejects.toThrow(TypeError);
    expect(await (await db.prepare('select count(*) from t')).pluck().get()).toBe(8);
    // Packed by column (uniform rows, more than a few): a failing row stops it the same way.
    await db.exec('create table u (k integer unique, v text)');
    const unique = await db.prepare('insert into u values (?, ?)');
    const list = Array.from({ length: 20 }, (_, i) => [i === 12 ? 3 : i, `v${i}`]);
    await expect(unique.runMany(list)).rejects.toMatchObject({
      name: 'SqliteError',
      code: 'SQLITE_CONSTRAINT_UNIQUE',
    });
    expect(await (await db.prepare('select v from u order by k')).pluck().all()).toEqual(
      list.slice(0, 12).map(([, v]) => v),
    );
    await db.close();
  });

  it('runMany([]) types lastInsertRowid as run() does: a BigInt under safe integers', async () => {
    const db = new Database(':memory:');
    await db.exec('create table t (x)');
    for (const safe of [false, true]) {
      db.defaultSafeIntegers(safe);
      const insert = await db.prepare('insert into t values (?)');
      const zero = safe ? 0n : 0;
      expect(typeof (await insert.run(1)).lastInsertRowid).toBe(typeof zero);
      expect(await insert.runMany([])).toStrictEqual({ changes: 0, lastInsertRowid: zero });
    }
    await db.close();
  });

  it('all() shapes a few rows and many rows alike, in the mode the call was made with', async () => {
    const db = await Database.open(':memory:');
    await db.exec('create table t (x, y)');
    const ins = await db.prepare('insert into t values (?, ?)');
    await ins.runMany(Array.from({ length: 40 }, (_, i) => [i, `v${i}`]));
    for (const limit of [0, 1, 8, 9, 40]) {
      const stmt = await db.prepare(
        `select x, y as "__proto__", x as y from t order by x limit ${limit}`,
      );
      const objects = (await stmt.all()) as Record<string, unknown>[];
      expect(objects).toHaveLength(limit);
      if (limit > 0) {
        // As better-sqlite3 assigns it: a text `__proto__` column is no key, and no prototype.
        expect(Object.getPrototypeOf(objects[0])).toBe(Object.prototype);
        expect(Object.keys(objects[0])).toEqual(['x', 'y']);
        expect(Object.hasOwn(objects[0], '__proto__')).toBe(false);
      }
      const pending = stmt.raw().all();
      stmt.raw(false).pluck();
      expect((await pending).slice(0, 1)).toEqual(limit > 0 ? [[0, 'v0', 0]] : []);
      expect((await stmt.all()).slice(0, 2)).toEqual([0, 1].slice(0, limit));
    }
    const client = createClient({ filename: ':memory:' });
    const none = await client.query('select 1 as a, 2 as b where 0');
    const again = await client.query('select 1 as a, 2 as b where 0');
    expect([none.columns, again.columns, again.rows]).toEqual([['a', 'b'], ['a', 'b'], []]);
    await client.close();
    await db.close();
  });

  it('iterates in batches, releases the cursor on break', async () => {
    const db = await Database.open(':memory:');
    await db.exec('create table t (x)');
    const ins = await db.prepare('insert into t values (?)');
    expect(await ins.runMany(Array.from({ length: 2000 }, (_, i) => [i]))).toEqual({
      changes: 2000,
      lastInsertRowid: 2000,
    });
    const stmt = await db.prepare('select x from t order by x');
    let sum = 0;
    for await (const row of stmt.pluck().iterate()) sum += row as number;
    expect(sum).toBe((1999 * 2000) / 2);
    for await (const row of stmt.iterate()) {
      expect(stmt.busy).toBe(true);
      if ((row as number) >= 100) break;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(stmt.busy).toBe(false);
    expect(db[Symbol.for('x') as never]).toBeUndefined();
    // The cursor was released: writes are allowed again.
    await expect(ins.run(1)).resolves.toMatchObject({ changes: 1 });
    await db.close();
  });
});

describe('parallel readers (WAL)', () => {
  it('a read started after a write resolved sees it', async () => {
    const db = await Database.open(tmp.file('wal.db'), { readers: 2 });
    await db.pragma('journal_mode = WAL');
    await db.exec('create table t (x)');
    const ins = await db.prepare('insert into t values (?)');
    const count = await db.prepare('select count(*) from t');
    await new Promise((resolve) => setTimeout(resolve, 300)); // readers open in the background
    for (let i = 1; i <= 50; i++) {
      await ins.run(i);
      expect(await count.pluck().get()).toBe(i);
    }
    // A long read runs on a reader: a write meanwhile is not held behind it.
    let slowDone = false;
    const slow = withCallOptions({ timeout: 1000 }, async () => (await db.prepare(INFINITE)).get())
      .catch(() => undefined)
      .finally(() => (slowDone = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await ins.run(51);
    expect(slowDone).toBe(false);
    expect(await count.pluck().get()).toBe(51);
    await slow;
    // TEMP tables live on the writer only: the statement falls back to it.
    await db.exec('create temp table tt (y); insert into tt values (7)');
    expect(await (await db.prepare('select y from tt')).pluck().get()).toBe(7);
    await db.close();
  });
});

describe('cancellation', () => {
  it('interrupts a running statement; the connection stays usable', async () => {
    const db = await Database.open(':memory:');
    const stmt = await db.prepare(INFINITE);
    const started = Date.now();
    await expect(withCallOptions({ timeout: 100 }, () => stmt.get())).rejects.toMatchObject({
      name: 'AbortError',
      state: 'running',
    });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await (await db.prepare('select 1 as one')).get()).toEqual({ one: 1 });
    await db.close();
  });

  it('rolls back a transaction whose statement timed out', async () => {
    const db = await Database.open(':memory:', { defaultQueryTimeout: 200 });
    await db.exec('create table t (x)');
    const tx = db.transaction(async () => {
      await (await db.prepare('insert into t values (1)')).run();
      await (await db.prepare(INFINITE)).get();
    });
    await expect(tx()).rejects.toMatchObject({ name: 'AbortError' });
    expect(db.inTransaction).toBe(false);
    expect(await (await db.prepare('select count(*) from t')).pluck().get()).toBe(0);
    await db.close();
  });

  it('rolls an aborted transaction back at once, while its function still waits on something else', async () => {
    const db = await Database.open(':memory:');
    await db.exec('create table t (x)');
    const insert = await db.prepare('insert into t values (?)');
    const controller = new AbortController();
    let resume!: () => void;
    const elsewhere = new Promise<void>((resolve) => (resume = resolve));
    const tx = withCallOptions({ signal: controller.signal }, () =>
      db.transaction(async () => {
        await insert.run(1);
        await elsewhere; // not the database: nothing of the transaction's notices the abort
        await insert.run(2);
      })(),
    ).catch((e: unknown) => e);
    await expect.poll(() => db.inTransaction).toBe(true);
    controller.abort(new Error('client went away'));
    // Writes from outside go on (they would wait for the function to return otherwise).
    await insert.run(3);
    expect(db.inTransaction).toBe(false);
    resume();
    const err = (await tx) as Error;
    expect(err).toMatchObject({ name: 'AbortError' });
    expect((err.cause as Error).message).toBe('client went away');
    expect(await (await db.prepare('select x from t')).pluck().all()).toEqual([3]);
    await db.close();
  });

  it('lets a transaction waiting for another one be aborted while it waits', async () => {
    const db = await Database.open(':memory:');
    await db.exec('create table t (x)');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const first = db.transaction(async () => {
      await (await db.prepare('insert into t values (1)')).run();
      await held;
    })();
    await new Promise((resolve) => setTimeout(resolve, 20));
    let ran = false;
    const controller = new AbortController();
    const second = withCallOptions({ signal: controller.signal }, () =>
      db.transaction(async () => {
        ran = true;
      })(),
    ).catch((e: unknown) => e);
    controller.abort(new Error('not any more'));
    // It rejects while the first transaction still holds the database.
    expect(await second).toMatchObject({ name: 'AbortError', state: 'queued' });
    expect(ran).toBe(false);
    release();
    await first;
    expect(await (await db.prepare('select count(*) from t')).pluck().get()).toBe(1);
    await db.close();
  });

  it('applies defaultQueryTimeout to every batch of an iterator, not only the first', async () => {
    const db = await Database.open(':memory:', { defaultQueryTimeout: 200 });
    await db.exec('create table t (x)');
    const insert = await db.prepare('insert into t values (?)');
    await insert.runMany(Array.from({ length: 200 }, (_, i) => [i]));
    // The first batch (64 rows) is quick; from row 100 on, each row would run for ever.
    const rows = (
      await db.prepare(`select x, case when x < 100 then 0 else (${INFINITE}) end as n from t`)
    ).iterate();
    const first = await rows.next();
    expect(first.value).toEqual({ x: 0, n: 0 });
    const started = Date.now();
    const err = await (async () => {
      for await (const _row of rows);
    })().catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'AbortError' });
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await (await db.prepare('select 1 as one')).get()).toEqual({ one: 1 });
    await db.close();
  });

  it('never interrupts another caller', async () => {
    const db = await Database.open(':memory:');
    const slow = await db.prepare(INFINITE);
    const quick = await db.prepare('select ? as v');
    const results = await Promise.allSettled(
      Array.from({ length: 60 }, (_, i) =>
        i % 6 === 0 ? withCallOptions({ timeout: 20 + i }, () => slow.get()) : quick.get(i),
      ),
    );
    results.forEach((result, i) => {
      if (i % 6 === 0) expect(result.status).toBe('rejected');
      else expect(result).toEqual({ status: 'fulfilled', value: { v: i } });
    });
    await db.close();
  });

  it('without the addon, rejects at once and replaces the worker once the statement ends', async () => {
    const db = await Database.open(tmp.file('terminate.db'), { interrupt: false });
    await db.exec('create table if not exists t (x); insert into t values (1)');
    // Finite: a terminated worker only stops once SQLite returns to JavaScript.
    const stmt = await db.prepare(INFINITE.replace('from c)', 'from c where x < 3000000)'));
    const started = Date.now();
    await expect(withCallOptions({ timeout: 50 }, () => stmt.get())).rejects.toMatchObject({
      name: 'AbortError',
    });
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await (await db.prepare('select count(*) from t')).pluck().get()).toBe(1);
    await db.close();
  });
});

describe('user functions', () => {
  it('defines functions, aggregates and tables in the workers', async () => {
    const db = await Database.open(':memory:');
    db.function('add2', { deterministic: true }, (a: number, b: number) => a + b);
    db.aggregate('addAll', { start: 0, step: (total: number, next: number) => total + next });
    db.table('series', {
      columns: ['value'],
      *rows(n: unknown) {
        for (let i = 0; i < (n as number); i++) yield [i];
      },
    });
    expect(await (await db.prepare('select add2(1, 2)')).pluck().get()).toBe(3);
    expect(await (await db.prepare('select addAll(value) from series(5)')).pluck().get()).toBe(10);
    expect(() => db.function('', () => 1)).toThrow(
      'User-defined function name cannot be an empty string',
    );
    await db.close();
  });
});

describe('createClient', () => {
  it('queries, iterates and runs transactions', async () => {
    const client = createClient({ filename: ':memory:' });
    await client.query('create table t (id integer primary key, name text)');
    const inserted = await client.query('insert into t (name) values (?)', ['a']);
    expect(inserted).toMatchObject({ changes: 1, lastInsertId: 1, rowCount: 0 });
    await client.transaction(async () => {
      await client.query('insert into t (name) values (?)', ['b']);
    });
    const { rows, columns, rowCount } = await client.query('select * from t order by id');
    expect({ rows, columns, rowCount }).toEqual({
      rows: [
        { id: 1, name: 'a' },
        { id: 2, name: 'b' },
      ],
      columns: ['id', 'name'],
      rowCount: 2,
    });
    const names: unknown[] = [];
    for await (const row of client.iterate<{ name: string }>('select name from t'))
      names.push(row.name);
    expect(names).toEqual(['a', 'b']);
    expect(client.stats().completed).toBeGreaterThan(0);
    await client.close();
  });

  it("query() gives the statement's columns on every call: empty results, duplicate names, a changed schema", async () => {
    const client = createClient({ filename: ':memory:' });
    // Six calls each: the first prepares and runs in one call, later ones run the known
    // statement, whose small results travel as row objects from its third call on.
    const columnsOf = async (sql: string, params?: unknown[]): Promise<string[][]> => {
      const all: string[][] = [];
      for (let i = 0; i < 6; i++) all.push((await client.query(sql, params)).columns);
      return all;
    };
    const six = (columns: string[]): string[][] => Array.from({ length: 6 }, () => columns);
    await client.query('create table t (a integer, b text)');
    expect(await columnsOf('select a, b from t where a > ?', [100])).toEqual(six(['a', 'b']));
    expect(await columnsOf('select 1 as a, 2 as a')).toEqual(six(['a', 'a']));
    // Few rows, then more than travel as objects: the names still come with them.
    const series =
      'with recursive s(x) as (select 1 union all select x + 1 from s where x < ?) ' +
      'select x as a, x * 10 as a from s';
    expect(await columnsOf(series, [1])).toEqual(six(['a', 'a']));
    const many = await client.query(series, [10]);
    expect([many.columns, many.rows.length, many.rows[9]]).toEqual([['a', 'a'], 10, { a: 100 }]);
    // A schema change recompiles `select *`: the names of before are not kept.
    await client.query("insert into t values (1, 'x')");
    expect(await columnsOf('select * from t')).toEqual(six(['a', 'b']));
    expect(await columnsOf('select * from t where a > 5')).toEqual(six(['a', 'b']));
    await client.query('alter table t add column c');
    expect((await client.query('select * from t')).columns).toEqual(['a', 'b', 'c']);
    expect((await client.query('select * from t where a > 5')).columns).toEqual(['a', 'b', 'c']);
    await client.close();
  });

  it('query() reads the names again after a schema change that adds one row objects cannot show: a duplicate, __proto__', async () => {
    const client = createClient({ filename: ':memory:' });
    await client.query('create table t (a, b)');
    await client.query('create table u (c)');
    await client.query('insert into t values (1, 2)');
    await client.query('insert into u values (3)');
    const sql = 'select * from t, u';
    // Three calls: the third runs the known statement, its one row travelling as an object.
    for (let i = 0; i < 3; i++) expect((await client.query(sql)).columns).toEqual(['a', 'b', 'c']);
    // The row's keys stay a, b, c: the new `a` is a duplicate.
    await client.query('alter table u add column a default 9');
    expect(await client.query(sql)).toMatchObject({
      columns: ['a', 'b', 'c', 'a'],
      rows: [{ a: 9, b: 2, c: 3 }],
    });
    // Another statement, whose cached names would otherwise have differed from the keys already.
    await client.query('create table v (a, b)');
    await client.query('insert into v values (1, 2)');
    for (let i = 0; i < 3; i++)
      expect((await client.query('select * from v')).columns).toEqual(['a', 'b']);
    await client.query('alter table v add column "__proto__" default 5');
    expect(await client.query('select * from v')).toMatchObject({
      columns: ['a', 'b', '__proto__'],
      rows: [{ a: 1, b: 2 }],
    });
    await client.close();
  });

  it("query() gives the driver's row objects on every call, the first too: no __proto__ key", async () => {
    const client = createClient({ filename: ':memory:' });
    const sql = 'select 1 as a, 2 as a, 3 as "__proto__", 4 as b';
    const raw = new Raw(':memory:');
    const expected = JSON.stringify(raw.prepare(sql).all());
    raw.close();
    expect(expected).toBe('[{"a":2,"b":4}]');
    for (let i = 0; i < 4; i++) {
      const { rows, columns } = await client.query<Record<string, unknown>>(sql);
      expect([JSON.stringify(rows), Object.hasOwn(rows[0], '__proto__')]).toEqual([
        expected,
        false,
      ]);
      expect(Object.getPrototypeOf(rows[0])).toBe(Object.prototype);
      expect(columns).toEqual(['a', 'a', '__proto__', 'b']);
    }
    await client.close();
  });

  it('iterate() fetches batchSize rows per round trip, and refuses one that is not a positive integer', async () => {
    const client = createClient({ filename: ':memory:' });
    const series =
      'with recursive s(x) as (select 1 union all select x + 1 from s where x < 520) select x from s';
    /** The last row's x (the rows came in order), and the round trips (calls) the iteration took. */
    const iterate = async (opts: { batchSize?: number }): Promise<[number, number]> => {
      const before = client.stats().completed;
      let last = 0;
      for await (const row of client.iterate<{ x: number }>(series, [], opts)) {
        expect(row.x).toBe(last + 1);
        last = row.x;
      }
      return [last, client.stats().completed - before];
    };
    await iterate({}); // prepares the statement, a call of its own
    // 520 rows: in one batch of up to 1000; 256 + 256 + 8 by default; five of 100 and 20.
    expect(await iterate({ batchSize: 1000 })).toEqual([520, 1]);
    expect(await iterate({})).toEqual([520, 3]);
    expect(await iterate({ batchSize: 100 })).toEqual([520, 6]);
    // Unchecked, 1.5 and '2' would run, and 0, -1 and NaN would take no rows at each round trip.
    for (const batchSize of [1.5, '2' as unknown as number, 0, -1, NaN]) {
      await expect(iterate({ batchSize })).rejects.toThrow(
        new RangeError('options.batchSize must be a positive integer'),
      );
    }
    await client.close();
  });
});
