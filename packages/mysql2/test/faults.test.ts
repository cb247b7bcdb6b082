// Server faults, through mysql2/promise directly and through @unblock/mysql2: the same errors,
// the same connection events, nothing hangs, and a pool recovers. "The server goes away" is a
// KILL of the connection from a side connection (restarting the shared server would disturb
// the other test files).
import net from 'node:net';
import rawMysql from 'mysql2/promise';
import mysql from '@unblock/mysql2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB, dbAvailable, errorView, settle } from './helpers.js';

interface Subject {
  createConnection(options: object): Promise<rawMysql.Connection>;
  createPool(options: object): rawMysql.Pool;
}
const SUBJECTS: [string, Subject][] = [
  ['mysql2/promise', rawMysql as unknown as Subject],
  ['@unblock/mysql2', mysql as unknown as Subject],
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!dbAvailable)('server faults, as mysql2 reports them', () => {
  let side: rawMysql.Connection;
  beforeAll(async () => {
    side = await rawMysql.createConnection(DB);
  });
  afterAll(() => side.end());

  /** Kills every idle connection of this test's server user except `side`. */
  async function killIdle(threadIds: number[]): Promise<void> {
    for (const id of threadIds) await side.query(`KILL ${Number(id)}`).catch(() => undefined);
  }

  /** What each subject gives for `run`, side by side. */
  async function both<T>(run: (subject: Subject) => Promise<T>): Promise<[T, T]> {
    const out: T[] = [];
    for (const [, subject] of SUBJECTS) out.push(await run(subject));
    return [out[0], out[1]];
  }

  it('a server that is down: the same connect error', async () => {
    const [theirs, ours] = await both(async (m) => {
      const r = await settle(m.createConnection({ ...DB, port: 1, connectTimeout: 2000 }));
      return errorView((r as { error: unknown }).error);
    });
    expect(ours).toEqual(theirs);
    expect(ours.code).toBe('ECONNREFUSED');
  });

  it('a connection killed mid-query: the same error, events and closed state after it', async () => {
    const [theirs, ours] = await both(async (m) => {
      const conn = await m.createConnection(DB);
      const events: string[] = [];
      conn.on('error', (err: Error & { code?: string }) => events.push(`error ${err.code}`));
      conn.on('end', () => events.push('end'));
      const running = settle(conn.query('SELECT SLEEP(5)'));
      await sleep(200);
      await side.query(`KILL ${conn.threadId}`);
      const r = await running;
      const next = await settle(conn.query('SELECT 1'));
      await sleep(50);
      conn.destroy();
      return {
        error: errorView((r as { error: unknown }).error),
        next: errorView((next as { error: unknown }).error),
        events,
      };
    });
    expect(ours).toEqual(theirs);
    expect(ours.error.code).toBe('PROTOCOL_CONNECTION_LOST');
  });

  it("commands queued behind a query whose connection is killed get that query's error, as mysql2 gives them", async () => {
    const [theirs, ours] = await both(async (m) => {
      const conn = await m.createConnection(DB);
      const stmt = await conn.prepare('SELECT ? AS n');
      const running = conn.query('SELECT SLEEP(5)');
      const queued = [
        conn.query('SELECT 2'),
        conn.execute('SELECT ?', [3]),
        stmt.execute([4]),
        conn.ping(),
        conn.beginTransaction(),
      ];
      let endEmitted = false;
      conn.on('end', () => (endEmitted = true));
      const ending = conn.end() as Promise<unknown>;
      // The server closed the socket before the QUIT started: 'end' comes first.
      const endBeforeEnded = ending.then(() => endEmitted);
      const settled = Promise.all([running, ...queued].map((p) => settle<unknown>(p)));
      await sleep(200);
      await side.query(`KILL ${conn.threadId}`);
      const errors = (await settled).map((r) => (r as { error: unknown }).error);
      const ended = await ending;
      return {
        errors: errors.map(errorView),
        // mysql2 gives every queued command the very error object of the running one.
        same: errors.map((err) => err === errors[0]),
        // Its QUIT was queued too: end() resolves (never rejects) with that error.
        ended: ended === errors[0],
        endBeforeEnded: await endBeforeEnded,
        after: errorView(((await settle(conn.query('SELECT 1'))) as { error: unknown }).error),
      };
    });
    expect(ours).toEqual(theirs);
    expect(ours.errors.map((e) => e.code)).toEqual(Array(6).fill('PROTOCOL_CONNECTION_LOST'));
    expect(ours.same).toEqual(Array(6).fill(true));
    expect(ours.ended).toBe(true);
    expect(ours.endBeforeEnded).toBe(true);
    expect(ours.after.message).toBe("Can't add new command when connection is in closed state");
  });

  it("a pool connection's queued commands get the error too; one sent after it, the closed-state error", async () => {
    const [theirs, ours] = await both(async (m) => {
      const pool = m.createPool({ ...DB, connectionLimit: 1 });
      const conn = await pool.getConnection();
      const running = settle(conn.query('SELECT SLEEP(5)'));
      const queued = settle(conn.query('SELECT 2'));
      await sleep(200);
      await side.query(`KILL ${conn.threadId}`);
      const first = await running;
      const later = await settle(conn.query('SELECT 3'));
      conn.release();
      const [[row]] = (await pool.query('SELECT 4 AS n')) as [[{ n: number }], unknown];
      await pool.end();
      return [first, await queued, later]
        .map((r) => errorView((r as { error: unknown }).error))
        .concat(row);
    });
    expect(ours).toEqual(theirs);
    expect(ours.map((e) => (e as { code?: string }).code)).toEqual([
      'PROTOCOL_CONNECTION_LOST',
      'PROTOCOL_CONNECTION_LOST',
      undefined,
      undefined,
    ]);
  });

  it('a statement larger than max_allowed_packet: the same error, and nothing hangs', async () => {
    const [[{ limit }]] = (await side.query(
      'SELECT @@max_allowed_packet AS `limit`',
    )) as unknown as [{ limit: number }[]];
    const big = 'x'.repeat(Number(limit) + 1024);
    const [theirs, ours] = await both(async (m) => {
      const conn = await m.createConnection(DB);
      const r = await settle(conn.query('SELECT LENGTH(?) AS n', [big]));
      conn.destroy();
      return errorView((r as { error: unknown }).error);
    });
    expect(ours).toEqual(theirs);
    expect(ours.code).toBe('ER_NET_PACKET_TOO_LARGE');
  });

  it('a pool whose idle connections the server closed recovers at once', async () => {
    const [theirs, ours] = await both(async (m) => {
      const pool = m.createPool({ ...DB, connectionLimit: 2 });
      const ids = await Promise.all([0, 1].map(() => pool.getConnection()));
      const threadIds = ids.map((c) => c.threadId);
      for (const c of ids) c.release();
      await killIdle(threadIds);
      await sleep(100);
      const results = [];
      for (let i = 0; i < 3; i++) {
        const r = await settle(pool.query('SELECT ? AS i', [i]));
        results.push(r.ok ? (r.value as unknown as [unknown])[0] : errorView(r.error));
      }
      await pool.end();
      return results;
    });
    expect(ours).toEqual(theirs);
    expect(ours).toEqual([[{ i: 0 }], [{ i: 1 }], [{ i: 2 }]]);
  });

  it('pool.query() and execute() right after the server closed an idle connection run on another one', async () => {
    const [theirs, ours] = await both(async (m) => {
      const pool = m.createPool({ ...DB, connectionLimit: 2 });
      const results = [];
      for (const method of ['query', 'execute', 'query', 'execute'] as const) {
        const conn = await pool.getConnection();
        const threadId = conn.threadId;
        conn.release();
        // No wait: the worker hears the close about when this thread hears the KILL's answer.
        await killIdle([threadId]);
        const sql = 'SELECT CONNECTION_ID() AS id';
        const r = await settle(method === 'query' ? pool.query(sql) : pool.execute(sql));
        results.push(
          r.ok
            ? (r.value as unknown as [[{ id: number }]])[0][0].id !== threadId
            : errorView(r.error),
        );
      }
      await pool.end();
      return results;
    });
    expect(ours).toEqual(theirs);
    expect(ours).toEqual([true, true, true, true]);
  });

  it('a checked-out connection the server closes leaves the pool at once: a waiter gets a new one', async () => {
    const [theirs, ours] = await both(async (m) => {
      const pool = m.createPool({ ...DB, connectionLimit: 1 });
      const held = await pool.getConnection();
      const waiter = pool.getConnection();
      await killIdle([held.threadId]);
      // Not released: mysql2's pool drops the connection on its 'end' and opens another.
      const served = await Promise.race([waiter, sleep(2000).then(() => 'still queued')]);
      const result = typeof served === 'string' ? served : served.threadId !== held.threadId;
      if (typeof served !== 'string') served.release();
      held.release();
      await waiter;
      await pool.end();
      return result;
    });
    expect(ours).toEqual(theirs);
    expect(ours).toBe(true);
  });

  it('a pool connection killed mid-query: that query fails as in mysql2, the next ones run', async () => {
    const [theirs, ours] = await both(async (m) => {
      const pool = m.createPool({ ...DB, connectionLimit: 1 });
      const conn = await pool.getConnection();
      const threadId = conn.threadId;
      conn.release();
      const running = settle(pool.query('SELECT SLEEP(5)'));
      await sleep(200);
      await side.query(`KILL ${threadId}`);
      const r = await running;
      await sleep(50);
      const after = await settle(pool.query('SELECT 7 AS seven'));
      await pool.end();
      return {
        error: errorView((r as { error: unknown }).error),
        after: after.ok ? (after.value as unknown as [unknown])[0] : errorView(after.error),
      };
    });
    expect(ours).toEqual(theirs);
    expect(ours.after).toEqual([{ seven: 7 }]);
  });
});

