import { afterAll, describe, expect, it } from 'vitest';
import Database from '@unblock/better-sqlite3';
import { poolOf } from '@unblock/better-sqlite3/testing';
import { outcome, Raw, readersOpen, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

describe('db.table() definitions (differential)', () => {
  it('reads only what the driver reads of a table definition: other properties stay behind', async () => {
    let reads = 0;
    const definitions = (): [string, object][] => [
      [
        'helper',
        {
          columns: ['a'],
          *rows() {
            yield [1];
          },
          helper: () => 2,
        },
      ],
      [
        'tagged',
        {
          columns: ['a'],
          *rows() {
            yield [2];
          },
          tag: Symbol('tag'),
        },
      ],
      // Not a `{ module, export }` reference: it has no `module`.
      [
        'exported',
        {
          columns: ['a'],
          *rows() {
            yield [3];
          },
          export: 'rows',
        },
      ],
      [
        'getter',
        {
          get columns() {
            reads++;
            return ['a'];
          },
          *rows() {
            yield [4];
          },
        },
      ],
    ];
    const raw = new Raw(':memory:');
    const expected = [];
    for (const [name, def] of definitions()) {
      raw.table(name, def);
      expected.push(await outcome(() => raw.prepare(`select * from ${name}`).all()));
    }
    const rawReads = reads;
    raw.close();
    reads = 0;
    const db = await Database.open(':memory:');
    const actual = [];
    for (const [name, def] of definitions()) {
      db.table(name, def);
      actual.push(await outcome(async () => (await db.prepare(`select * from ${name}`)).all()));
    }
    await db.close();
    expect(actual).toStrictEqual(expected);
    expect(expected.map((o) => ('ok' in o ? o.ok : o))).toStrictEqual([
      [{ a: 1 }],
      [{ a: 2 }],
      [{ a: 3 }],
      [{ a: 4 }],
    ]);
    expect(reads).toBe(rawReads);
  });
});

/** What a synchronous call threw, or what the first `next()` of the iterator it returned did. */
async function firstStep(call: () => unknown): Promise<unknown> {
  try {
    const value = call() as { next?: () => unknown } | undefined;
    if (typeof value?.next === 'function') return { next: await outcome(() => value.next!()) };
    return { returned: typeof value };
  } catch (err) {
    return { threw: [(err as Error).name, (err as Error).message] };
  }
}

describe('statement checks, in the driver order (differential)', () => {
  it('checks the kind of statement, the open state and busy before the values or a toggle', async () => {
    const sql = {
      setup: 'create table t (x); insert into t values (1), (2)',
      write: 'insert into t values (?)',
      read: 'select ? as a from t',
    };
    const raw = new Raw(':memory:');
    raw.exec(sql.setup);
    const db = await Database.open(':memory:');
    await db.exec(sql.setup);
    const sides = [
      { db: raw, prepare: async (s: string) => raw.prepare(s), close: async () => raw.close() },
      { db, prepare: (s: string) => db.prepare(s), close: () => db.close() },
    ];
    const results = [];
    for (const side of sides) {
      const steps: unknown[] = [];
      const write = (await side.prepare(sql.write)).bind(1);
      const read = await side.prepare(sql.read);
      const bound = (await side.prepare(sql.read)).bind(1);
      steps.push(await firstStep(() => write.iterate(2)));
      for await (const _row of read.iterate(1)) {
        for (const toggle of ['raw', 'pluck', 'expand', 'safeIntegers'] as const) {
          steps.push(await firstStep(() => read[toggle](7 as never)));
        }
        break;
      }
      await side.close();
      steps.push(await firstStep(() => bound.iterate(2)));
      results.push(steps);
    }
    const [expected, actual] = results;
    // The driver throws where ours rejects the iterator's first next() (see docs/api.md).
    const notOpen = {
      error: expect.objectContaining({ message: 'The database connection is not open' }),
    };
    expect(expected!.at(-1)).toEqual({
      threw: ['TypeError', 'The database connection is not open'],
    });
    expect(actual!.at(-1)).toEqual({ next: notOpen });
    expect(actual!.slice(0, -1)).toStrictEqual(expected!.slice(0, -1));
    expect(expected![0]).toEqual({
      threw: ['TypeError', 'This statement does not return data. Use run() instead'],
    });
    expect(expected![1]).toEqual({
      threw: ['TypeError', 'This statement is busy executing a query'],
    });
  });
});

describe('unsafeMode() and defaultSafeIntegers() toggles', () => {
  it('made in a loop do not pile up for the connections opened later, which still agree with the driver', async () => {
    const toggle = (db: {
      unsafeMode(on: boolean): unknown;
      defaultSafeIntegers(on: boolean): unknown;
    }): void => {
      for (let i = 0; i < 200; i++) {
        db.unsafeMode(true);
        db.defaultSafeIntegers(true);
        db.unsafeMode(false);
        db.defaultSafeIntegers(false);
      }
    };
    const define = (db: {
      function(name: string, fn: (x: unknown) => string): unknown;
      defaultSafeIntegers(on: boolean): unknown;
    }): void => {
      // Each function takes the default in force when it is defined.
      db.defaultSafeIntegers(true);
      db.function('kind_then', (x: unknown) => typeof x);
      db.defaultSafeIntegers(false);
      db.function('kind_now', (x: unknown) => typeof x);
    };
    const sql = 'select kind_then(1) as a, kind_now(1) as b';
    const raw = new Raw(':memory:');
    toggle(raw);
    define(raw);
    const expected = raw.prepare(sql).get();
    raw.close();

    const db = await Database.open(tmp.file('toggles.db'), { readers: 2 });
    toggle(db);
    define(db);
    const pool = poolOf(db) as unknown as {
      openSession(options: { setup: { k: string }[] }, ...rest: unknown[]): unknown;
    };
    const openSession = pool.openSession.bind(pool);
    const replayed: string[][] = [];
    pool.openSession = (options, ...rest) => {
      replayed.push(options.setup.map((step) => step.k));
      return openSession(options, ...rest);
    };
    await db.pragma('journal_mode = WAL');
    await readersOpen(db, 3);
    const steps = [
      'unsafeMode',
      'defaultSafeIntegers',
      'function',
      'defaultSafeIntegers',
      'function',
    ];
    expect(replayed).toEqual([steps, steps]);
    // Read on a reader: the writer is held by a transaction meanwhile.
    const read = await db.prepare(sql);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const tx = db.transaction(async () => {
      await db.exec('create table t (x)');
      await held;
    })();
    const onReader = await read.get();
    release();
    await tx;
    expect(onReader).toStrictEqual(expected);
    expect(expected).toStrictEqual({ a: 'bigint', b: 'number' });
    await db.close();
  });
});
