// This package's own options (workers, leakDetectionThreshold, closeTimeout, workerNice) are a
// pool's. createConnection() has no use for them, and says so as mysql2 says it of any key a
// connection ignores: with its own console warning, printed once per key. They were dropped
// without a word, so a leakDetectionThreshold or workerNice given there seemed to be set.
import rawMysql from 'mysql2/promise';
import mysql from '@unblock/mysql2';
import { describe, expect, it } from 'vitest';
import { DB, dbAvailable, printed } from './helpers.js';

const OWN = { workers: 2, leakDetectionThreshold: 60_000, closeTimeout: 1000, workerNice: 3 };

describe.skipIf(!dbAvailable)("this package's pool options given to createConnection()", () => {
  it("print mysql2's warning for each, as mysql2/promise prints it for them", async () => {
    const connect = (driver: typeof rawMysql | typeof mysql) => () =>
      driver.createConnection({ ...DB, ...OWN } as never).then((conn) => conn.end());
    const expected = await printed(connect(rawMysql));
    expect(expected).toHaveLength(4);
    expect(expected[0]).toMatch(
      /^Ignoring invalid configuration option passed to Connection: workers\. /,
    );
    expect(await printed(connect(mysql))).toEqual(expected);
  });

  it('print it from a uri too, and once per createConnection(), not per worker', async () => {
    const uri = 'mysql://root@127.0.0.1:3306/test?workerNice=0';
    const both = async (driver: typeof rawMysql | typeof mysql) =>
      printed(async () => {
        await (await driver.createConnection(uri)).end();
        await (await driver.createConnection({ uri, closeTimeout: 10 } as never)).end();
      });
    const expected = await both(rawMysql);
    expect(expected).toHaveLength(3);
    expect(await both(mysql)).toEqual(expected);
  });

  it('are still taken without a word by createPool(), cluster.add() and createClient()', async () => {
    const out = await printed(async () => {
      const pool = mysql.createPool({ ...DB, ...OWN });
      await pool.query('SELECT 1');
      await pool.end();
      const cluster = mysql.createPoolCluster();
      cluster.add('node', { ...DB, ...OWN });
      await cluster.of('node').query('SELECT 1');
      await cluster.end();
      const client = mysql.createClient({ ...DB, ...OWN });
      await client.query('SELECT 1');
      await client.close();
    });
    expect(out).toEqual([]);
  });

  it("change nothing else: the connection works, and its config is mysql2's", async () => {
    let conn: Awaited<ReturnType<typeof mysql.createConnection>> | undefined;
    await printed(async () => {
      conn = await mysql.createConnection({ ...DB, workers: 1 } as never);
    });
    try {
      const [rows] = await conn!.query('SELECT 1 AS x');
      expect(rows).toEqual([{ x: 1 }]);
      expect(conn!.config).not.toHaveProperty('workers');
    } finally {
      await conn!.end();
    }
  });
});
