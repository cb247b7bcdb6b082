import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import Database from '@unblock/better-sqlite3';
import { outcome, Raw } from './helpers.js';

const require = createRequire(import.meta.url);
const EXTENSION = require.resolve('better-sqlite3/build/Release/test_extension.node');

type Target = { db: any; stmt: any; other: any; insert: any };

/** Every operation of reference §1.8, run while an iterator of `stmt` is open. */
const OPS: Record<string, (t: Target) => unknown> = {
  'same statement run': (t) => t.stmt.run(),
  'same statement get': (t) => t.stmt.get(),
  'same statement all': (t) => t.stmt.all(),
  'same statement iterate': (t) => t.stmt.iterate(),
  'same statement pluck': (t) => void t.stmt.pluck(),
  'same statement bind': (t) => void t.stmt.bind(),
  'same statement safeIntegers': (t) => void t.stmt.safeIntegers(),
  'other statement get': (t) => t.other.get(),
  'other statement pluck': (t) => void t.other.pluck(),
  'run of another statement': (t) => Promise.resolve(t.insert.run()).then(() => 'ran'),
  exec: (t) => Promise.resolve(t.db.exec('insert into t values (99)')).then(() => 'ran'),
  pragma: (t) => t.db.pragma('user_version = 1'),
  'pragma read': (t) => t.db.pragma('user_version', { simple: true }),
  serialize: (t) => Promise.resolve(t.db.serialize()).then(() => 'serialized'),
  function: (t) => void t.db.function('f', () => 1),
  aggregate: (t) => void t.db.aggregate('g', { step: () => 1 }),
  table: (t) =>
    void t.db.table('v', {
      columns: ['a'],
      *rows() {
        yield [1];
      },
    }),
  loadExtension: (t) => void t.db.loadExtension(EXTENSION),
  close: (t) => Promise.resolve(t.db.close()).then(() => 'closed'),
};

async function setup(rows: number, unsafe: boolean, ours: boolean): Promise<Target> {
  const sql = `create table t (x); insert into t select x from (with recursive c(x) as (select 1 union all select x + 1 from c where x < ${rows}) select x from c)`;
  const db = ours ? await Database.open(':memory:') : new Raw(':memory:');
  await db.exec(sql);
  if (unsafe) db.unsafeMode();
  return {
    db,
    stmt: await db.prepare('select x from t'),
    other: await db.prepare('select count(*) as n from t'),
    insert: await db.prepare('insert into t values (0)'),
  };
}

describe('state matrix while iterating (differential)', () => {
  // 3 rows: the first batch already finished the cursor in the worker, so only the caller's
  // side knows the iterator is open. 2000 rows: a real cursor is open in the worker.
  for (const rows of [3, 2000]) {
    for (const unsafe of [false, true]) {
      it(`${rows} rows, unsafe mode ${unsafe ? 'on' : 'off'}`, async () => {
        for (const [name, op] of Object.entries(OPS)) {
          const raw = await setup(rows, unsafe, false);
          const ours = await setup(rows, unsafe, true);
          const rawIt = raw.stmt.iterate();
          rawIt.next();
          const it = ours.stmt.iterate();
          await it.next();
          const expected = await outcome(() => op(raw));
          const actual = await outcome(() => op(ours));
          expect(actual, name).toEqual(expected);
          // After the iterator ends, both are fully usable again.
          rawIt.return();
          await it.return();
          expect(ours.stmt.busy).toBe(false);
          if (ours.db.open) {
            expect(await ours.insert.run()).toEqual(raw.insert.run());
            expect(await outcome(() => ours.other.pluck(false).get()), name).toEqual(
              await outcome(() => raw.other.pluck(false).get()),
            );
            await ours.db.close();
          }
          if (raw.db.open) raw.db.close();
        }
      });
    }
  }

  it('the busy errors are the driver classes and messages', async () => {
    const ours = await setup(3, false, true);
    const it = ours.stmt.iterate();
    await it.next();
    await expect(ours.stmt.get()).rejects.toThrow(
      new TypeError('This statement is busy executing a query'),
    );
    await expect(ours.db.exec('select 1')).rejects.toThrow(
      new TypeError('This database connection is busy executing a query'),
    );
    await expect(ours.db.pragma('user_version')).rejects.toBeInstanceOf(TypeError);
    await expect(ours.db.close()).rejects.toThrow(
      'This database connection is busy executing a query',
    );
    expect(ours.db.open).toBe(true);
    await it.return();
    await ours.db.close();
    expect(ours.db.open).toBe(false);
  });
});
