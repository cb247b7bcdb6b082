// destroy() while a query runs and others wait behind it: mysql2 ends the socket at once, so the
// running query still gets its answer and the queued commands fail to write ('write after end')
// and never reach the server. Each case runs on mysql2/promise and on the drop-in.
import rawMysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB, DRIVERS, type DriverConnection, dbAvailable, outcome, sameResult } from './helpers.js';

const TABLE = 'unblock_destroy_queued';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** A running SLEEP and two INSERTs queued behind it, destroyed 50 ms in; what each call gave. */
async function destroyBehindSleep(
  conn: DriverConnection,
  method: 'query' | 'execute',
  who: string,
): Promise<unknown[]> {
  const run = (sql: string, values?: (string | number)[]): Promise<unknown> =>
    (method === 'query' ? conn.query(sql, values) : conn.execute(sql, values)).then(
      ([rows]) => rows,
    );
  const calls = [
    outcome(() => run('SELECT SLEEP(0.3) AS slept')),
    outcome(() => run(`INSERT INTO ${TABLE} (who) VALUES (?)`, [who])),
    outcome(() => run(`INSERT INTO ${TABLE} (who) VALUES (?)`, [who])),
  ];
  await sleep(50);
  conn.destroy();
  const settled = await Promise.all(calls);
  await sleep(100);
  const side = await rawMysql.createConnection(DB);
  try {
    const [[{ n }]] = await side.query<[{ n: number } & rawMysql.RowDataPacket]>(
      `SELECT COUNT(*) AS n FROM ${TABLE} WHERE who = ?`,
      [who],
    );
    return [...settled, `${n} rows inserted`];
  } finally {
    await side.end();
  }
}

describe.skipIf(!dbAvailable)('destroy() with commands queued behind a running one', () => {
  beforeAll(async () => {
    const conn = await rawMysql.createConnection(DB);
    await conn.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await conn.query(`CREATE TABLE ${TABLE} (id INT AUTO_INCREMENT PRIMARY KEY, who VARCHAR(16))`);
    await conn.end();
  });
  afterAll(async () => {
    const conn = await rawMysql.createConnection(DB);
    await conn.query(`DROP TABLE IF EXISTS ${TABLE}`);
    await conn.end();
  });

  for (const method of ['query', 'execute'] as const) {
    it(`${method}(): the running one answers, the queued ones fail with 'write after end' and never run`, async () => {
      let side = 0;
      const result = await sameResult(DRIVERS, async (driver) => {
        const conn = await driver.createConnection(DB);
        return destroyBehindSleep(conn, method, `${method} ${side++}`);
      });
      expect(result.at(-1)).toBe('0 rows inserted');
      expect(result[1]).toEqual([
        'rejected',
        expect.objectContaining({ code: 'ERR_STREAM_WRITE_AFTER_END', fatal: true }),
      ]);
    });
  }

  it('a PoolConnection: the same, and the pool goes on with a new connection', async () => {
    let side = 0;
    await sameResult(DRIVERS, async (driver) => {
      const pool = driver.createPool({ ...DB, connectionLimit: 1 });
      try {
        const conn = await pool.getConnection();
        const log = await destroyBehindSleep(
          conn as unknown as DriverConnection,
          'query',
          `pool ${side++}`,
        );
        const [rows] = await pool.query('SELECT 1 AS after');
        return [...log, rows];
      } finally {
        await pool.end();
      }
    });
  });
});
