// When 'end' is emitted, relative to end() resolving: mysql2/promise resolves end() as its QUIT
// command starts and emits 'end' once the server has closed the socket, so `await conn.end()`
// goes on before any 'end' listener runs. When the server closes the connection, 'end' comes
// with no end() call. Each case runs on mysql2/promise and on the drop-in.
import rawMysql from 'mysql2/promise';
import { describe, expect, it } from 'vitest';
import {
  DB,
  DRIVERS,
  type DriverConnection,
  dbAvailable,
  errorView,
  sameResult,
  settle,
} from './helpers.js';

const settleDown = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 100));

/** What happens, in order: the connection's events and the steps the test logs. */
function recorder(conn: DriverConnection): string[] {
  const log: string[] = [];
  conn.on('end', () => log.push("'end'"));
  conn.on('error', (err: Error & { code?: string }) => log.push(`'error' ${err.code}`));
  return log;
}

/**
 * Runs `steps` on a new connection of each driver, and requires the same log from both: the
 * steps' entries and the connection's events, until a while after the steps are done.
 */
async function sameOrder(
  steps: (conn: DriverConnection, log: string[]) => Promise<void>,
): Promise<void> {
  await sameResult(DRIVERS, async (driver) => {
    const conn = await driver.createConnection(DB);
    const log = recorder(conn);
    await steps(conn, log);
    await settleDown();
    return log;
  });
}

describe.skipIf(!dbAvailable)("'end' after end() resolves, as in mysql2/promise", () => {
  it('await conn.end(), and then() on it', async () => {
    await sameOrder(async (conn, log) => {
      const second = conn.end().then(() => log.push('end() then'));
      await conn.end();
      log.push('end() resolved');
      await second;
    });
  });

  it('await conn[Symbol.asyncDispose]()', async () => {
    await sameOrder(async (conn, log) => {
      await conn[Symbol.asyncDispose]();
      log.push('disposed');
    });
  });

  it('a PoolConnection with gracefulEnd: await conn.end()', async () => {
    await sameResult(DRIVERS, async (driver) => {
      const pool = driver.createPool({ ...DB, gracefulEnd: true, connectionLimit: 1 });
      try {
        const conn = await pool.getConnection();
        const log = recorder(conn as unknown as DriverConnection);
        await conn.end();
        log.push('end() resolved');
        await settleDown();
        const [rows] = await pool.query('SELECT 1 AS after');
        return [log, rows];
      } finally {
        await pool.end();
      }
    });
  });

  it("the server closes the connection: 'end' (and 'error') with no end() call, then end()", async () => {
    await sameOrder(async (conn, log) => {
      const side = await rawMysql.createConnection(DB);
      await side.query(`KILL ${conn.threadId}`);
      await side.end();
      await settleDown();
      log.push('killed');
      const closed = await conn.end();
      log.push(`end() resolved ${closed === undefined ? 'undefined' : 'an error'}`);
    });
  });

  it.each([
    ['succeeds: end() settles first', 'SELECT SLEEP(0.05) AS s'],
    ['fails: end() settles after it', 'SELECT SLEEP(0.05) AS s, (SELECT 1 UNION SELECT 2) AS x'],
  ])('end() called while a statement runs that %s, in the same tick', async (_, sql) => {
    // mysql2 starts its QUIT (and calls end()'s callback) as the statement before it ends, but
    // calls a statement's own callback one process.nextTick() later, unless it failed.
    await sameOrder(async (conn, log) => {
      const note = (what: string) => () => {
        log.push(what);
        // Anything that waits for the event loop (a timer, I/O) comes after both.
        setImmediate(() => log.push(`${what}: a turn of the event loop later`));
      };
      const ran = conn.query(sql).then(note('query resolved'), note('query rejected'));
      const ended = conn.end().then(note('end() resolved'));
      await Promise.all([ran, ended]);
    });
  });

  it('end() with nothing in flight resolves before the event loop turns', async () => {
    await sameOrder(async (conn, log) => {
      await conn.query('SELECT 1');
      setImmediate(() => log.push('setImmediate'));
      await conn.end();
      log.push('end() resolved');
    });
  });

  it("destroy(): 'end' comes later", async () => {
    await sameOrder(async (conn, log) => {
      conn.destroy();
      log.push('destroy() returned');
      await Promise.resolve();
      log.push('a microtask later');
    });
  });
});

describe.skipIf(!dbAvailable)('pool.end() while statements run, as in mysql2/promise', () => {
  it('lets a statement longer than 5 s finish, and then resolves', async () => {
    // mysql2 queues each connection's QUIT behind the statement it runs, with no time limit.
    // Both sides at once: the statement takes over 5 s.
    const [theirs, ours] = await Promise.all(
      DRIVERS.map(async (driver) => {
        const pool = driver.createPool({ ...DB, connectionLimit: 2 });
        const conn = await pool.getConnection();
        const running = [
          pool.query('SELECT SLEEP(5.5) AS s'),
          conn.execute('SELECT SLEEP(5.5) AS s'),
        ].map((p) => settle(p.then(([rows]) => rows)));
        await new Promise((resolve) => setTimeout(resolve, 100));
        const ended = await settle(pool.end());
        const settled = await Promise.all(running);
        return { ended, settled: settled.map((r) => (r.ok ? r : errorView(r.error))) };
      }),
    );
    expect(ours).toEqual(theirs);
    expect(ours.settled).toEqual([
      { ok: true, value: [{ s: 0 }] },
      { ok: true, value: [{ s: 0 }] },
    ]);
  }, 20_000);

  it('closes an idle connection at once, freeing its locks for a statement still running', async () => {
    // mysql2 QUITs each connection as its own queue empties: A, idle, ends at once, the server
    // frees its lock, and B's GET_LOCK gets it. Waiting for B before closing A would leave B to
    // time out (here after 3 s; a metadata lock waits a year by default).
    let n = 0;
    await sameResult(DRIVERS, async (driver) => {
      const lock = `unblock_end_lock_${process.pid}_${n++}`;
      const pool = driver.createPool({ ...DB, connectionLimit: 2 });
      const a = await pool.getConnection();
      const b = await pool.getConnection();
      await a.query('SELECT GET_LOCK(?, 0)', [lock]);
      const waiting = settle(
        b.query('SELECT GET_LOCK(?, 3) AS got', [lock]).then(([rows]) => rows),
      );
      await new Promise((resolve) => setTimeout(resolve, 200));
      const ended = await settle(pool.end());
      const got = await waiting;
      expect(got).toEqual({ ok: true, value: [{ got: 1 }] });
      return { ended, got };
    });
  }, 20_000);
});