/** A TCP proxy in front of the server that the test can take down and bring back. */
class Outage {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  async up(): Promise<void> {
    const server = net.createServer((client) => {
      const upstream = net.connect(DB.port, DB.host);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as net.AddressInfo).port;
    this.server = server;
  }

  /** Stops listening and cuts every connection, as a server that went down. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => server?.close(() => resolve()) ?? resolve());
  }
}

describe.skipIf(!dbAvailable)('a server that goes down and comes back', () => {
  it('a pool fails as mysql2 does while it is down, and recovers when it is back', async () => {
    const outcomes: unknown[] = [];
    for (const [, m] of SUBJECTS) {
      const outage = new Outage();
      await outage.up();
      const pool = m.createPool({
        ...DB,
        port: outage.port,
        connectionLimit: 2,
        connectTimeout: 2000,
      });
      const steps: unknown[] = [];
      const run = async (): Promise<unknown> => {
        const r = await settle(pool.query('SELECT 1 AS one'));
        return r.ok ? (r.value as unknown as [unknown])[0] : (errorView(r.error).code ?? 'no code');
      };
      steps.push(await run());
      await outage.down();
      await sleep(100);
      steps.push(await run(), await run());
      await outage.up();
      steps.push(await run(), await run());
      await pool.end();
      await outage.down();
      outcomes.push(steps);
    }
    expect(outcomes[1]).toEqual(outcomes[0]);
    expect(outcomes[1]).toEqual([
      [{ one: 1 }],
      'ECONNREFUSED',
      'ECONNREFUSED',
      [{ one: 1 }],
      [{ one: 1 }],
    ]);
  });
});
