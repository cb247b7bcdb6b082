import { spawnSync } from 'node:child_process';
import { getPriority } from 'node:os';
import { threadNiceValues } from '@unblock/core/testing';
import rawMysql from 'mysql2/promise';
import mysql, { createPool } from '@unblock/mysql2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DB,
  dbAvailable,
  errorView,
  expectSameRows,
  fieldView,
  settle,
  countsOf,
} from './helpers.js';

const T = `ub_pool_${process.pid}`;

describe.skipIf(!dbAvailable)('pool', () => {
  beforeAll(async () => {
    const c = await rawMysql.createConnection(DB);
    await c.query(
      `CREATE TABLE IF NOT EXISTS ${T} (id INT PRIMARY KEY, v VARCHAR(20)) ENGINE=InnoDB`,
    );
    await c.query(`REPLACE INTO ${T} VALUES (1, 'one'), (2, 'two')`);
    await c.end();
  });
  afterAll(async () => {
    const c = await rawMysql.createConnection(DB);
    await c.query(`DROP TABLE IF EXISTS ${T}`);
    await c.end();
  });

  it('pool.query / execute match mysql2 and spread connections over workers', async () => {
    const raw = rawMysql.createPool({ ...DB, connectionLimit: 4 });
    const pool = createPool({ ...DB, connectionLimit: 4, workers: 2 });
    const [ra, fa] = await raw.query(`SELECT * FROM ${T} ORDER BY id`);
    const [rb, fb] = await pool.query(`SELECT * FROM ${T} ORDER BY id`);
    expectSameRows(rb, ra);
    expect(fieldView(fb)).toEqual(fieldView(fa));
    const [ea] = await raw.execute(`SELECT v FROM ${T} WHERE id = ?`, [2]);
    const [eb] = await pool.execute(`SELECT v FROM ${T} WHERE id = ?`, [2]);
    expectSameRows(eb, ea);
    const results = await Promise.all(
      Array.from({ length: 64 }, (_, i) =>
        pool.query('SELECT ? AS i, CONNECTION_ID() AS cid', [i]),
      ),
    );
    expect(results.map(([rows]) => (rows as { i: number }[])[0].i)).toEqual(
      Array.from({ length: 64 }, (_, i) => i),
    );
    expect(new Set(results.map(([rows]) => (rows as { cid: number }[])[0].cid)).size).toBe(4);
    expect(pool.stats()?.threads).toBe(2);
    const err = await settle(pool.query('SELECT * FROM nope_nope'));
    expect(errorView((err as { error: unknown }).error).code).toBe('ER_NO_SUCH_TABLE');
    await raw.end();
    await pool.end();
  });

  it('fields stay right when a session reuses field lists, mixes them, and loses an answer', async () => {
    const raw = await rawMysql.createConnection(DB);
    const pool = createPool({ ...DB, connectionLimit: 1 });
    const [, fa] = await raw.query(`SELECT * FROM ${T} WHERE id = ?`, [1]);
    const [, fb] = await raw.query(`SELECT v AS w, id FROM ${T}`);
    for (let i = 0; i < 3; i++) {
      const [rows, fields] = await pool.query(`SELECT * FROM ${T} WHERE id = ?`, [1]);
      expect(rows).toEqual([{ id: 1, v: 'one' }]);
      expect(fieldView(fields)).toEqual(fieldView(fa));
      const [, other] = await pool.query(`SELECT v AS w, id FROM ${T}`);
      expect(fieldView(other)).toEqual(fieldView(fb));
    }
    // An answer dropped on the way (the call is aborted while running, just as it ends) may
    // carry a field list the caller never saw: the next results of that list must still arrive
    // with their fields. Each round uses a new list, aborted at a different moment.
    for (let i = 0; i < 16; i++) {
      const sql = `SELECT SLEEP(?) AS s${i}, v AS q FROM ${T} WHERE id = 1`;
      const ac = new AbortController();
      const slow = pool.query({ sql, signal: ac.signal }, [0.02]);
      setTimeout(() => ac.abort(), 14 + i);
      await settle(slow);
      const [, fs] = await raw.query(sql, [0]);
      const [rows, fields] = await pool.query(sql, [0]);
      expect(rows).toEqual([{ [`s${i}`]: 0, q: 'one' }]);
      expect(fieldView(fields)).toEqual(fieldView(fs));
    }
    await raw.end();
    await pool.end();
  });

  it('getConnection pins a connection; transactions; release and events', async () => {
    const pool = createPool({ ...DB, connectionLimit: 2 });
    const events: string[] = [];
    for (const e of ['acquire', 'connection', 'enqueue', 'release'] as const)
      pool.on(e, () => events.push(e));
    const conn = await pool.getConnection();
    const id = conn.threadId;
    await conn.beginTransaction();
    await conn.query(`UPDATE ${T} SET v = 'changed' WHERE id = 1`);
    const [[inside]] = (await conn.query(
      `SELECT CONNECTION_ID() AS cid, v FROM ${T} WHERE id = 1`,
    )) as [{ cid: number; v: string }[], unknown];
    expect(inside).toEqual({ cid: id, v: 'changed' });
    await conn.rollback();
    conn.release();
    conn.release(); // idempotent
    expect(events).toEqual(['connection', 'acquire', 'release']);
    const again = await pool.getConnection();
    expect(again.threadId).toBe(id); // LIFO free list, as mysql2
    pool.releaseConnection(again);
    await pool.end();
    await expect(pool.query('SELECT 1')).rejects.toThrow('Pool is closed.');
    await expect(pool.getConnection()).rejects.toThrow('Pool is closed.');
  });

  it('exhaustion: queueing, waitForConnections false, queueLimit', async () => {
    const pool = createPool({ ...DB, connectionLimit: 1, queueLimit: 1 });
    let enqueued = 0;
    pool.on('enqueue', () => enqueued++);
    const a = await pool.getConnection();
    const queued = pool.getConnection();
    await expect(pool.getConnection()).rejects.toThrow('Queue limit reached.');
    expect(enqueued).toBe(1);
    a.release();
    const b = await queued;
    expect(b.threadId).toBe(a.threadId);
    b.release();
    await pool.end();

    const noWait = createPool({ ...DB, connectionLimit: 1, waitForConnections: false });
    const c = await noWait.getConnection();
    await expect(noWait.getConnection()).rejects.toThrow('No connections available.');
    c.destroy();
    const d = await noWait.getConnection(); // destroy() freed the slot
    expect(d.threadId).not.toBe(c.threadId);
    d.release();
    await noWait.end();
  });

  it("end() while connections are opening: their calls reject with mysql2's 'Pool is closed.'", async () => {
    const run = async (make: typeof rawMysql.createPool) => {
      const pool = make({ ...DB, connectionLimit: 2 });
      const calls: Promise<unknown>[] = [
        pool.getConnection(),
        pool.query('SELECT 1'),
        pool.execute('SELECT 2'),
      ];
      const settling = Promise.all(calls.map((call) => settle(call)));
      const ended = await settle(pool.end());
      const errors = (await settling).map((r) => errorView((r as { error: unknown }).error));
      return { ended: ended.ok, errors };
    };
    const theirs = await run(rawMysql.createPool);
    const ours = await run(mysql.createPool as unknown as typeof rawMysql.createPool);
    expect(ours).toEqual(theirs);
    expect(ours.errors.map((e) => e.message)).toEqual(Array(3).fill('Pool is closed.'));
  });

  it('a queued pool.query whose signal aborts never reaches the server', async () => {
    const pool = createPool({ ...DB, connectionLimit: 1 });
    const held = await pool.getConnection();
    const ac = new AbortController();
    const p = pool.query({ sql: `INSERT INTO ${T} VALUES (99, 'never')`, signal: ac.signal });
    ac.abort(new Error('stop'));
    const r = await settle(p);
    expect(r.ok).toBe(false);
    expect((r as { error: Error }).error.name).toBe('AbortError');
    held.release();
    const [rows] = await pool.query(`SELECT * FROM ${T} WHERE id = 99`);
    expect(rows).toEqual([]);
    await pool.end();
  });

  it("maxIdle and idleTimeout close idle connections as mysql2/promise's pool does", async () => {
    // Both pools look for idle connections once a second from their creation: past the first
    // look, a pool keeps at most maxIdle free connections, and none idle for over idleTimeout
    // (the look runs only when maxIdle < connectionLimit).
    const cases = [
      { maxIdle: 1, idleTimeout: 60_000 },
      { maxIdle: 1, idleTimeout: 200 },
      { maxIdle: 3, idleTimeout: 200 },
    ];
    const pools = cases.map((c) => {
      const options = { ...DB, connectionLimit: 3, ...c };
      return { raw: rawMysql.createPool(options), ours: createPool(options) };
    });
    const burst = (pool: { query(sql: string): Promise<[unknown, unknown]> }) =>
      Promise.all(
        Array.from({ length: 3 }, () =>
          pool.query('SELECT CONNECTION_ID() AS id, SLEEP(0.05) AS s'),
        ),
      ).then((results) => results.map(([rows]) => (rows as { id: number }[])[0].id));
    const ids = await Promise.all(
      pools.map(async (p) => ({ raw: await burst(p.raw), ours: await burst(p.ours) })),
    );
    const control = await rawMysql.createConnection(DB);
    const alive = async (threadIds: number[]): Promise<number> => {
      const [rows] = await control.query(
        'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID IN (?)',
        [threadIds],
      );
      return Number((rows as { n: number }[])[0].n);
    };
    const count = async () =>
      Promise.all(
        pools.map(async (p, i) => ({
          raw: await alive(ids[i].raw),
          ours: await alive(ids[i].ours),
          rawPool: (p.raw.pool as unknown as { _allConnections: { length: number } })
            ._allConnections.length,
          oursPool: countsOf(p.ours).all,
        })),
      );
    // Each burst ran on three connections of its own (three parallel queries, a limit of 3).
    for (const { raw, ours } of ids) {
      expect(new Set(raw).size).toBe(3);
      expect(new Set(ours).size).toBe(3);
    }
    // After the looks (and the server has seen the closes), the same connections are left:
    // polled, since a loaded machine may delay either.
    const expected = [1, 0, 3].map((n) => ({ raw: n, ours: n, rawPool: n, oursPool: n }));
    await expect.poll(count, { timeout: 4000, interval: 100 }).toEqual(expected);
    await control.end();
    await Promise.all(pools.flatMap((p) => [p.raw.end(), p.ours.end()]));
  });

  it("a released PoolConnection that listens hears 'end' when the pool closes it as idle", async () => {
    const heard = async (m: { createPool(options: object): rawMysql.Pool }): Promise<number[]> => {
      const pool = m.createPool({ ...DB, connectionLimit: 3, maxIdle: 1, idleTimeout: 60_000 });
      const conns = await Promise.all([0, 1, 2].map(() => pool.getConnection()));
      const ended: number[] = [];
      conns.forEach((c, i) => {
        c.on('end', () => ended.push(i));
        c.release();
      });
      // The look a second after creation closes the two oldest free ones (the most recently
      // released stays, as maxIdle is 1).
      await expect.poll(() => ended.length, { timeout: 4000, interval: 50 }).toBe(2);
      const idle = [...ended].sort();
      await pool.end();
      return idle;
    };
    expect(await heard(mysql as unknown as typeof rawMysql)).toEqual(await heard(rawMysql));
  });

  it('createPool accepts a URI and is lazy', async () => {
    const pool = mysql.createPool(`mysql://${DB.user}@${DB.host}:${DB.port}/${DB.database}`);
    expect(pool.stats()).toBeUndefined(); // nothing started yet
    const [[row]] = (await pool.query('SELECT DATABASE() AS db')) as [{ db: string }[], unknown];
    expect(row.db).toBe('test');
    expect(pool.escape("a'b")).toBe(rawMysql.escape("a'b"));
    await pool.end();
  });

  it('refuses more workers than a pool can start as it is made, naming its own option', () => {
    // Core's check would come at the first query, naming its own option (threads).
    expect(() => createPool({ ...DB, workers: 257 })).toThrow(
      new RangeError('options.workers must be at most 256'),
    );
    expect(() => createPool({ ...DB, workers: 0 })).toThrow(RangeError);
  });

  it('require() works from CommonJS', () => {
    const script = `const m = require('@unblock/mysql2'); if (typeof m.createPool !== 'function' || typeof m.default.createConnection !== 'function' || m.escape('x') !== "'x'") process.exit(1); console.log('ok')`;
    const out = spawnSync(process.execPath, ['-e', script], {
      cwd: new URL('..', import.meta.url),
      encoding: 'utf8',
    });
    expect(out.stderr).toBe('');
    expect(out.stdout.trim()).toBe('ok');
  });

  it.runIf(process.platform === 'linux')(
    'runs its worker threads workerNice below the caller thread',
    async () => {
      const nice = Math.min(19, getPriority() + 6);
      const before = [...threadNiceValues().values()].filter((v) => v === nice).length;
      const pool = createPool({ ...DB, connectionLimit: 2, workers: 2, workerNice: 6 });
      const [rows] = await pool.query('SELECT 1 AS x');
      expect(rows).toEqual([{ x: 1 }]);
      const after = [...threadNiceValues().values()].filter((v) => v === nice).length;
      expect(after - before).toBe(2);
      await pool.end();
    },
  );
});
