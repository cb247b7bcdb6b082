// A value that cannot cross to the worker (a function) is refused on the calling thread with
// core's DataCloneError: nothing reaches the server, and the connection stays usable.
import rawMysql from 'mysql2/promise';
import mysql from '@unblock/mysql2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB, dbAvailable, countsOf } from './helpers.js';

const T = `ub_clone_${process.pid}`;

async function rowCount(): Promise<number> {
  const c = await rawMysql.createConnection(DB);
  const [rows] = await c.query(`SELECT COUNT(*) AS n FROM ${T}`);
  await c.end();
  return (rows as { n: number }[])[0].n;
}

describe.skipIf(!dbAvailable)('UNBLOCK_ERR_DATA_CLONE', () => {
  beforeAll(async () => {
    const c = await rawMysql.createConnection(DB);
    await c.query(`CREATE TABLE IF NOT EXISTS ${T} (id INT, v VARCHAR(200))`);
    await c.query(`DELETE FROM ${T}`);
    await c.query(`INSERT INTO ${T} VALUES (1, 'one')`);
    await c.end();
  });
  afterAll(async () => {
    const c = await rawMysql.createConnection(DB);
    await c.query(`DROP TABLE IF EXISTS ${T}`);
    await c.end();
  });

  it('conn.query with a function value rejects before the server sees it; the connection still works', async () => {
    await using conn = await mysql.createConnection(DB);
    const insert = `INSERT INTO ${T} VALUES (2, ?)`;
    await expect(conn.query(insert, [() => 1])).rejects.toMatchObject({
      code: 'UNBLOCK_ERR_DATA_CLONE',
    });
    await expect(conn.query({ sql: insert, values: [() => 1] })).rejects.toMatchObject({
      code: 'UNBLOCK_ERR_DATA_CLONE',
    });
    expect(await rowCount()).toBe(1);
    const [header] = await conn.query(insert, ['two']);
    expect(header).toMatchObject({ affectedRows: 1 });
    expect(await rowCount()).toBe(2);
    await conn.query(`DELETE FROM ${T} WHERE id = 2`);
  });

  it('pool.query with a function value rejects the same way and the connection goes back', async () => {
    await using pool = mysql.createPool({ ...DB, connectionLimit: 1 });
    const insert = `INSERT INTO ${T} VALUES (3, ?)`;
    await expect(pool.query(insert, [() => 1])).rejects.toMatchObject({
      code: 'UNBLOCK_ERR_DATA_CLONE',
    });
    expect(await rowCount()).toBe(1);
    expect(countsOf(pool)).toMatchObject({ free: countsOf(pool).all, queued: 0 });
    const [header] = await pool.query(insert, ['three']);
    expect(header).toMatchObject({ affectedRows: 1 });
    expect(await rowCount()).toBe(2);
    await pool.query(`DELETE FROM ${T} WHERE id = 3`);
  });
});
