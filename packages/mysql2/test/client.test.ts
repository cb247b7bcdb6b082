// createClient(): the uniform Client's own behaviour on top of the drop-in pool (close,
// maxQueue, savepoints, rollback after an abort, crash recovery).
import mysql, { createClient, type MysqlClient } from '@unblock/mysql2';
import { corePoolOf, crashWorker } from '@unblock/mysql2/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB, dbAvailable, countsOf } from './helpers.js';

const T = `client_test_${process.pid}`;

async function values(client: MysqlClient): Promise<number[]> {
  const { rows } = await client.query<{ v: number }>(`SELECT v FROM ${T} ORDER BY v`);
  return rows.map((r) => r.v);
}

describe.skipIf(!dbAvailable)('createClient()', () => {
  beforeAll(async () => {
    const pool = mysql.createPool(DB);
    await pool.query(`CREATE TABLE IF NOT EXISTS ${T} (v INT) ENGINE=InnoDB`);
    await pool.end();
  });
  afterAll(async () => {
    const pool = mysql.createPool(DB);
    await pool.query(`DROP TABLE IF EXISTS ${T}`);
    await pool.end();
  });

  async function fresh(options: Record<string, unknown> = {}): Promise<MysqlClient> {
    const client = createClient({ ...DB, connectionLimit: 2, ...options });
    await client.query(`DELETE FROM ${T}`);
    return client;
  }

  it("rejects calls after close() with core's PoolClosedError, the drop-in pool keeps mysql2's error", async () => {
    const client = await fresh();
    await client.close();
    await expect(client.query('SELECT 1')).rejects.toMatchObject({
      code: 'UNBLOCK_ERR_POOL_CLOSED',
    });
    let called = false;
    await expect(client.transaction(async () => void (called = true))).rejects.toMatchObject({
      code: 'UNBLOCK_ERR_POOL_CLOSED',
    });
    expect(called).toBe(false);
    await expect(client.iterate('SELECT 1').next()).rejects.toMatchObject({
      code: 'UNBLOCK_ERR_POOL_CLOSED',
    });
    await expect(client.pool.query('SELECT 1')).rejects.toThrow('Pool is closed.');
  });

  it('close() lets calls waiting for a connection finish', async () => {
    const client = await fresh();
    const calls = Array.from({ length: 50 }, (_, i) =>
      client.query<{ v: number }>('SELECT ? AS v', [i]),
    );
    await client.close();
    expect((await Promise.all(calls)).map((r) => Number(r.rows[0].v))).toEqual(
      Array.from({ length: 50 }, (_, i) => i),
    );
  });

  it('refuses calls past maxQueue with QueueFullError and answers the accepted ones', async () => {
    await using client = await fresh({ maxQueue: 3 });
    const done = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => client.query('SELECT ? AS v', [i])),
    );
    expect(done.map((d) => d.status)).toEqual([
      ...Array(3).fill('fulfilled'),
      ...Array(7).fill('rejected'),
    ]);
    for (const d of done.slice(3))
      expect((d as PromiseRejectedResult).reason).toMatchObject({ code: 'UNBLOCK_ERR_QUEUE_FULL' });
    expect(() => createClient({ ...DB, maxQueue: 0 })).toThrow(RangeError);
  });

  it('a nested transaction is a savepoint: its rollback undoes only its own writes', async () => {
    await using client = await fresh();
    await client.transaction(async () => {
      await client.query(`INSERT INTO ${T} VALUES (1)`);
      await expect(
        client.transaction(async () => {
          await client.query(`INSERT INTO ${T} VALUES (2)`);
          throw new Error('inner');
        }),
      ).rejects.toThrow('inner');
      await client.transaction(
        async () => void (await client.query(`INSERT INTO ${T} VALUES (3)`)),
      );
    });
    expect(await values(client)).toEqual([1, 3]);
  });

  it('rolls back a transaction whose signal aborted while its query ran, and the connection stays usable', async () => {
    await using client = await fresh({ connectionLimit: 1 });
    const ac = new AbortController();
    const tx = client.transaction(
      async () => {
        await client.query(`INSERT INTO ${T} VALUES (1)`);
        await client.query('SELECT SLEEP(20)');
      },
      { signal: ac.signal },
    );
    setTimeout(() => ac.abort(), 150);
    await expect(tx).rejects.toMatchObject({ name: 'AbortError' });
    // One connection: this runs on the very connection the transaction had.
    expect(await values(client)).toEqual([]);
    const { rows } = await client.query<{ n: number }>('SELECT @@in_transaction AS n');
    expect(Number(rows[0].n)).toBe(0);
  });

  it('a transaction whose BEGIN fails gives its connection back, out of any transaction, and fn never runs', async () => {
    await using client = await fresh({ connectionLimit: 1 });
    const ac = new AbortController();
    // Aborted as the transaction takes its connection: its BEGIN is refused.
    client.pool.once('acquire', () => ac.abort(new Error('stop')));
    let ran = false;
    const tx = client.transaction(
      async () => {
        ran = true;
        await client.query(`INSERT INTO ${T} VALUES (1)`);
      },
      { signal: ac.signal },
    );
    await expect(tx).rejects.toMatchObject({ name: 'AbortError' });
    expect(ran).toBe(false);
    // One connection: had the transaction kept it, this would wait for ever.
    const { rows } = await client.query<{ n: number }>('SELECT @@in_transaction AS n');
    expect(Number(rows[0].n)).toBe(0);
    expect(countsOf(client.pool)).toEqual({ all: 1, free: 1, queued: 0 });
  });

  it('a per-query typeCast function runs in the worker (the drop-in pool, as in mysql2)', async () => {
    await using client = await fresh();
    const [rows] = await client.pool.query({
      sql: "SELECT 'ada' AS name",
      typeCast: (field: { string(): string | null }) => field.string()?.toUpperCase(),
    });
    expect(rows).toEqual([{ name: 'ADA' }]);
  });

  it('crashWorker() makes the call reject with WorkerExitedError, and the client recovers', async () => {
    await using client = await fresh();
    await client.query('SELECT 1');
    expect(corePoolOf(client).threadIds().length).toBeGreaterThan(0);
    await expect(crashWorker(client)).rejects.toMatchObject({ code: 'UNBLOCK_ERR_WORKER_EXITED' });
    const { rows } = await client.query('SELECT 3 AS three');
    expect(rows).toEqual([{ three: 3 }]);
  });
});
