import { afterAll, describe, expect, it } from 'vitest';
import Database from '@unblock/better-sqlite3';
import { Raw } from './helpers.js';

/** How a call ended: a synchronous throw, a returned value, or (only ours) a promise. */
type Sync = { threw: [string, string] } | { returned: 'promise' | 'value' };

function syncOutcome(fn: () => unknown): Sync {
  try {
    const value = fn();
    if (value instanceof Promise) {
      value.catch(() => undefined);
      return { returned: 'promise' };
    }
    return { returned: 'value' };
  } catch (err) {
    return { threw: [(err as Error).name, (err as Error).message] };
  }
}

function* noRows(): Generator<unknown[]> {}
function* oneParameter(_n: unknown): Generator<unknown[]> {}
const many = Array.from({ length: 33 }, (_, i) => `p${i}`);

/** Calls with bad arguments, each made on the raw driver's db and on ours. */
const DATABASE_CASES: [string, (db: any) => unknown][] = [
  ['exec(123)', (db) => db.exec(123)],
  ['exec()', (db) => db.exec()],
  ['exec(null)', (db) => db.exec(null)],
  ['prepare(1)', (db) => db.prepare(1)],
  ['pragma(1)', (db) => db.pragma(1)],
  ['pragma(s, "x")', (db) => db.pragma('user_version', 'x')],
  ['pragma(s, { simple: 1 })', (db) => db.pragma('user_version', { simple: 1 })],
  ['serialize("x")', (db) => db.serialize('x')],
  ['serialize({ attached: 1 })', (db) => db.serialize({ attached: 1 })],
  ['serialize({ attached: "" })', (db) => db.serialize({ attached: '' })],
  ['transaction(1)', (db) => db.transaction(1)],
  ['function(1, fn)', (db) => db.function(1, () => 1)],
  ['function("f")', (db) => db.function('f')],
  ['function("f", "x", fn)', (db) => db.function('f', 'x', () => 1)],
  ['function("", fn)', (db) => db.function('', () => 1)],
  ['function deterministic: 1', (db) => db.function('f', { deterministic: 1 }, () => 1)],
  [
    'function safeIntegers and deterministic both bad (order)',
    (db) => db.function('f', { deterministic: 1, safeIntegers: 1 }, () => 1),
  ],
  [
    'function varargs and directOnly both bad (order)',
    (db) => db.function('f', { varargs: 1, directOnly: 1 }, () => 1),
  ],
  [
    'function("f", fnA, fnB): fnA is the function',
    (db) =>
      db.function(
        'f',
        () => 1,
        () => 2,
      ),
  ],
  [
    'function with 101 arguments',
    (db) =>
      db.function('f', new Function(...Array.from({ length: 101 }, (_, i) => `a${i}`), 'return 1')),
  ],
  ['aggregate(1, {})', (db) => db.aggregate(1, {})],
  ['aggregate("a", null)', (db) => db.aggregate('a', null)],
  ['aggregate("", { step })', (db) => db.aggregate('', { step: () => 1 })],
  ['aggregate("a", {})', (db) => db.aggregate('a', {})],
  ['aggregate step: 1', (db) => db.aggregate('a', { step: 1 })],
  ['aggregate inverse: 1', (db) => db.aggregate('a', { step: () => 1, inverse: 1 })],
  ['aggregate result: 1', (db) => db.aggregate('a', { step: () => 1, result: 1 })],
  [
    'aggregate safeIntegers and varargs both bad (order)',
    (db) => db.aggregate('a', { step: () => 1, varargs: 1, safeIntegers: 1 }),
  ],
  ['table(1, def)', (db) => db.table(1, { columns: ['a'], rows: noRows })],
  ['table("", def)', (db) => db.table('', { columns: ['a'], rows: noRows })],
  ['table("t", 1)', (db) => db.table('t', 1)],
  ['table without rows', (db) => db.table('t', { columns: ['a'] })],
  ['table without columns', (db) => db.table('t', { rows: noRows })],
  ['table rows not a generator', (db) => db.table('t', { columns: ['a'], rows: () => [] })],
  ['table columns a string', (db) => db.table('t', { columns: 'a', rows: noRows })],
  ['table columns not strings', (db) => db.table('t', { columns: [1], rows: noRows })],
  ['table duplicate columns', (db) => db.table('t', { columns: ['a', 'a'], rows: noRows })],
  ['table zero columns', (db) => db.table('t', { columns: [], rows: noRows })],
  [
    'table parameters a string',
    (db) => db.table('t', { columns: ['a'], rows: noRows, parameters: 'p' }),
  ],
  [
    'table parameters not strings',
    (db) => db.table('t', { columns: ['a'], rows: noRows, parameters: [1] }),
  ],
  [
    'table duplicate parameters',
    (db) => db.table('t', { columns: ['a'], rows: noRows, parameters: ['p', 'p'] }),
  ],
  [
    'table 33 parameters',
    (db) => db.table('t', { columns: ['a'], rows: noRows, parameters: many }),
  ],
  [
    'table parameter named like a column',
    (db) => db.table('t', { columns: ['a'], rows: noRows, parameters: ['a'] }),
  ],
  [
    'table inferred parameter named like a column',
    (db) => db.table('t', { columns: ['$1'], rows: oneParameter }),
  ],
  [
    'table safeIntegers: 1',
    (db) => db.table('t', { columns: ['a'], rows: noRows, safeIntegers: 1 }),
  ],
  ['table directOnly: 1', (db) => db.table('t', { columns: ['a'], rows: noRows, directOnly: 1 })],
  ['table, a valid definition', (db) => db.table('ok', { columns: ['a'], rows: noRows })],
  ['loadExtension(1)', (db) => db.loadExtension(1)],
  ['loadExtension("x", 1)', (db) => db.loadExtension('x', 1)],
  ['defaultSafeIntegers(1)', (db) => db.defaultSafeIntegers(1)],
  ['unsafeMode(1)', (db) => db.unsafeMode(1)],
];

/** Calls with bad arguments on a statement `select 1 as x` of each. */
const STATEMENT_CASES: [string, (stmt: any) => unknown][] = [
  ['pluck(1)', (stmt) => stmt.pluck(1)],
  ['raw(1)', (stmt) => stmt.raw(1)],
  ['expand(1)', (stmt) => stmt.expand(1)],
  ['safeIntegers(1)', (stmt) => stmt.safeIntegers(1)],
  ['bind twice', (stmt) => stmt.bind().bind()],
];

describe('differential: argument errors are thrown synchronously, with the driver messages', () => {
  const raw = new Raw(':memory:');
  const db = new Database(':memory:');
  afterAll(async () => {
    raw.close();
    await db.close();
  });

  it.each(DATABASE_CASES)('Database: %s', async (_label, call) => {
    await db.ready;
    const expected = syncOutcome(() => call(raw));
    const actual = syncOutcome(() => call(db));
    if ('threw' in expected) expect(actual).toStrictEqual(expected);
    else expect(actual).not.toHaveProperty('threw');
  });

  it.each(STATEMENT_CASES)('Statement: %s', async (_label, call) => {
    const expected = syncOutcome(() => call(raw.prepare('select 1 as x')));
    const stmt = await db.prepare('select 1 as x');
    expect(syncOutcome(() => call(stmt))).toStrictEqual(expected);
  });

  it('runMany (not in the driver) throws its argument error synchronously too', async () => {
    const stmt = await db.prepare('select ? as x');
    expect(syncOutcome(() => stmt.runMany(1 as never))).toStrictEqual({
      threw: ['TypeError', 'Expected first argument to be an array'],
    });
  });
});
