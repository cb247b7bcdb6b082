import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { watchLeaks } from '@unblock/core/testing';
import Database from '@unblock/better-sqlite3';
import { poolOf } from '@unblock/better-sqlite3/testing';
import { outcome, Raw, readersOpen, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** Where both drivers run: in memory, and a WAL file database whose reads go to the readers. */
const TARGETS = [
  { name: ':memory:', file: () => ':memory:', wal: false },
  {
    name: 'a WAL file database with 2 readers',
    file: () => tmp.file('differential.db'),
    wal: true,
  },
];

/** Creates `table` (one column, x) holding 0..n-1. */
async function fillTable(db: Database, table: string, n: number): Promise<void> {
  await db.exec(`create table ${table} (x)`);
  const insert = await db.prepare(`insert into ${table} values (?)`);
  await insert.runMany(Array.from({ length: n }, (_, i) => [i]));
}

/**
 * What an iteration gave: its rows until it ended or failed, the error it failed with (its
 * class, name, message and code), and what `next()` gives afterwards.
 */
async function iterated(
  rows: Iterator<unknown> | AsyncIterator<unknown>,
): Promise<{ rows: unknown[]; failure: unknown; after: unknown }> {
  const seen: unknown[] = [];
  let failure: unknown;
  try {
    for (;;) {
      const next = await rows.next();
      if (next.done === true) break;
      seen.push(next.value);
    }
  } catch (err) {
    const { constructor, name, message, code } = err as Error & { code?: unknown };
    failure = { class: constructor.name, name, message, code };
  }
  return { rows: seen, failure, after: await rows.next() };
}

/** A view made by `view` of a buffer of 4 bytes, which is then transferred away (detached). */
function detachedView(view: (buffer: ArrayBuffer) => ArrayBufferView): ArrayBufferView {
  const buffer = new ArrayBuffer(4);
  const made = view(buffer);
  structuredClone(buffer, { transfer: [buffer] });
  return made;
}

/** ArrayBuffer with ES2024's resizing, which the ES2023 lib this project compiles against lacks. */
const GrowableBuffer = ArrayBuffer as unknown as new (
  length: number,
  options: { maxByteLength: number },
) => ArrayBuffer & { resize(length: number): void };

/** Views of a detached buffer, which hold no bytes, made afresh for each call. */
const DETACHED_VIEWS: [string, () => ArrayBufferView][] = [
  ['Buffer', () => detachedView((buffer) => Buffer.from(buffer))],
  ['Uint8Array', () => detachedView((buffer) => new Uint8Array(buffer))],
  ['DataView', () => detachedView((buffer) => new DataView(buffer))],
];

const SCHEMA = `
  create table people (id integer primary key, name text not null unique, age integer, score real, avatar blob);
  create table big (n integer);
  insert into big values (9007199254740993);
`;

describe.each(TARGETS)(
  'differential: raw better-sqlite3 vs @unblock/better-sqlite3 on $name',
  (target) => {
    const raw = new Raw(target.wal ? tmp.file('raw-differential.db') : ':memory:');
    const db = new Database(target.file(), { readers: 2 });

    /**
     * A database of a test's own, beside raw better-sqlite3 on one like it: on the WAL target
     * both in WAL mode, with the drop-in's `readers` open.
     */
    async function freshPair(
      name: string,
      readers = 2,
    ): Promise<{ rawDb: typeof raw; drop: Database }> {
      const file = target.wal ? tmp.file(`${name}-${Date.now()}.db`) : ':memory:';
      const rawDb = new Raw(target.wal ? `${file}.raw` : file);
      const drop = new Database(file, { readers });
      if (target.wal) {
        rawDb.pragma('journal_mode = WAL');
        await drop.pragma('journal_mode = WAL');
        await readersOpen(drop, readers + 1);
      }
      return { rawDb, drop };
    }

    beforeAll(async () => {
      if (target.wal) {
        raw.pragma('journal_mode = WAL');
        await db.pragma('journal_mode = WAL');
        await readersOpen(db, 3);
      }
      raw.exec(SCHEMA);
      await db.exec(SCHEMA);
    });
    afterAll(async () => {
      raw.close();
      await db.close();
    });

    type Op = {
      sql: string;
      method: 'run' | 'get' | 'all';
      params: unknown[];
      mode?: 'pluck' | 'raw' | 'expand';
      safe?: boolean;
    };

    async function both(op: Op): Promise<void> {
      const expected = await outcome(() => {
        let stmt = raw.prepare(op.sql);
        if (op.mode) stmt = stmt[op.mode]();
        if (op.safe) stmt = stmt.safeIntegers();
        return stmt[op.method](...op.params);
      });
      const actual = await outcome(async () => {
        let stmt = await db.prepare(op.sql);
        if (op.mode) stmt = stmt[op.mode]();
        if (op.safe) stmt = stmt.safeIntegers();
        return stmt[op.method](...op.params);
      });
      expect(
        actual,
        `${op.method} ${op.sql} ${op.params.map((p) => typeof p).join(',')}`,
      ).toStrictEqual(expected);
    }

    it('inserts and reads rows with the same values and types', async () => {
      const cases: Op[] = [
        {
          sql: 'insert into people (name, age, score, avatar) values (?, ?, ?, ?)',
          method: 'run',
          params: ['ada', 36, 1.5, Buffer.from([1, 2, 3])],
        },
        {
          sql: 'insert into people (name, age) values (@name, @age)',
          method: 'run',
          params: [{ name: 'bob', age: 7 }],
        },
        {
          sql: 'insert into people (name, age) values (?, ?)',
          method: 'run',
          params: [['cy', 1n]],
        },
        { sql: 'select * from people order by id', method: 'all', params: [] },
        { sql: 'select * from people where name = ?', method: 'get', params: ['ada'] },
        { sql: 'select * from people where name = ?', method: 'get', params: ['nobody'] },
        { sql: 'select name from people order by id', method: 'all', params: [], mode: 'pluck' },
        { sql: 'select id, name from people order by id', method: 'all', params: [], mode: 'raw' },
        { sql: 'select * from people where id = 1', method: 'get', params: [], mode: 'expand' },
        { sql: 'select n from big', method: 'get', params: [], safe: true },
        { sql: 'select n from big', method: 'get', params: [] },
        { sql: 'select id from people', method: 'all', params: [], safe: true },
        { sql: 'select 1 as a, 2 as a', method: 'get', params: [] },
        { sql: 'update people set age = age + 1', method: 'run', params: [] },
        { sql: 'select * from people', method: 'run', params: [] },
        { sql: "select x'00ff' as b, null as n, 'é' as s", method: 'all', params: [] },
      ];
      for (const op of cases) await both(op);
    });

    it('agrees on all() as the results of one statement shrink and grow', async () => {
      // A few rows come back as the driver's own objects, more as rows rebuilt from arrays; one
      // statement switches between the two with the size of its last result.
      const setup = `
        create table seq (id integer primary key);
        insert into seq select value from generate_series(1, 300);
      `.replace(
        'generate_series(1, 300)',
        '(with recursive c(value) as (select 1 union all select value + 1 from c where value < 300) select value from c)',
      );
      raw.exec(setup);
      await db.exec(setup);
      const sql = `select id, id * 2 as "__proto__", 'n' || id as "10", id as dup, -id as dup,
        x'0a0b' as blob, case when id % 3 = 0 then null else id / 4.0 end as q
        from seq where id <= ? order by id`;
      const rawStmt = raw.prepare(sql);
      const stmt = await db.prepare(sql);
      for (const n of [1, 3, 4, 5, 2, 300, 1, 0, 4, 9, 4]) {
        const expected = rawStmt.all(n);
        const actual = await stmt.all(n);
        expect(actual, `${n} rows`).toStrictEqual(expected);
        expect(Object.keys(actual[0] ?? {}), `${n} rows`).toEqual(Object.keys(expected[0] ?? {}));
      }
    });

    it('gives a row whose blob column is named __proto__ its other columns, as a plain object', async () => {
      // better-sqlite3 assigns the blob as the row's prototype, which no copy to another thread
      // keeps: the drop-in's row has the same own keys and values.
      const sql = `select 1 as a, x'0102' as "__proto__", 2 as b`;
      const own = { ...(raw.prepare(sql).get() as object) };
      expect(own).toStrictEqual({ a: 1, b: 2 });
      const stmt = await db.prepare(sql);
      for (let i = 0; i < 3; i++) {
        expect(await stmt.get()).toStrictEqual(own);
        expect(await stmt.all()).toStrictEqual([own]);
        const rows: unknown[] = [];
        for await (const row of stmt.iterate()) rows.push(row);
        expect(rows).toStrictEqual([own]);
      }
    });

    it('gives an expanded row whose blob column is named __proto__ its other columns, as plain objects', async () => {
      // In expand mode, better-sqlite3 makes the blob the prototype of its table's object: the
      // drop-in's objects have the same own keys and values (no copy keeps the prototype).
      await db.exec(`create table if not exists protos (k, "__proto__"); delete from protos;
        insert into protos values (1, x'01'), (2, x'02')`);
      raw.exec(`create table if not exists protos (k, "__proto__"); delete from protos;
        insert into protos values (1, x'01'), (2, x'02')`);
      const sql = `select p.*, 3 as a, x'0102' as "__proto__" from protos p order by k`;
      const own = (row: unknown): unknown =>
        Object.fromEntries(Object.entries(row as object).map(([table, o]) => [table, { ...o }]));
      const expected = (raw.prepare(sql).expand().all() as unknown[]).map(own);
      expect(expected[0]).toStrictEqual({ protos: { k: 1 }, $: { a: 3 } });
      const stmt = (await db.prepare(sql)).expand();
      for (let i = 0; i < 3; i++) {
        expect(await stmt.get()).toStrictEqual(expected[0]);
        expect(await stmt.all()).toStrictEqual(expected);
        const rows: unknown[] = [];
        for await (const row of stmt.iterate()) rows.push(row);
        expect(rows).toStrictEqual(expected);
      }
    });

    it('agrees on iterate() in every mode, across its batches', async () => {
      // Batches travel as row sets (rows rebuilt here) but expanded rows; 700 rows span the
      // first batch and the later ones.
      const sql = `select id, id * 2 as "__proto__", 'n' || id as "10", id as dup, -id as dup,
        x'0a0b' as blob, case when id % 3 = 0 then null else id / 4.0 end as q,
        9007199254740993 + id as big
        from (with recursive c(id) as (select 1 union all select id + 1 from c where id < ?)
        select id from c) order by id`;
      const modes = [undefined, 'raw', 'pluck', 'expand'] as const;
      for (const mode of modes) {
        for (const safe of [false, true]) {
          for (const n of [1, 3, 700]) {
            let rawStmt = raw.prepare(sql);
            let stmt = await db.prepare(sql);
            if (mode !== undefined) {
              rawStmt = rawStmt[mode]();
              stmt = stmt[mode]();
            }
            rawStmt = rawStmt.safeIntegers(safe);
            stmt = stmt.safeIntegers(safe);
            const expected = [...rawStmt.iterate(n)];
            const actual: unknown[] = [];
            for await (const row of stmt.iterate(n)) actual.push(row);
            const what = `${mode ?? 'object'} safe=${safe} ${n} rows`;
            expect(actual, what).toStrictEqual(expected);
            if (n > 0 && mode === undefined) {
              expect(Object.keys(actual[0] as object), what).toEqual(
                Object.keys(expected[0] as object),
              );
            }
          }
        }
      }
    });

    it('agrees where one connection would: the last insert, bound values, columns, close', async () => {
      // On a reader, last_insert_rowid() and changes() would answer for the reader.
      const setup = 'create table li (id integer primary key, v)';
      raw.exec(setup);
      await db.exec(setup);
      raw.prepare('insert into li (v) values (?)').run('a');
      await (await db.prepare('insert into li (v) values (?)')).run('a');
      await both({
        sql: 'select last_insert_rowid() as id, changes() as n',
        method: 'get',
        params: [],
      });
      // bind() takes the values as they are then.
      const list = [1, Buffer.from([1])];
      const named = { x: 1 };
      const rawBound = raw.prepare('select ? as a, hex(?) as b').bind(...list);
      const bound = (await db.prepare('select ? as a, hex(?) as b')).bind(...list);
      const rawNamed = raw.prepare('select @x as x').bind(named);
      const boundNamed = (await db.prepare('select @x as x')).bind(named);
      (list[1] as Buffer)[0] = 2;
      named.x = 2;
      expect(await bound.get()).toStrictEqual(rawBound.get());
      expect(await boundNamed.get()).toStrictEqual(rawNamed.get());
      // columns() after the table changed, on a statement prepared before.
      for (const sql of ['create table cols (x)', 'select * from cols']) {
        raw.prepare(sql).run();
        await (await db.prepare(sql)).run();
      }
      const before = await (await db.prepare('select * from cols')).columns();
      raw.exec('alter table cols add column y');
      await db.exec('alter table cols add column y');
      const after = await (await db.prepare('select * from cols')).columns();
      expect([before, after].map((c) => c.map((x) => x.name))).toEqual([['x'], ['x', 'y']]);
      expect(after).toStrictEqual(raw.prepare('select * from cols').columns());
    });

    it('agrees on safeIntegers(false) after defaultSafeIntegers(), and on toggles after close', async () => {
      const { rawDb, drop } = await freshPair('safe');
      const sql = 'select 9007199254740993 as n, 1 as one';
      const early = await drop.prepare(sql);
      const rawEarly = rawDb.prepare(sql);
      rawDb.defaultSafeIntegers();
      drop.defaultSafeIntegers();
      expect(await early.get()).toStrictEqual(rawEarly.get());
      // A statement first compiled after the default changed, then asked for numbers.
      const later = 'select 9007199254740993 as n, 2 as two';
      expect(await (await drop.prepare(later)).safeIntegers(false).get()).toStrictEqual(
        rawDb.prepare(later).safeIntegers(false).get(),
      );
      expect(await (await drop.prepare(sql)).all()).toStrictEqual(rawDb.prepare(sql).all());
      rawDb.close();
      await drop.close();
      expect(rawDb.defaultSafeIntegers(false)).toBe(rawDb);
      expect(drop.defaultSafeIntegers(false)).toBe(drop);
      expect(drop.unsafeMode(false)).toBe(drop);
    });

    it('bind() copies typed arrays, DataViews and null-prototype named parameters', async () => {
      const bytes = new Uint8Array([1, 2, 3, 4]);
      const view = new DataView(bytes.buffer, 1, 2);
      const named = Object.assign(Object.create(null) as Record<string, unknown>, { a: 1 });
      const sql = 'select hex(?) as v';
      const rawView = raw.prepare(sql).bind(view);
      const dropView = (await db.prepare(sql)).bind(view);
      const rawFloats = raw.prepare(sql).bind(Float64Array.of(1.5));
      const floats = Float64Array.of(1.5);
      const dropFloats = (await db.prepare(sql)).bind(floats);
      const rawNamed = raw.prepare('select @a as a').bind(named);
      const dropNamed = (await db.prepare('select @a as a')).bind(named);
      bytes[1] = 9;
      floats[0] = 2.5;
      named.a = 2;
      expect(await dropView.get()).toStrictEqual(rawView.get());
      expect(await dropFloats.get()).toStrictEqual(rawFloats.get());
      expect(await dropNamed.get()).toStrictEqual(rawNamed.get());
    });

    it('binds a view of a detached buffer as the driver does, as an empty blob', async () => {
      const sql = 'select ? as v, length(?) as n';
      for (const [kind, view] of DETACHED_VIEWS) {
        const expected = raw.prepare(sql).bind(view(), view()).get();
        expect(expected, kind).toStrictEqual({ v: Buffer.alloc(0), n: 0 });
        const bound = (await db.prepare(sql)).bind(view(), view());
        expect(await outcome(() => bound.get()), kind).toStrictEqual({ ok: expected });
        // iterate() takes its values when called, as bind() does.
        const rows = await iterated((await db.prepare(sql)).iterate(view(), view()));
        expect(rows, kind).toStrictEqual(await iterated(raw.prepare(sql).iterate(view(), view())));
      }
    });

    it('binds a view of an empty buffer that grows afterwards as it was when bound', async () => {
      const sql = 'select hex(?) as h';
      const rawStmt = raw.prepare(sql);
      const dropStmt = await db.prepare(sql);
      for (const stmt of [rawStmt, dropStmt]) {
        const buffer = new GrowableBuffer(0, { maxByteLength: 4 });
        const view = new Uint8Array(buffer);
        stmt.bind(view);
        buffer.resize(4);
        view.fill(7);
      }
      expect(await dropStmt.get()).toStrictEqual(rawStmt.get());
    });

    /**
     * Iterates `sql` on both drivers, where reading a row fails part-way: the rows before it,
     * then its error, then the end, as the driver gives them; afterwards the statement is free,
     * no transaction is left open (a later write shows in reads), and no cursor is left open.
     */
    async function bothFailPartWay(sql: string, table: string, rowsBefore: number): Promise<void> {
      const expected = await iterated(raw.prepare(sql).iterate());
      expect(expected.rows).toHaveLength(rowsBefore);
      expect(expected.failure).toBeDefined();
      const leaks = watchLeaks(poolOf(db), { kinds: ['cursor'] });
      try {
        const stmt = await db.prepare(sql);
        expect(await iterated(stmt.iterate())).toStrictEqual(expected);
        expect(stmt.busy).toBe(false);
        expect(db.inTransaction).toBe(false);
        await leaks.check();
        raw.exec(`insert into ${table} values (0)`);
        await db.exec(`insert into ${table} values (0)`);
        const count = `select count(*) from ${table}`;
        const counts = await Promise.all(
          [1, 2, 3].map(async () => (await db.prepare(count)).pluck().get()),
        );
        expect(counts).toStrictEqual(Array(3).fill(raw.prepare(count).pluck().get()));
      } finally {
        leaks.stop();
      }
    }

    it('gives the rows before a row that fails to compute, then its error', async () => {
      const setup = `create table overflow4 (v integer);
        insert into overflow4 values (1), (2), (-9223372036854775808), (4)`;
      raw.exec(setup);
      await db.exec(setup);
      await bothFailPartWay('select abs(v) as a from overflow4 order by rowid', 'overflow4', 2);
    });

    it('gives the rows before a failing row in a later batch, then its error', async () => {
      // Row 100 of 150: past the first batch (64 rows), inside the second.
      const setup = `create table overflow150 (v integer);
        insert into overflow150 select case when x = 100 then -9223372036854775808 else x end
        from (with recursive c(x) as (select 1 union all select x + 1 from c where x < 150)
        select x from c)`;
      raw.exec(setup);
      await db.exec(setup);
      await bothFailPartWay(
        'select abs(v) as a from overflow150 order by rowid',
        'overflow150',
        99,
      );
    });

    it('gives the rows before a row whose user function throws, then what it threw', async () => {
      const failsOnThree = (x: number): number => {
        if (x === 3) throw new RangeError('three is refused');
        return x;
      };
      raw.function('fails_on_three', failsOnThree);
      db.function('fails_on_three', failsOnThree);
      const setup =
        'create table udf_rows (v integer); insert into udf_rows values (1), (2), (3), (4)';
      raw.exec(setup);
      await db.exec(setup);
      await bothFailPartWay(
        'select fails_on_three(v) as a from udf_rows order by rowid',
        'udf_rows',
        2,
      );
    });

    // On the writer, the driver refuses pragma() while iterating; a reader's cursor does not.
    it.runIf(target.wal)(
      'applies a setting made while a reader has a cursor open once it closes',
      async () => {
        const { rawDb, drop } = await freshPair('cursor-setting', 1);
        rawDb.close();
        // More rows than the first batch, so the cursor stays open in the worker.
        await fillTable(drop, 'c', 200);
        const rows = (await drop.prepare('select x from c')).iterate();
        await rows.next();
        await drop.pragma('case_sensitive_like = ON');
        await rows.return?.();
        const like = await drop.prepare("select 'a' like 'A' as v");
        expect(await Promise.all([like.get(), like.get()])).toStrictEqual([{ v: 0 }, { v: 0 }]);
        await drop.close();
      },
    );

    it('leaves a statement unbound after values it cannot bind, as bind() throwing does', async () => {
      const sql = 'select ? as v';
      for (const bad of [[Symbol('s')], [1, 2], [{ x: 1 }]]) {
        const rawStmt = raw.prepare(sql);
        const stmt = await db.prepare(sql);
        const expected = await outcome(() => rawStmt.bind(...bad));
        // Checked at the first execution here: the same error, then the same statement state.
        const actual = await outcome(() => stmt.bind(...bad).get());
        expect(actual).toStrictEqual(expected);
        expect(await outcome(() => stmt.get(3))).toStrictEqual(await outcome(() => rawStmt.get(3)));
        expect(await outcome(() => stmt.bind(4).get())).toStrictEqual(
          await outcome(() => rawStmt.bind(4).get()),
        );
      }
    });

    it('leaves a statement unbound after iterate() with values it cannot bind', async () => {
      const sql = 'select ? as v';
      for (const bad of [[true], [1, 2]]) {
        const rawStmt = raw.prepare(sql);
        const stmt = await db.prepare(sql);
        const expected = await outcome(() => rawStmt.bind(...bad));
        // Checked when the cursor opens, at the first next(): the error bind() would throw.
        expect(
          await outcome(() =>
            stmt
              .bind(...bad)
              .iterate()
              .next(),
          ),
        ).toStrictEqual(expected);
        expect(await outcome(() => stmt.get(3))).toStrictEqual(await outcome(() => rawStmt.get(3)));
      }
    });

    it('agrees on connection settings made with pragma(), wherever reads run', async () => {
      const { rawDb, drop } = await freshPair('settings');
      const read = async (sql: string): Promise<unknown[]> => {
        // Several at once, so that reads reach both readers.
        const stmt = await drop.prepare(sql);
        return Promise.all(Array.from({ length: 8 }, () => stmt.get()));
      };
      for (const source of ['case_sensitive_like = ON', 'busy_timeout = 77', 'busy_timeout(78)']) {
        rawDb.pragma(source);
        await drop.pragma(source);
        for (const sql of ["select 'a' like 'A' as v", 'pragma busy_timeout']) {
          const expected = rawDb.prepare(sql).get();
          expect(await read(sql), `${source}: ${sql}`).toStrictEqual(Array(8).fill(expected));
        }
      }
      // Reads made right after a pragma() that is not awaited see it too.
      rawDb.pragma('case_sensitive_like = OFF');
      const setting = drop.pragma('case_sensitive_like = OFF');
      const like = "select 'a' like 'A' as v";
      expect(await read(like)).toStrictEqual(Array(8).fill(rawDb.prepare(like).get()));
      await setting;
      rawDb.close();
      await drop.close();
    });

    it('refuses close() while an iterator is open, wherever its cursor is', async () => {
      const { rawDb, drop } = await freshPair('close');
      rawDb.close();
      await fillTable(drop, 'many', 2000);
      const rows = (await drop.prepare('select x from many order by x')).iterate();
      await rows.next();
      await expect(drop.close()).rejects.toThrow(
        'This database connection is busy executing a query',
      );
      expect(drop.open).toBe(true);
      let n = 1;
      for await (const _ of rows) n++;
      expect(n).toBe(2000);
      await drop.close();
      expect(drop.open).toBe(false);
    });

    it('rejects bad binds and bad SQL with the driver errors', async () => {
      const cases: Op[] = [
        { sql: 'select ?', method: 'get', params: [true] },
        { sql: 'select ?', method: 'get', params: [new Date()] },
        { sql: 'select ?', method: 'get', params: [new Map()] },
        { sql: 'select ?', method: 'get', params: [() => 1] },
        { sql: 'select ?', method: 'get', params: [Symbol('s')] },
        // A statement with named parameters refuses a positional object as named parameters
        // outside a plain object, and a positional symbol as a value it cannot bind.
        { sql: 'select ?1', method: 'get', params: [Symbol('s')] },
        { sql: 'select ?1', method: 'get', params: [() => 1] },
        { sql: 'select ?1', method: 'get', params: [new Map()] },
        { sql: 'select ?, @x', method: 'get', params: [Symbol('s'), { x: 1 }] },
        { sql: 'select ?, @x', method: 'get', params: [[Symbol('s')], { x: 1 }] },
        { sql: 'select ?, @x', method: 'get', params: [1, { x: Symbol('s') }] },
        { sql: 'select ?', method: 'get', params: [[{ a: 1 }]] },
        { sql: 'select ?', method: 'get', params: [2n ** 70n] },
        { sql: 'select ?', method: 'get', params: [] },
        { sql: 'select ?', method: 'get', params: [1, 2] },
        { sql: 'select @x', method: 'get', params: [{}] },
        { sql: 'select @x', method: 'get', params: [{ x: 1 }, { y: 2 }] },
        { sql: 'insert into people (name) values (?)', method: 'get', params: ['z'] },
        { sql: 'insert into people (name) values (?)', method: 'run', params: ['ada'] },
        { sql: 'insert into people (id, name) values (1, ?)', method: 'run', params: ['dup'] },
        { sql: 'select 1; select 2', method: 'get', params: [] },
        { sql: '', method: 'get', params: [] },
        { sql: '   -- only a comment', method: 'get', params: [] },
        { sql: 'select 1; -- trailing comment', method: 'get', params: [] },
        { sql: 'selec 1', method: 'get', params: [] },
        { sql: 'select * from missing', method: 'all', params: [] },
      ];
      for (const op of cases) await both(op);
    });

    it('agrees on toggles on non-readers', async () => {
      const a = await outcome(() => raw.prepare('delete from big where 0').pluck());
      const b = await outcome(async () => (await db.prepare('delete from big where 0')).pluck());
      expect('error' in b && b.error).toStrictEqual('error' in a && a.error);
    });

    it('agrees on a generated workload of mixed statements', async () => {
      raw.exec('create table w (k integer primary key, v text, n real)');
      await db.exec('create table w (k integer primary key, v text, n real)');
      let seed = 42;
      const rand = (n: number): number => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed % n;
      };
      for (let i = 0; i < 300; i++) {
        const k = rand(50);
        const pick = rand(6);
        const op: Op =
          pick === 0
            ? { sql: 'insert into w values (?, ?, ?)', method: 'run', params: [k, `v${k}`, k / 3] }
            : pick === 1
              ? { sql: 'update w set n = n * 2 where k = ?', method: 'run', params: [k] }
              : pick === 2
                ? { sql: 'delete from w where k = ?', method: 'run', params: [k] }
                : pick === 3
                  ? { sql: 'select * from w where k = ?', method: 'get', params: [k] }
                  : pick === 4
                    ? { sql: 'select * from w where k > ? order by k', method: 'all', params: [k] }
                    : {
                        sql: 'select count(*), sum(n) from w',
                        method: 'get',
                        params: [],
                        mode: 'raw',
                      };
        await both(op);
      }
    });

    it('agrees on pragma and exec', async () => {
      expect(await db.pragma('user_version', { simple: true })).toStrictEqual(
        raw.pragma('user_version', { simple: true }),
      );
      expect(await db.pragma('table_info(people)')).toStrictEqual(raw.pragma('table_info(people)'));
      expect(await outcome(() => db.exec('insert into nope values (1)'))).toStrictEqual(
        await outcome(() => raw.exec('insert into nope values (1)')),
      );
    });

    it('agrees on columns()', async () => {
      expect(
        await (await db.prepare('select id, name as n, 1 + 1 from people')).columns(),
      ).toStrictEqual(raw.prepare('select id, name as n, 1 + 1 from people').columns());
    });

    it('throws the driver constructor errors synchronously', () => {
      const calls: [unknown, unknown][] = [
        [123, undefined],
        [':memory:', 'x'],
        [':memory:', { readOnly: true }],
        [':memory:', { memory: true }],
        [':memory:', { readonly: true }],
        ['', { readonly: 1 }],
        [':memory:', { timeout: -1 }],
        [':memory:', { timeout: -0 }],
        ['/no/such/dir/x.db', { timeout: -0 }],
        [':memory:', { timeout: 2 ** 32 }],
        [':memory:', { verbose: 1 }],
        ['/no/such/dir/x.db', {}],
        // The driver requires the addon at once; its "Require stack" lines name the requiring
        // file, which differs: the first line of the message is compared.
        [':memory:', { nativeBinding: '/no/such/addon' }],
        ['/no/such/dir/x.db', { nativeBinding: '/no/such/addon.node' }],
        // Neither a path nor an addon object: the driver's own message.
        [':memory:', { nativeBinding: 5 }],
        [':memory:', { nativeBinding: true }],
        [':memory:', { nativeBinding: () => undefined }],
      ];
      const summary = (err: unknown): unknown[] => {
        const { name, message, code } = err as Error & { code?: unknown };
        return [name, message.split('\n')[0], code];
      };
      for (const [file, options] of calls) {
        let expected: unknown;
        let actual: unknown;
        try {
          new Raw(file, options);
        } catch (err) {
          expected = summary(err);
        }
        try {
          new Database(file as string, options as never);
        } catch (err) {
          actual = summary(err);
        }
        expect(actual, String(file)).toStrictEqual(expected);
        expect(actual).toBeDefined();
      }
    });
  },
);
