// `nestTables` values other than `true` and strings: mysql2's generated row parsers nest only for
// `nestTables === true` (and prefix for a string), so a truthy number or object gives flat rows;
// with `disableEval`, its static parsers let `rowsAsArray` win, and the text one nests for any
// truthy value. Each case runs on mysql2/promise and on the drop-in.
//
// mysql2 caches a compiled parser under `Boolean(nestTables)` (with the column names): a parser
// made for `nestTables: true` would be reused for `nestTables: 1` on the same columns. No
// statement here uses `true` with the columns of a truthy non-true case, so each side compiles
// its parser from the option it is given.
import { describe, it } from 'vitest';
import { DB, DRIVERS, dbAvailable, sameResult, withConnectionAndPool } from './helpers.js';

interface Queryable {
  query(options: object): Promise<[unknown, unknown]>;
  execute(options: object): Promise<[unknown, unknown]>;
}

/**
 * Statements over a derived table `t`, each with a column name that no other case uses; both
 * sides of a case get the same names, in order.
 */
function statements(caseName: string): () => string {
  let n = 0;
  return () => {
    n++;
    return `SELECT t.${caseName}_${n} FROM (SELECT 1 AS ${caseName}_${n}) t`;
  };
}

/** The rows of query() and execute() for the same statement and options. */
async function rowsOf(c: Queryable, sql: string, options: object): Promise<unknown[]> {
  return [(await c.query({ sql, ...options }))[0], (await c.execute({ sql, ...options }))[0]];
}

/** [label, value, a name for its columns] */
const TRUTHY: [string, unknown, string][] = [
  ['1', 1, 'one'],
  ['2n', 2n, 'bigint'],
  ['{ a: 1 }', { a: 1 }, 'object'],
  ['[]', [], 'array'],
];

describe.skipIf(!dbAvailable)("nestTables that is truthy but not true, as mysql2's", () => {
  it.each(TRUTHY)(
    'nestTables: %s in QueryOptions, on a connection and a pool',
    async (_, nestTables, name) => {
      await sameResult(DRIVERS, (driver) =>
        withConnectionAndPool(driver, {}, async (conn, pool) => {
          const next = statements(name);
          const [c, p] = [conn, pool] as unknown as Queryable[];
          return [
            await rowsOf(c, next(), { nestTables }),
            await rowsOf(c, next(), { nestTables, rowsAsArray: true }),
            await rowsOf(p, next(), { nestTables }),
          ];
        }),
      );
    },
  );

  it('nestTables: 1 in the connection and pool options', async () => {
    await sameResult(DRIVERS, (driver) =>
      withConnectionAndPool(driver, { nestTables: 1 }, async (conn, pool) => {
        const next = statements('config');
        const out: unknown[] = [];
        for (const c of [conn, pool]) {
          const sql = next();
          out.push((await c.query(sql))[0], (await c.execute(sql))[0]);
        }
        return out;
      }),
    );
  });

  it('disableEval: rowsAsArray wins, and query() nests for any truthy nestTables', async () => {
    await sameResult(DRIVERS, async (driver) => {
      const next = statements('static');
      const conn = (await driver.createConnection({
        ...DB,
        disableEval: true,
      })) as unknown as Queryable & { end(): Promise<void> };
      try {
        const out: unknown[] = [];
        for (const nestTables of [true, 1, '_', undefined]) {
          for (const rowsAsArray of [false, true]) {
            out.push(await rowsOf(conn, next(), { nestTables, rowsAsArray }));
          }
        }
        return out;
      } finally {
        await conn.end();
      }
    });
  });

  it('disableEval with nestTables: 1 in the connection options', async () => {
    await sameResult(DRIVERS, async (driver) => {
      const conn = await driver.createConnection({
        ...DB,
        disableEval: true,
        nestTables: 1 as never,
      });
      try {
        const sql = statements('static_config')();
        const [queried] = await conn.query(sql);
        const [executed] = await conn.execute(sql);
        const stmt = await conn.prepare(sql);
        const [prepared] = await stmt.execute([]);
        await stmt.close();
        return [queried, executed, prepared];
      } finally {
        await conn.end();
      }
    });
  });
});
