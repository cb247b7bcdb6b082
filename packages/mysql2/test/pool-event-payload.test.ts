// What a pool's 'connection', 'acquire' and 'release' events carry: mysql2/promise forwards its
// core pool's events, whose payload is the physical connection itself: the same object in every
// event for one connection (not the object getConnection() resolves), and its release() gives the
// connection back from whoever holds it. Each case runs on mysql2/promise and on the drop-in.
import rawMysql from 'mysql2/promise';
import mysql, { type PoolConnection } from '@unblock/mysql2';
import { describe, expect, it } from 'vitest';
import { DB, DRIVERS, type DriverPool, dbAvailable, outcome, sameResult } from './helpers.js';

/** What the events carry, as both sides type it. */
interface EventPayload {
  threadId: number;
  release(): void;
}

/** The last payload of each event, and the events in order, named. */
function watch(pool: DriverPool, log: unknown[]): Record<string, EventPayload | undefined> {
  const last: Record<string, EventPayload | undefined> = {};
  for (const event of ['connection', 'acquire', 'release'] as const) {
    pool.on(event as 'acquire', (conn: EventPayload) => {
      last[event] = conn;
      log.push(event);
    });
  }
  return last;
}

/** Names objects by the order they were first seen in: `#0`, `#1`, ... */
function identities(): (value: unknown) => string {
  const seen: unknown[] = [];
  return (value) => {
    if (!seen.includes(value)) seen.push(value);
    return `#${seen.indexOf(value)}`;
  };
}

describe.skipIf(!dbAvailable)("pool events' payload, as in mysql2/promise", () => {
  it('is one object per connection, every event the same, and not what getConnection() resolves', async () => {
    const log = await sameResult(DRIVERS, async (driver) => {
      const pool = driver.createPool({ ...DB, connectionLimit: 2 });
      const id = identities();
      const log: string[] = [];
      for (const event of ['connection', 'acquire', 'release'] as const) {
        pool.on(event as 'acquire', (conn: EventPayload) => log.push(`${event} ${id(conn)}`));
      }
      try {
        const first = await pool.getConnection();
        log.push(`got ${id(first)}`);
        const second = await pool.getConnection();
        log.push(`got ${id(second)}`);
        first.release();
        second.release();
        const again = await pool.getConnection();
        log.push(`got ${id(again)}`);
        again.release();
        await pool.query('SELECT 1');
        await pool.execute('SELECT 1');
        return log;
      } finally {
        await pool.end();
      }
    });
    // Two connections, two payloads, three promise connections.
    expect(log.slice(0, 3)).toEqual(['connection #0', 'acquire #0', 'got #1']);
  });

  it("release() gives back the connection's checkout, once, and does nothing while it is free", async () => {
    const log = await sameResult(DRIVERS, async (driver) => {
      // No waiting: a connection not given back makes getConnection() reject at once.
      const pool = driver.createPool({ ...DB, connectionLimit: 1, waitForConnections: false });
      const log: unknown[] = [];
      const last = watch(pool, log);
      try {
        const held = await pool.getConnection();
        const payload = last.acquire!;
        log.push(await outcome(() => payload.release()));
        log.push(await outcome(() => payload.release()));
        log.push(await outcome(() => held.release()));
        log.push(await outcome(() => payload.release()));
        log.push(
          await outcome(async () => {
            const conn = await pool.getConnection();
            const [rows] = await conn.query('SELECT 1 AS x');
            conn.release();
            return rows;
          }),
        );
        // mysql2/promise's releaseConnection() takes only its promise connections.
        const next = await pool.getConnection();
        log.push(await outcome(() => pool.releaseConnection(last.acquire as never)));
        log.push(await outcome(() => pool.getConnection().then(() => 'another connection')));
        next.release();
        return log;
      } finally {
        await pool.end();
      }
    });
    expect(log.slice(0, 3)).toEqual(['connection', 'acquire', 'release']);
  });

  it('release() hands the connection to a getConnection() waiting in the queue', async () => {
    const log = await sameResult(DRIVERS, async (driver) => {
      const pool = driver.createPool({ ...DB, connectionLimit: 1 });
      const log: unknown[] = [];
      const last = watch(pool, log);
      const held = await pool.getConnection();
      const waiting = pool.getConnection().then(
        (conn) => {
          conn.release();
          return conn.threadId === held.threadId;
        },
        (err: Error) => err.message,
      );
      last.acquire!.release();
      // end() rejects the requests still queued: the waiter must have been served already.
      const ended = pool.end();
      log.push(await waiting);
      await ended;
      return log;
    });
    // Handed over, not freed: no 'release' event.
    expect(log).toEqual(['connection', 'acquire', true]);
  });

  it('release() during pool.query() gives the connection back before the statement ends', async () => {
    const lock = `unblock_payload_${process.pid}`;
    const log = await sameResult(DRIVERS, async (driver) => {
      const pool = driver.createPool({ ...DB, connectionLimit: 1 });
      const blocker = await driver.createConnection(DB);
      const log: unknown[] = [];
      const last = watch(pool, log);
      try {
        await pool.query('SELECT 1');
        // The pool's statement waits for the lock: it cannot end before the lock is released.
        await blocker.query('SELECT GET_LOCK(?, 10)', [lock]);
        const running = pool.query('SELECT GET_LOCK(?, 10) AS got, RELEASE_LOCK(?) AS freed', [
          lock,
          lock,
        ]);
        // A macrotask later, both pools have handed the connection to the statement.
        await new Promise((resolve) => setImmediate(resolve));
        log.push('release()');
        last.acquire!.release();
        log.push('unlock');
        await blocker.query('SELECT RELEASE_LOCK(?)', [lock]);
        const [rows] = await running;
        log.push(rows);
        return log;
      } finally {
        await blocker.end();
        await pool.end();
      }
    });
    expect(log.slice(-4)).toEqual(['release()', 'release', 'unlock', [{ got: 1, freed: 1 }]]);
  });
});

describe.skipIf(!dbAvailable)("pool events' payload: the drop-in only", () => {
  it('a statement whose connection was given back early does not give it back again when it ends', async () => {
    // mysql2's connection keeps one released flag for every holder: when the statement ends, its
    // release() gives back whoever holds the connection then. The drop-in ends only its own
    // checkout (see docs/api.md), so the next holder keeps it.
    const lock = `unblock_payload_${process.pid}`;
    await using pool = mysql.createPool({ ...DB, connectionLimit: 1, waitForConnections: false });
    const blocker = await rawMysql.createConnection(DB);
    let payload: EventPayload | undefined;
    pool.on('acquire', (conn: EventPayload) => (payload = conn));
    await pool.query('SELECT 1');
    await blocker.query('SELECT GET_LOCK(?, 10)', [lock]);
    let running: Promise<unknown> | undefined;
    let holder: PoolConnection;
    try {
      running = pool.query('SELECT GET_LOCK(?, 10) AS got, RELEASE_LOCK(?) AS freed', [lock, lock]);
      payload!.release();
      holder = await pool.getConnection();
    } finally {
      await blocker.query('SELECT RELEASE_LOCK(?)', [lock]);
      await blocker.end();
      await running;
    }
    // A connection object in a failure report would not serialise: a string stands for it.
    await expect(pool.getConnection().then(() => 'another connection')).rejects.toThrow(
      'No connections available.',
    );
    holder.release();
    const next = await pool.getConnection();
    expect(next.threadId).toBe(holder.threadId);
    next.release();
  });
});
