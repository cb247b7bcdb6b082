// `await using`: a Connection ends, a PoolConnection goes back to its pool, a Pool ends.
import mysql, { type Connection, type Pool } from '@unblock/mysql2';
import { describe, expect, it } from 'vitest';
import { DB, dbAvailable, countsOf } from './helpers.js';

async function serverHas(threadId: number): Promise<boolean> {
  await using probe = await mysql.createConnection(DB);
  const [rows] = await probe.query(
    'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID = ?',
    [threadId],
  );
  return (rows as { n: number }[])[0].n > 0;
}

describe.skipIf(!dbAvailable)('Symbol.asyncDispose', () => {
  it('await using a Connection ends it', async () => {
    let conn!: Connection;
    {
      await using c = await mysql.createConnection(DB);
      conn = c;
      expect(await serverHas(c.threadId)).toBe(true);
    }
    await expect(conn.query('SELECT 1')).rejects.toThrow(
      "Can't add new command when connection is in closed state",
    );
    // end() has resolved: the server has let the connection go.
    await expect.poll(() => serverHas(conn.threadId)).toBe(false);
  });

  it('await using a PoolConnection releases it to the pool', async () => {
    await using pool = mysql.createPool({ ...DB, connectionLimit: 1 });
    let threadId = 0;
    {
      await using conn = await pool.getConnection();
      threadId = conn.threadId;
      expect(countsOf(pool)).toEqual({ all: 1, free: 0, queued: 0 });
    }
    expect(countsOf(pool)).toEqual({ all: 1, free: 1, queued: 0 });
    // The one connection can be handed out again (it would wait forever had it not come back).
    const again = await pool.getConnection();
    expect(again.threadId).toBe(threadId);
    expect(await again.ping()).toBe(true);
    again.release();
  });

  it('await using a Pool ends it', async () => {
    let pool!: Pool;
    {
      await using p = mysql.createPool({ ...DB, connectionLimit: 1 });
      pool = p;
      await p.query('SELECT 1');
    }
    await expect(pool.query('SELECT 1')).rejects.toThrow('Pool is closed.');
    await expect(pool.getConnection()).rejects.toThrow('Pool is closed.');
  });
});
