// execute() given an object that is not an options object in place of the SQL (an array, a
// Buffer, a Map, ...), or options whose values are not an array. mysql2's execute() reads
// `sql.values`, inherited ones included, and refuses values that are not an array unless named
// placeholders are on: the connection stays usable. Each case runs on mysql2/promise and on the
// drop-in, on a connection and a one-connection pool.
import { describe, expect, it } from 'vitest';
import { DRIVERS, dbAvailable, outcome, sameResult, withConnectionAndPool } from './helpers.js';

/** Each call, by a label: the SQL argument and the values. */
const CALLS: [label: string, sql: () => unknown, values?: unknown][] = [
  ['an array', () => ['SELECT 1']],
  ['an array, with values', () => ['SELECT ?'], [1]],
  ['a Buffer', () => Buffer.from('SELECT 1')],
  ['a Uint8Array', () => new Uint8Array([83])],
  ['a Map', () => new Map([['sql', 'SELECT 1']])],
  ['a Set', () => new Set(['SELECT 1'])],
  ['options whose values are a string', () => ({ sql: 'SELECT ?', values: 'x' })],
];

/**
 * Calls with something that cannot go to the worker: values, or a typeCast. Without named
 * placeholders mysql2 refuses the values before anything else, and so does the drop-in, before
 * it finds what cannot go. (With them, mysql2 goes on, and the drop-in rejects with its own
 * errors: UNBLOCK_ERR_DATA_CLONE, or the TypeError for a typeCast it cannot send.)
 */
const UNSENDABLE: typeof CALLS = [
  ['options whose values are a function', () => ({ sql: 'SELECT ?', values: () => 1 })],
  ['options whose values are a URL', () => ({ sql: 'SELECT ?', values: new URL('http://x') })],
  [
    'options with a bound typeCast, whose values are a string',
    () => ({ sql: 'SELECT ?', values: 'x', typeCast: Math.max.bind(null) }),
  ],
];

/** A connection or a pool. */
interface Target {
  execute(sql: never, values?: never): Promise<[unknown, unknown]>;
  query(sql: string): Promise<unknown>;
}

/** What execute() did with one call (its rows, when it resolved), and whether the connection answered after it. */
async function executeOne(target: Target, [label, sql, values]: (typeof CALLS)[number]) {
  const done = await outcome(() =>
    (values === undefined
      ? target.execute(sql() as never)
      : target.execute(sql() as never, values as never)
    ).then(([rows]) => rows),
  );
  const alive = await outcome(() => target.query('SELECT 1 AS alive').then(() => 'alive'));
  return [label, done, alive];
}

async function executeEach(target: Target): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const call of [...CALLS, ...UNSENDABLE]) out.push(await executeOne(target, call));
  return out;
}

describe.skipIf(!dbAvailable)('execute() with an object in place of the SQL, as mysql2', () => {
  it("without named placeholders: mysql2's TypeError, and the connection stays usable", async () => {
    const out = await sameResult(DRIVERS, (driver) =>
      withConnectionAndPool(driver, {}, async (conn, pool) => [
        await executeEach(conn),
        await executeEach(pool),
      ]),
    );
    expect(out[0][0]).toEqual([
      'an array',
      [
        'rejected',
        expect.objectContaining({
          class: 'TypeError',
          message: 'Bind parameters must be array if namedPlaceholders parameter is not enabled',
        }),
      ],
      ['resolved', 'alive'],
    ]);
  });

  it('with named placeholders (connection or per call): what mysql2 does', async () => {
    // mysql2 then converts the values instead of refusing them; for an array in place of the SQL
    // it goes on to fail writing a statement without SQL, which closes the connection: one call
    // per new connection.
    const out = await sameResult(DRIVERS, async (driver) => {
      const results: unknown[] = [];
      for (const call of CALLS) {
        results.push(
          await withConnectionAndPool(driver, { namedPlaceholders: true }, async (conn, pool) => [
            await executeOne(conn, call),
            await executeOne(pool, call),
          ]),
        );
      }
      // An options object's own namedPlaceholders wins over the connection's.
      results.push(
        await withConnectionAndPool(driver, {}, (conn) =>
          outcome(() =>
            conn.execute({ sql: 'SELECT :v AS v', values: { v: 1 }, namedPlaceholders: true }),
          ).then((done) => (done as unknown[])[0]),
        ),
      );
      return results;
    });
    expect(out.at(-1)).toBe('resolved');
  });
});
