// Gaps a differential probe against mysql2/promise found, each run on both drivers: the drop-in
// must give what mysql2/promise gives.
import rawMysql from 'mysql2/promise';
import mysql from '@unblock/mysql2';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  DB,
  DRIVERS,
  type Driver,
  dbAvailable,
  expectSameRows,
  outcome,
  resultView,
  sameResult,
  settle,
  withConnectionAndPool,
} from './helpers.js';

const T = `ub_fidelity_${process.pid}`;
const PROC = `ub_fidelity_p_${process.pid}`;
/** Past one chunk of rows, so the worker streams the result (and reads its rest by column). */
const MANY = 3500;

interface Queryable {
  query(sql: string, values?: unknown): Promise<[unknown, unknown]>;
  execute(sql: string, values?: unknown): Promise<[unknown, unknown]>;
}

describe.skipIf(!dbAvailable)('fidelity fixes: mysql2/promise vs @unblock/mysql2', () => {
  beforeAll(async () => {
    const c = await rawMysql.createConnection(DB);
    await c.query(`DROP TABLE IF EXISTS ${T}`);
    await c.query(`CREATE TABLE ${T} (n INT PRIMARY KEY, v VARCHAR(20), a VARCHAR(20))`);
    await c.query(`INSERT INTO ${T} (n, v) SELECT seq, CONCAT('v', seq) FROM seq_1_to_${MANY}`);
    await c.query(`DROP PROCEDURE IF EXISTS ${PROC}`);
    await c.query(
      `CREATE PROCEDURE ${PROC}() BEGIN SELECT 1 AS a; SELECT n, v FROM ${T} ORDER BY n LIMIT 2; END`,
    );
    await c.end();
  });

  afterAll(async () => {
    const c = await rawMysql.createConnection(DB);
    await c.query(`DROP TABLE IF EXISTS ${T}`);
    await c.query(`DROP PROCEDURE IF EXISTS ${PROC}`);
    await c.end();
  });

  describe.each([
    ['true', true],
    ["'_'", '_'],
    ["''", ''],
  ] as const)('nestTables: %s in the connection or pool options', (_, nestTables) => {
    /** The statements the probe found broken, on one connection-like object. */
    async function statements(c: Queryable): Promise<unknown[]> {
      return [
        resultView(await c.query('SELECT 1 AS a')),
        resultView(
          await c.query(`SELECT ? AS x, t.n, t.v FROM ${T} t WHERE t.n <= ? ORDER BY t.n`, [7, 2]),
        ),
        resultView(await c.query(`CALL ${PROC}()`)),
        resultView(await c.query(`SELECT n, v FROM ${T} ORDER BY n`)),
        // Unaffected before the fix; checked so the fix leaves them alone.
        resultView(await c.execute(`SELECT n, v FROM ${T} WHERE n <= ? ORDER BY n`, [2])),
      ];
    }

    it('createConnection(): string queries, with values, CALL and a large result', async () => {
      const out = (await sameResult(DRIVERS, async (driver) => {
        const conn = await driver.createConnection({ ...DB, nestTables });
        try {
          return await statements(conn as unknown as Queryable);
        } finally {
          await conn.end();
        }
      })) as [unknown[], unknown][];
      expect((out[3][0] as unknown[]).length).toBe(MANY);
    });

    it('multipleStatements', async () => {
      await sameResult(DRIVERS, async (driver) => {
        const conn = await driver.createConnection({ ...DB, nestTables, multipleStatements: true });
        try {
          return resultView(
            (await conn.query(`SELECT 1 AS a; SELECT n, v FROM ${T} ORDER BY n LIMIT 2`)) as never,
          );
        } finally {
          await conn.end();
        }
      });
    });

    it('pool.query() and a PoolConnection', async () => {
      await sameResult(DRIVERS, async (driver) => {
        const pool = driver.createPool({ ...DB, nestTables, connectionLimit: 1 });
        try {
          const viaPool = await statements(pool as unknown as Queryable);
          const conn = await pool.getConnection();
          try {
            return [viaPool, await statements(conn as unknown as Queryable)];
          } finally {
            conn.release();
          }
        } finally {
          await pool.end();
        }
      });
    });

    it('iterate() gives the rows mysql2 gives the same query', async () => {
      const sql = `SELECT n, v FROM ${T} WHERE n <= ? ORDER BY n`;
      const raw = await rawMysql.createConnection({ ...DB, nestTables });
      const [expected] = await raw.query(sql, [600]);
      await raw.end();
      await using conn = await mysql.createConnection({ ...DB, nestTables });
      const rows: unknown[] = [];
      for await (const row of conn.iterate(sql, [600], { batchSize: 100 })) rows.push(row);
      expectSameRows(rows, expected);
      await using pool = mysql.createPool({ ...DB, nestTables, connectionLimit: 1 });
      const pooled: unknown[] = [];
      for await (const row of pool.iterate(sql, [600])) pooled.push(row);
      expectSameRows(pooled, expected);
    });
  });

  describe('raw() and toSqlString() values nested in objects and arrays', () => {
    const sqlObject = (sql: string): { toSqlString(): string } => ({ toSqlString: () => sql });

    it("INSERT ... SET ? with a raw() member: [{ a: mysql.raw(...), n }], as the probe's repro", async () => {
      await sameResult(DRIVERS, async (driver) => {
        const conn = await driver.createConnection(DB);
        try {
          const id = 100_001;
          await conn.query(`INSERT INTO ${T} SET ?`, [
            { a: driver.raw("CONCAT('r','aw')"), n: id, v: sqlObject("'obj'") },
          ]);
          const [rows] = await conn.query(`SELECT n, v, a FROM ${T} WHERE n = ?`, [id]);
          await conn.query(`DELETE FROM ${T} WHERE n = ?`, [id]);
          return rows;
        } finally {
          await conn.end();
        }
      });
    });

    it('arrays in objects, objects in arrays, named placeholders and options objects', async () => {
      await sameResult(DRIVERS, async (driver) => {
        const conn = await driver.createConnection(DB);
        const named = await driver.createConnection({ ...DB, namedPlaceholders: true });
        try {
          const id = 100_002;
          const out: unknown[] = [];
          // An array in a SET object: mysql2 writes its list.
          await conn.query(`INSERT INTO ${T} SET ?`, [{ n: id, a: [driver.raw("'in list'")] }]);
          // An object in an array, or in an object not in a SET: mysql2 stringifies it.
          out.push(resultView(await conn.query('SELECT ? AS x', [[{ a: driver.raw('1') }]])));
          out.push(
            resultView(await conn.query('SELECT ? AS x', [{ a: [driver.raw('1 + 1'), 5] }])),
          );
          // A raw() in a list in a list.
          out.push(
            resultView(
              await conn.query('SELECT 1 FROM DUAL WHERE (1, 2) IN (?)', [[[driver.raw('1'), 2]]]),
            ),
          );
          // The values of an options object.
          out.push(
            resultView(
              await conn.query({
                sql: `UPDATE ${T} SET ? WHERE n = ?`,
                values: [{ v: driver.raw("UPPER('opts')") }, id],
              }),
            ),
          );
          // A named placeholder's object.
          out.push(
            resultView(
              (await named.query(`UPDATE ${T} SET :row WHERE n = :n`, {
                row: { a: sqlObject("CONCAT('na', 'med')") },
                n: id,
              })) as never,
            ),
          );
          out.push(resultView(await conn.query(`SELECT n, v, a FROM ${T} WHERE n = ?`, [id])));
          await conn.query(`DELETE FROM ${T} WHERE n = ?`, [id]);
          return out;
        } finally {
          await conn.end();
          await named.end();
        }
      });
    });
  });

  describe('pool.query() and pool.execute() destroy a connection after a read-only error', () => {
    /** errno of the failed INSERT, and whether the next statement ran on the same connection. */
    async function afterFailure(
      driver: Driver,
      kind: 'query' | 'execute',
      setup: string,
      failing: string,
    ): Promise<[unknown, string]> {
      const pool = driver.createPool({ ...DB, connectionLimit: 1 });
      const run = (sql: string): Promise<[unknown, unknown]> =>
        (pool as unknown as Queryable)[kind](sql);
      const connectionId = async (): Promise<number> =>
        ((await run('SELECT CONNECTION_ID() AS id'))[0] as { id: number }[])[0].id;
      try {
        const before = await connectionId();
        await pool.query(setup);
        const failed = await settle(run(failing));
        const after = await connectionId();
        return [
          failed.ok ? 'resolved' : (failed.error as { errno?: unknown }).errno,
          after === before ? 'same connection' : 'new connection',
        ];
      } finally {
        await pool.end();
      }
    }

    it.each(['query', 'execute'] as const)(
      'pool.%s(): ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION (1792) drops the connection, another error keeps it',
      async (kind) => {
        const outcomes = await sameResult(DRIVERS, async (driver) => [
          await afterFailure(
            driver,
            kind,
            'START TRANSACTION READ ONLY',
            `INSERT INTO ${T} (n) VALUES (200001)`,
          ),
          await afterFailure(driver, kind, 'DO 1', `INSERT INTO ${T} (n) VALUES (1)`),
        ]);
        expect(outcomes).toEqual([
          [1792, 'new connection'],
          [1062, 'same connection'],
        ]);
      },
    );
  });

  it('cluster.of(...).query(sql, callback) and .execute(sql, callback) throw at once', async () => {
    const outcomes = await sameResult(DRIVERS, async (driver) => {
      const cluster = driver.createPoolCluster();
      cluster.add('A', DB);
      const namespace = cluster.of('A') as unknown as Record<
        'query' | 'execute',
        (sql: string, values: unknown) => Promise<unknown>
      >;
      const said: unknown[] = [];
      for (const method of ['query', 'execute'] as const) {
        try {
          const returned = namespace[method]('SELECT 1', () => undefined);
          returned.catch(() => undefined);
          said.push('returned a promise');
        } catch (err) {
          said.push((err as Error).message);
        }
      }
      await cluster.end();
      return said;
    });
    expect(outcomes).toEqual([
      'Callback function is not available with promise clients.',
      'Callback function is not available with promise clients.',
    ]);
  });

  it("conn.end() resolves mysql2's closed-state error once the connection is closed (killed by the server, ended, destroyed)", async () => {
    const killer = await rawMysql.createConnection(DB);
    const outcomes = await sameResult(DRIVERS, async (driver) => {
      const killed = await driver.createConnection(DB);
      const gone = new Promise((resolve) => killed.once('end', resolve));
      killed.on('error', () => undefined);
      await killer.query(`KILL ${killed.threadId}`);
      await gone;
      const ended = await driver.createConnection(DB);
      const destroyed = await driver.createConnection(DB);
      destroyed.destroy();
      return [
        await outcome(() => killed.end()),
        await outcome(() => ended.end()),
        await outcome(() => ended.end()),
        await outcome(() => destroyed.end()),
      ];
    }).finally(() => killer.end());
    const closedState = [
      'resolved',
      expect.objectContaining({
        message: "Can't add new command when connection is in closed state",
        fatal: true,
      }),
    ];
    expect(outcomes).toEqual([closedState, ['resolved', undefined], closedState, closedState]);
  });

  it("PoolConnection.end() without gracefulEnd emits no 'warn' event (mysql2/promise does not re-emit it)", async () => {
    const quiet = vi.spyOn(console, 'warn').mockImplementation(() => undefined);
    const outcomes = await sameResult(DRIVERS, async (driver) => {
      const pool = driver.createPool({ ...DB, connectionLimit: 1 });
      try {
        const conn = await pool.getConnection();
        const events: string[] = [];
        conn.on('warn' as never, () => events.push('warn'));
        const seen = [await outcome(() => conn.end()), events, quiet.mock.calls.length];
        quiet.mockClear();
        return seen;
      } finally {
        await pool.end();
      }
    }).finally(() => quiet.mockRestore());
    expect(outcomes).toEqual([['resolved', undefined], [], 1]);
  });

  it("cluster.of(pattern, 'XYZ') throws mysql2's TypeError at once; cluster.getConnection() rejects with it", async () => {
    const outcomes = await sameResult(DRIVERS, async (driver) => {
      const cluster = driver.createPoolCluster();
      cluster.add('A', DB);
      try {
        return [
          await outcome(() => cluster.of('*', 'XYZ' as never)),
          await outcome(() =>
            cluster.getConnection('*', 'XYZ' as never).then((conn) => {
              conn.release();
              return 'a connection';
            }),
          ),
          // A known selector in lower case still works.
          await outcome(() =>
            cluster
              .of('*', 'order' as never)
              .query('SELECT 1 AS x')
              .then(([rows]) => rows),
          ),
        ];
      } finally {
        await cluster.end();
      }
    });
    const selectorError = {
      class: 'TypeError',
      message: 'makeSelector[selector] is not a function',
    };
    expect(outcomes).toMatchObject([
      ['threw', selectorError],
      ['rejected', selectorError],
      ['resolved', [{ x: 1 }]],
    ]);
  });

  it('execute() with a class instance having toSqlString() rejects with ERR_INVALID_ARG_TYPE', async () => {
    class Money {
      constructor(readonly cents: number) {}
      toSqlString(): string {
        return String(this.cents / 100);
      }
    }
    const outcomes = await sameResult(DRIVERS, async (driver) => {
      const conn = await driver.createConnection(DB);
      const pool = driver.createPool({ ...DB, connectionLimit: 1 });
      try {
        const stmt = await conn.prepare('SELECT ? AS x');
        const seen = [
          // A value the typings refuse, as a JavaScript caller may pass it.
          await outcome(() => conn.execute('SELECT ? AS x', [new Money(150)] as never)),
          await outcome(() => pool.execute('SELECT ? AS x', [new Money(150)] as never)),
          await outcome(() => stmt.execute([new Money(150)])),
          // Unchanged: a plain object's toSqlString() is JSON-encoded, and query() formats it.
          await outcome(() =>
            conn.execute('SELECT ? AS x', [{ toSqlString: () => '1' }] as never).then(([r]) => r),
          ),
          await outcome(() => conn.query('SELECT ? AS x', [new Money(150)]).then(([r]) => r)),
          // The connection is still usable.
          await outcome(() => conn.execute('SELECT ? AS x', [1]).then(([r]) => r)),
        ];
        await stmt.close();
        return seen;
      } finally {
        await conn.end();
        await pool.end();
      }
    });
    expect(outcomes).toMatchObject([
      ['rejected', { class: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }],
      ['rejected', { class: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }],
      ['rejected', { class: 'TypeError', code: 'ERR_INVALID_ARG_TYPE' }],
      ['resolved', [{ x: '{}' }]],
      ['resolved', [{ x: '1.5' }]],
      ['resolved', [{ x: 1 }]],
    ]);
  });

  it("execute() checks values in mysql2's order, and binds an options object's own values over the second argument", async () => {
    const fn = (): number => 1;
    const outcomes = await sameResult(DRIVERS, async (driver) => {
      const conn = await driver.createConnection(DB);
      const pool = driver.createPool({ ...DB, connectionLimit: 1 });
      try {
        const rows = ([r]: [unknown, unknown]): unknown => r;
        return [
          // Each value in turn: undefined first here, a function first there.
          await outcome(() => conn.execute('SELECT ? AS a, ? AS b', [undefined, fn] as never)),
          await outcome(() => conn.execute('SELECT ? AS a, ? AS b', [fn, undefined] as never)),
          await outcome(() => pool.execute('SELECT ? AS a, ? AS b', [undefined, fn] as never)),
          // An options object's values win: the second argument is not even looked at.
          await outcome(() =>
            conn.execute({ sql: 'SELECT ? AS x', values: [1] }, [fn] as never).then(rows),
          ),
          await outcome(() => conn.execute({ sql: 'SELECT ? AS x', values: [1] }, [2]).then(rows)),
          await outcome(() => pool.execute({ sql: 'SELECT ? AS x', values: [1] }, [2]).then(rows)),
          // Without any of its own, the second argument is bound (and query() prefers it).
          await outcome(() => conn.execute({ sql: 'SELECT ? AS x' }, [2]).then(rows)),
          await outcome(() => conn.query({ sql: 'SELECT ? AS x', values: [1] }, [2]).then(rows)),
        ];
      } finally {
        await conn.end();
        await pool.end();
      }
    });
    expect(outcomes).toMatchObject([
      [
        'rejected',
        {
          class: 'TypeError',
          message: expect.stringMatching(/^Bind parameters must not contain undefined/),
        },
      ],
      [
        'rejected',
        {
          class: 'TypeError',
          message: expect.stringMatching(/^Bind parameters must not contain function/),
        },
      ],
      [
        'rejected',
        {
          class: 'TypeError',
          message: expect.stringMatching(/^Bind parameters must not contain undefined/),
        },
      ],
      ['resolved', [{ x: 1 }]],
      ['resolved', [{ x: 1 }]],
      ['resolved', [{ x: 1 }]],
      ['resolved', [{ x: 2 }]],
      ['resolved', [{ x: 2 }]],
    ]);
  });

  it("query(undefined) and query(null) reject with mysql2's TypeError (and execute(null), pool.query(null))", async () => {
    const outcomes = await sameResult(DRIVERS, async (driver) => {
      const conn = await driver.createConnection(DB);
      const pool = driver.createPool({ ...DB, connectionLimit: 2 });
      const pooled = await pool.getConnection();
      try {
        const missing = [undefined, null] as unknown as string[];
        return await Promise.all([
          ...missing.map((sql) => outcome(() => conn.query(sql))),
          ...missing.map((sql) => outcome(() => pooled.query(sql))),
          outcome(() => conn.execute(null as never)),
          ...missing.map((sql) => outcome(() => pool.query(sql))),
          outcome(() => pool.execute(null as never)),
        ]);
      } finally {
        pooled.release();
        await conn.end();
        await pool.end();
      }
    });
    const typeError = (message: string): unknown => ['rejected', { class: 'TypeError', message }];
    expect(outcomes).toMatchObject([
      typeError("Cannot read properties of undefined (reading 'constructor')"),
      typeError("Cannot read properties of null (reading 'constructor')"),
      typeError("Cannot read properties of undefined (reading 'constructor')"),
      typeError("Cannot read properties of null (reading 'constructor')"),
      typeError("Cannot read properties of null (reading 'sql')"),
      typeError("Cannot read properties of undefined (reading 'length')"),
      typeError("Cannot read properties of null (reading 'sql')"),
      typeError("Cannot read properties of null (reading 'sql')"),
    ]);
  });

  it('beginTransaction(), commit() and rollback() resolve [ResultSetHeader, undefined]', async () => {
    // mysql2's typings say void, but mysql2/promise resolves the OK packet of the statement it
    // sends (START TRANSACTION, COMMIT, ROLLBACK), whose serverStatus tells whether a
    // transaction is open.
    const results = await sameResult(DRIVERS, (driver) =>
      withConnectionAndPool(driver, {}, async (conn, pool) => {
        const pooled = await pool.getConnection();
        try {
          const out: unknown[] = [];
          for (const c of [conn, pooled]) {
            out.push(await c.commit());
            out.push(await c.beginTransaction());
            out.push(await c.rollback());
            out.push(await c.beginTransaction());
            out.push(await c.commit());
          }
          return out;
        } finally {
          pooled.release();
        }
      }),
    );
    expect(results).toHaveLength(10);
    for (const result of results)
      expect(result).toEqual([expect.objectContaining({ affectedRows: 0 }), undefined]);
  });

  it("a prepared statement's statement has mysql2's query, id, columns, parameters, in its order", async () => {
    const keys = await sameResult(DRIVERS, (driver) =>
      withConnectionAndPool(driver, {}, async (conn) => {
        const stmt = await conn.prepare('SELECT ? AS a');
        try {
          // mysql2's typings leave `statement` out; its object also has rowParser and
          // _connection, its internals (see docs/api.md).
          const { statement } = stmt as unknown as { statement: object };
          return Object.keys(statement).slice(0, 4);
        } finally {
          await stmt.close();
        }
      }),
    );
    expect(keys).toEqual(['query', 'id', 'columns', 'parameters']);
  });

  it("config.charsetNumber follows the character_set_client the server reports (SET NAMES), as mysql2's does", async () => {
    // mysql2 reads it from the session-state part of an OK packet (session tracking is on by
    // default); here mysql2 runs in the worker, so the caller's config must follow.
    const numbers = await sameResult(DRIVERS, (driver) =>
      withConnectionAndPool(driver, { multipleStatements: true }, async (conn, pool) => {
        const out: unknown[] = [conn.config.charsetNumber];
        await conn.query('SET NAMES latin1');
        out.push(conn.config.charsetNumber);
        await conn.query("SELECT 1; SET character_set_client = 'cp1250'; SELECT 2");
        out.push(conn.config.charsetNumber);
        // A name mysql2 has no number for (MariaDB's ujis is its eucjp) leaves the number alone.
        await conn.execute("SET character_set_client = 'ujis'");
        out.push(conn.config.charsetNumber);
        await pool.query('SET NAMES koi8r');
        const pooled = await pool.getConnection();
        out.push(pooled.config.charsetNumber);
        pooled.release();
        return out;
      }),
    );
    expect(new Set(numbers).size).toBeGreaterThan(2);
  });

  it("iterate() over a CALL yields its first result set's rows, ends, and leaves the connection usable", async () => {
    const proc = `ub_fidelity_iterate_${process.pid}`;
    const conn = await mysql.createConnection(DB);
    await conn.query(`DROP PROCEDURE IF EXISTS ${proc}`);
    await conn.query(
      `CREATE PROCEDURE ${proc}() BEGIN SELECT seq AS n FROM seq_1_to_700; SELECT 'other' AS b; END`,
    );
    try {
      const [[first]] = (await conn.query(`CALL ${proc}()`)) as unknown as [unknown[][]];
      for (const batchSize of [1000, 64]) {
        const rows: unknown[] = [];
        for await (const row of conn.iterate(`CALL ${proc}()`, [], { batchSize })) rows.push(row);
        expect(rows).toEqual(first);
      }
      const [[after]] = (await conn.query('SELECT 9 AS z')) as unknown as [unknown[]];
      expect(after).toEqual({ z: 9 });
    } finally {
      await conn.query(`DROP PROCEDURE IF EXISTS ${proc}`);
      await conn.end();
    }
  });

  it('a CALL whose first result set is past one chunk resolves every result set, as mysql2 does', async () => {
    // The worker streams a large first result set before its end; a CALL's later result sets
    // (announced only by a flag in the EOF packets) must not be lost to that.
    const proc = `ub_fidelity_many_${process.pid}`;
    // Several chunks of two columns (core's chunkRowCount: 4096 rows), over several socket reads.
    const total = 20_000;
    const setup = await rawMysql.createConnection(DB);
    await setup.query(`DROP PROCEDURE IF EXISTS ${proc}`);
    await setup.query(
      `CREATE PROCEDURE ${proc}(IN k INT) BEGIN SELECT seq AS n, CONCAT('v', seq) AS v FROM seq_1_to_${total} WHERE seq <= k; SELECT 2 AS b; END`,
    );
    try {
      const results = await sameResult(DRIVERS, (driver) =>
        withConnectionAndPool(driver, {}, async (conn, pool) => [
          resultView(await conn.query(`CALL ${proc}(${total})`)),
          resultView(await conn.execute(`CALL ${proc}(?)`, [total])),
          resultView(await pool.query(`CALL ${proc}(${total})`)),
          resultView(await pool.execute(`CALL ${proc}(?)`, [total])),
        ]),
      );
      for (const [rows] of results) {
        expect(rows).toHaveLength(3);
        expect((rows as unknown[][])[0]).toHaveLength(total);
      }
    } finally {
      await setup.query(`DROP PROCEDURE IF EXISTS ${proc}`);
      await setup.end();
    }
  });
});
