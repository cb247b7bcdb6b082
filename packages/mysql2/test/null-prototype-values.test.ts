// Null-prototype objects (`Object.create(null)`) among the values: mysql2's query() formatting
// throws for one it makes a string of ('Cannot convert object to primitive value'), and its
// execute() refuses to bind one at the top level (Node's ERR_INVALID_ARG_TYPE); where they sit
// deeper, both go on. They reach the worker without a prototype (core keeps that), and mysql2
// decides there. Each case runs on mysql2/promise and on the drop-in.
import { describe, it } from 'vitest';
import { DB, DRIVERS, dbAvailable, outcome, sameResult, withConnectionAndPool } from './helpers.js';

function bare(props: Record<string, unknown> = { a: 1 }): Record<string, unknown> {
  return Object.assign(Object.create(null) as Record<string, unknown>, props);
}

interface Runner {
  query(sql: unknown, values?: unknown): Promise<[unknown, unknown]>;
  execute(sql: unknown, values?: unknown): Promise<[unknown, unknown]>;
}

/** [label, method, sql, values] */
const CASES: [string, 'query' | 'execute', unknown, () => unknown][] = [
  ['query: one as a value', 'query', 'SELECT ? AS v', () => [bare()]],
  ['query: one as the values', 'query', 'SELECT ? AS v', () => bare()],
  ['query: one in a list', 'query', 'SELECT ? AS v', () => [[bare()]]],
  ['query: one in a Set', 'query', 'SELECT ? AS v', () => [new Set([bare()])]],
  ['query: one in a plain object', 'query', 'SELECT ? AS v', () => [{ x: bare() }]],
  [
    'query: one holding a toSqlString() value',
    'query',
    'SELECT ? AS v',
    () => [bare({ a: { toSqlString: () => '1' } })],
  ],
  [
    'query: SET ? of one holding a toSqlString() value',
    'query',
    'SELECT 1 FROM DUAL WHERE ? IS NOT NULL',
    () => bare({ a: { toSqlString: () => '1' } }),
  ],
  [
    'query: in an options object',
    'query',
    { sql: 'SELECT ? AS v', values: [bare()] },
    () => undefined,
  ],
  [
    'query: named placeholders',
    'query',
    { sql: 'SELECT :a AS v', namedPlaceholders: true },
    () => bare(),
  ],
  ['execute: one as a value', 'execute', 'SELECT ? AS v', () => [bare()]],
  ['execute: one in a list', 'execute', 'SELECT ? AS v', () => [[bare()]]],
  ['execute: one in a plain object', 'execute', 'SELECT ? AS v', () => [{ x: bare() }]],
  [
    'execute: named placeholders',
    'execute',
    { sql: 'SELECT :a AS v', namedPlaceholders: true },
    () => bare(),
  ],
];

async function run(on: Runner, [, method, sql, values]: (typeof CASES)[number]): Promise<unknown> {
  const args = values();
  return outcome(() =>
    (args === undefined ? on[method](sql) : on[method](sql, args)).then(([rows]) => rows),
  );
}

describe.skipIf(!dbAvailable)("null-prototype objects as values, as mysql2's", () => {
  it.each(CASES)('%s: on a connection and a pool', async (...testCase) => {
    await sameResult(DRIVERS, (driver) =>
      withConnectionAndPool(driver, {}, async (conn, pool) => {
        const out = [
          await run(conn as unknown as Runner, testCase),
          await run(pool as unknown as Runner, testCase),
        ];
        // The connection is still usable.
        out.push(await outcome(() => conn.query('SELECT 1 AS alive').then(([rows]) => rows)));
        return out;
      }),
    );
  });

  it('a prepared statement refuses one as a value', async () => {
    await sameResult(DRIVERS, async (driver) => {
      const conn = await driver.createConnection(DB);
      try {
        const stmt = await conn.prepare('SELECT ? AS v');
        const out = [
          await outcome(() => stmt.execute([bare()]).then(([rows]) => rows)),
          await outcome(() => stmt.execute([[bare()]]).then(([rows]) => rows)),
        ];
        await stmt.close();
        return out;
      } finally {
        await conn.end();
      }
    });
  });
});
