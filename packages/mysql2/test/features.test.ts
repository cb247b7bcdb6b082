import rawMysql from 'mysql2/promise';
import mysql, { createClient } from '@unblock/mysql2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB, dbAvailable, expectSameRows } from './helpers.js';

const T = `ub_feat_${process.pid}`;
const ROWS = 5000;

describe.skipIf(!dbAvailable)('iterate, changeUser, typeCast, createClient', () => {
  beforeAll(async () => {
    const c = await rawMysql.createConnection(DB);
    await c.query(
      `CREATE TABLE IF NOT EXISTS ${T} (id INT PRIMARY KEY, name VARCHAR(40), b VARBINARY(4)) ENGINE=InnoDB`,
    );
    await c.query(`DELETE FROM ${T}`);
    await c.query(
      `INSERT INTO ${T} SELECT seq, CONCAT('name ', seq), x'0a0b' FROM seq_1_to_${ROWS}`,
    );
    await c.end();
  });
  afterAll(async () => {
    const c = await rawMysql.createConnection(DB);
    await c.query(`DROP TABLE IF EXISTS ${T}`);
    await c.end();
  });

  it('iterate() streams every row in mysql2 shapes, on a connection and a pool', async () => {
    const raw = await rawMysql.createConnection(DB);
    const [expected] = await raw.query(`SELECT * FROM ${T} ORDER BY id`);
    await raw.end();
    await using conn = await mysql.createConnection(DB);
    const got: unknown[] = [];
    for await (const row of conn.iterate(`SELECT * FROM ${T} ORDER BY id`, [], { batchSize: 100 }))
      got.push(row);
    expectSameRows(got, expected);
    // Breaking early leaves the connection usable.
    let n = 0;
    for await (const _row of conn.iterate(`SELECT * FROM ${T} ORDER BY id`, [], { batchSize: 50 }))
      if (++n === 10) break;
    expect(await conn.ping()).toBe(true);
    const pool = mysql.createPool({ ...DB, connectionLimit: 1 });
    let count = 0;
    for await (const row of pool.iterate<number[]>(
      { sql: `SELECT id FROM ${T} WHERE id <= ?`, rowsAsArray: true },
      [300],
    )) {
      expect(Array.isArray(row)).toBe(true);
      count++;
    }
    expect(count).toBe(300);
    const [[one]] = (await pool.query('SELECT 1 AS x')) as [{ x: number }[], unknown];
    expect(one.x).toBe(1); // the connection came back
    await pool.end();
  });

  it('changeUser() switches database and updates config', async () => {
    const conn = await mysql.createConnection(DB);
    await conn.changeUser({ user: 'root', database: 'information_schema' });
    const [[row]] = (await conn.query('SELECT DATABASE() AS db')) as [{ db: string }[], unknown];
    expect(row.db).toBe('information_schema');
    expect(conn.config.database).toBe('information_schema');
    await conn.end();
  });

  it('a self-contained typeCast function runs in the worker as in mysql2', async () => {
    const typeCast = (
      field: { type: string; string(): string | null },
      next: () => unknown,
    ): unknown => (field.type === 'VAR_STRING' ? (field.string() ?? '').toUpperCase() : next());
    const raw = await rawMysql.createConnection({ ...DB, typeCast: typeCast as never });
    const ours = await mysql.createConnection({ ...DB, typeCast: typeCast as never });
    const sql = `SELECT id, name FROM ${T} WHERE id <= 3 ORDER BY id`;
    const [a] = await raw.query(sql);
    const [b] = await ours.query(sql);
    expectSameRows(b, a);
    expect((b as { name: string }[])[0].name).toBe('NAME 1');
    await raw.end();
    await ours.end();
  });

  it('createClient(): query, iterate, transaction (calls inside run on the tx connection)', async () => {
    await using client = createClient({ ...DB, connectionLimit: 2 });
    expect(client.dialect).toBe('mysql');
    const r = await client.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${T}`);
    expect(r).toMatchObject({ rows: [{ n: ROWS }], rowCount: 1, changes: 0, columns: ['n'] });
    const ins = await client.query(`INSERT INTO ${T} VALUES (?, ?, NULL)`, [ROWS + 1, 'extra']);
    expect(ins.changes).toBe(1);
    await expect(
      client.transaction(async () => {
        await client.query(`DELETE FROM ${T} WHERE id = ?`, [ROWS + 1]);
        const inside = await client.query<{ n: number }>(
          `SELECT COUNT(*) AS n FROM ${T} WHERE id = ?`,
          [ROWS + 1],
        );
        expect(inside.rows[0].n).toBe(0);
        throw new Error('roll back');
      }),
    ).rejects.toThrow('roll back');
    const after = await client.query<{ n: number }>(`SELECT COUNT(*) AS n FROM ${T} WHERE id = ?`, [
      ROWS + 1,
    ]);
    expect(after.rows[0].n).toBe(1);
    let seen = 0;
    for await (const _row of client.iterate(`SELECT id FROM ${T}`, [], { batchSize: 500 })) seen++;
    expect(seen).toBe(ROWS + 1);
    expect(client.stats().completed).toBeGreaterThan(0);
  });
});
