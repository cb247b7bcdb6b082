import rawMysql from 'mysql2/promise';
import mysql, { type Connection } from '@unblock/mysql2';
import { withCallOptions, type LeakEvent } from '@unblock/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB, dbAvailable, errorView, settle } from './helpers.js';

const T = `ub_cancel_${process.pid}`;

async function runningOn(threadId: number): Promise<string[]> {
  const c = await rawMysql.createConnection(DB);
  const [rows] = await c.query('SELECT INFO FROM information_schema.PROCESSLIST WHERE ID = ?', [
    threadId,
  ]);
  await c.end();
  return (rows as { INFO: string | null }[]).map((r) => r.INFO ?? '').filter((s) => s !== '');
}

describe.skipIf(!dbAvailable)('cancellation on the server', () => {
  let conn: Connection;
  beforeAll(async () => {
    conn = await mysql.createConnection(DB);
    await conn.query(`CREATE TABLE IF NOT EXISTS ${T} (v INT)`);
  });
  afterAll(async () => {
    await conn.query(`DROP TABLE IF EXISTS ${T}`);
    await conn.end();
  });

  it('an aborted SELECT SLEEP(10) rejects at once, is killed, and the connection stays usable', async () => {
    const started = Date.now();
    const reason = new Error('user went away');
    const ac = new AbortController();
    setTimeout(() => ac.abort(reason), 100);
    const r = await settle(conn.query({ sql: 'SELECT SLEEP(10)', signal: ac.signal }));
    expect(Date.now() - started).toBeLessThan(3000);
    expect(r.ok).toBe(false);
    const err = (r as { error: Error & { code: string; cause: unknown } }).error;
    expect(err.name).toBe('AbortError');
    expect(err.code).toBe('ABORT_ERR');
    expect(err.cause).toBe(reason);
    const [[row]] = (await conn.query('SELECT 1 AS one')) as [{ one: number }[], unknown];
    expect(row.one).toBe(1);
    expect((await runningOn(conn.threadId)).filter((s) => s.includes('SLEEP(10)'))).toEqual([]);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('an abort while the rows of a large result are crossing kills the query, and the connection stays usable', async () => {
    // About 1 ms a row, 8 columns: the server sends a burst every few hundred rows, and once a
    // chunk's worth (1024 rows) has arrived, chunks cross while the rest is still coming.
    const sql = `WITH RECURSIVE d (k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM d WHERE k < 199),
      seq (n) AS (SELECT a.k * 200 + b.k + 1 FROM d a CROSS JOIN d b)
      SELECT n, n + 1 AS a, n + 2 AS b, n + 3 AS c, n + 4 AS e, n + 5 AS f, n + 6 AS g,
        SLEEP(0.001) AS z FROM seq WHERE n <= 20000`;
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 2_500);
    const started = Date.now();
    const r = await settle(conn.query({ sql, signal: ac.signal }));
    expect(r.ok).toBe(false);
    expect((r as { error: Error }).error.name).toBe('AbortError');
    expect(Date.now() - started).toBeLessThan(6_000);
    const [[row]] = (await conn.query('SELECT 2 AS two')) as [{ two: number }[], unknown];
    expect(row.two).toBe(2);
    expect((await runningOn(conn.threadId)).filter((s) => s.includes('SLEEP(0.001)'))).toEqual([]);
  });

  it("withCallOptions({ timeout }) times out a running query, with core's TimeoutError as the cause", async () => {
    const started = Date.now();
    const r = await settle(withCallOptions({ timeout: 100 }, () => conn.query('SELECT SLEEP(10)')));
    expect(Date.now() - started).toBeLessThan(3000);
    const err = (r as { error: Error & { cause: { code: string } } }).error;
    expect(err.name).toBe('AbortError');
    expect(err.cause.code).toBe('UNBLOCK_ERR_TIMEOUT');
    expect(await conn.ping()).toBe(true);
  });

  it('a query aborted while queued behind another never reaches the server', async () => {
    const first = new AbortController();
    const second = new AbortController();
    const running = settle(conn.query({ sql: 'SELECT SLEEP(10)', signal: first.signal }));
    const queued = settle(
      conn.query({ sql: `INSERT INTO ${T} VALUES (1)`, signal: second.signal }),
    );
    await new Promise((r) => setTimeout(r, 100));
    second.abort();
    first.abort();
    const [a, b] = await Promise.all([running, queued]);
    expect((a as { error: Error }).error.name).toBe('AbortError');
    expect((b as { error: Error & { state: string } }).error.state).toBe('queued');
    const [rows] = await conn.query(`SELECT * FROM ${T}`);
    expect(rows).toEqual([]);
  });

  it("a per-query `timeout` kills the running query, rejects with mysql2's timeout error, and the connection stays usable", async () => {
    // mysql2's own error for its timeout (it only stops waiting: the query goes on running).
    const raw = await rawMysql.createConnection(DB);
    const theirs = await settle(raw.query({ sql: 'SELECT SLEEP(0.5)', timeout: 100 }));
    raw.destroy();
    const expected = (theirs as { error: Error & Record<string, unknown> }).error;
    expect(expected.code).toBe('PROTOCOL_SEQUENCE_TIMEOUT');

    for (const kind of ['query', 'execute'] as const) {
      const started = Date.now();
      const r = await settle(conn[kind]({ sql: 'SELECT SLEEP(10)', timeout: 200 }));
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(150);
      expect(elapsed).toBeLessThan(3_000);
      expect(r.ok).toBe(false);
      const err = (r as { error: Error & Record<string, unknown> }).error;
      expect(errorView(err)).toEqual(errorView(expected));
      expect(err.code).toBe('PROTOCOL_SEQUENCE_TIMEOUT');
      expect(err.errorno).toBe(expected.errorno);
      expect(err.syscall).toBe(expected.syscall);
      expect(err.fatal).toBeUndefined();
      expect(err.stack).toContain('cancel.test.ts');
      // The statement was stopped on the server (KILL QUERY), not left running.
      await expect
        .poll(async () => (await runningOn(conn.threadId)).filter((s) => s.includes('SLEEP(10)')), {
          timeout: 3000,
        })
        .toEqual([]);
      expect(Date.now() - started).toBeLessThan(3_000);
      const [[row]] = (await conn.query('SELECT 2 AS two')) as [{ two: number }[], unknown];
      expect(row.two).toBe(2);
    }
    // A query that ends in time is not affected, nor is the next one.
    const [[fast]] = (await conn.query({ sql: 'SELECT 3 AS three', timeout: 200 })) as [
      { three: number }[],
      unknown,
    ];
    expect(fast.three).toBe(3);
  });

  it('a per-query `timeout` on pool.query kills the query, and the pool connection is reused', async () => {
    const pool = mysql.createPool({ ...DB, connectionLimit: 1 });
    try {
      const [[before]] = (await pool.query('SELECT CONNECTION_ID() AS id')) as [
        { id: number }[],
        unknown,
      ];
      const started = Date.now();
      const r = await settle(pool.query({ sql: 'SELECT SLEEP(10)', timeout: 200 }));
      expect(Date.now() - started).toBeLessThan(3_000);
      expect((r as { error: { code: string } }).error.code).toBe('PROTOCOL_SEQUENCE_TIMEOUT');
      await expect
        .poll(async () => (await runningOn(before.id)).filter((s) => s.includes('SLEEP(10)')), {
          timeout: 3000,
        })
        .toEqual([]);
      const [[row]] = (await pool.query('SELECT CONNECTION_ID() AS id, 3 AS three')) as [
        { id: number; three: number }[],
        unknown,
      ];
      expect(row).toEqual({ id: before.id, three: 3 });
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      await pool.end();
    }
  });

  it('pool.query with a signal is killed too, and the pool connection is reused', async () => {
    const pool = mysql.createPool({ ...DB, connectionLimit: 1 });
    const r = await settle(
      pool.query({ sql: 'SELECT SLEEP(10)', signal: AbortSignal.timeout(100) }),
    );
    expect((r as { error: Error }).error.name).toBe('AbortError');
    const [[row]] = (await pool.query('SELECT 3 AS three')) as [{ three: number }[], unknown];
    expect(row.three).toBe(3);
    await pool.end();
  });
});

describe.skipIf(!dbAvailable)('leak detection', () => {
  it('warns about a connection held past leakDetectionThreshold, with the stack of getConnection()', async () => {
    const pool = mysql.createPool({ ...DB, connectionLimit: 1, leakDetectionThreshold: 100 });
    const warnings: Error[] = [];
    const onWarning = (w: Error): void =>
      void ((w as { code?: string }).code?.startsWith('UNBLOCK_WARN_LEAK') && warnings.push(w));
    process.on('warning', onWarning);
    const conn = await pool.getConnection();
    await new Promise((r) => setTimeout(r, 300));
    conn.release();
    await new Promise((r) => setTimeout(r, 20));
    process.off('warning', onWarning);
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    expect(warnings[0].message).toContain('leakDetectionThreshold');
    expect(warnings[0].message).toContain('cancel.test.ts');
    await pool.end();
  });

  it('a PoolConnection collected unreleased is reported and goes back to the pool', async () => {
    expect(typeof globalThis.gc).toBe('function');
    const pool = mysql.createPool({ ...DB, connectionLimit: 1 });
    const events: LeakEvent[] = [];
    pool.leaks.on('leak', (e) => events.push(e));
    const onWarning = (): void => undefined;
    process.on('warning', onWarning);
    await (async () => {
      const forgotten = await pool.getConnection();
      await forgotten.query('SELECT 1');
    })();
    for (let i = 0; i < 20 && events.length === 0; i++) {
      globalThis.gc!();
      await new Promise((r) => setTimeout(r, 50));
    }
    process.off('warning', onWarning);
    expect(events.map((e) => e.reason)).toContain('collected');
    expect(events[0].stack).toContain('cancel.test.ts');
    const [[row]] = (await withCallOptions({ timeout: 5000 }, () =>
      pool.query('SELECT 4 AS four'),
    )) as [{ four: number }[], unknown];
    expect(row.four).toBe(4);
    await pool.end();
  });

  it('pool.end() with a connection still out reports it', async () => {
    const pool = mysql.createPool({ ...DB, connectionLimit: 2 });
    const events: LeakEvent[] = [];
    pool.leaks.on('leak', (e) => events.push(e));
    const onWarning = (): void => undefined;
    process.on('warning', onWarning);
    const out = await pool.getConnection();
    await pool.end();
    process.off('warning', onWarning);
    expect(events.map((e) => e.reason)).toEqual(['open-at-close']);
    expect(out.threadId).toBeGreaterThan(0);
  });
});
