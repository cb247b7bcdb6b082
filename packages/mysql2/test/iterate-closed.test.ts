// iterate() on a connection mysql2 has closed, and with no SQL: it rejects at once, as query()
// and execute() do, and the connection's later calls still settle. (mysql2 refuses a streamed
// query on a closed connection with an 'error' event of the connection, which the query itself
// never hears: sent to the worker, it would wait there forever, and every call behind it.)
import { once } from 'node:events';
import rawMysql from 'mysql2/promise';
import mysql from '@unblock/mysql2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB, dbAvailable, errorView, settleWithin } from './helpers.js';

type DropInConnection = Awaited<ReturnType<typeof mysql.createConnection>>;

/** How `promise` settled, or `'hung'` when it has not within two seconds. */
async function within<T>(promise: Promise<T>): Promise<unknown> {
  const settled = await settleWithin(promise, 2000);
  if (settled === 'hung') return settled;
  return settled.ok ? ['resolved', settled.value] : ['rejected', errorView(settled.error)];
}

async function rows(conn: DropInConnection, sql: unknown, execute = false): Promise<unknown[]> {
  const out: unknown[] = [];
  for await (const row of conn.iterate(sql as string, [], { execute })) out.push(row);
  return out;
}

describe.skipIf(!dbAvailable)('iterate() on a closed connection, and without SQL', () => {
  let side: rawMysql.Connection;
  beforeAll(async () => {
    side = await rawMysql.createConnection(DB);
  });
  afterAll(() => side.end());

  /** mysql2/promise's error for a query on a connection the server closed. */
  async function theirClosedState(): Promise<unknown> {
    const raw = await rawMysql.createConnection(DB);
    // mysql2 emits 'end', then 'error' (PROTOCOL_CONNECTION_LOST), then refuses commands.
    const lost = once(raw, 'error');
    await side.query(`KILL ${raw.threadId}`);
    await lost;
    return within(raw.query('SELECT 1'));
  }

  it("rejects with mysql2's closed-state error once the server closed the connection", async () => {
    const closed = await theirClosedState();
    expect(closed).toMatchObject(['rejected', { fatal: true }]);

    const conn = await mysql.createConnection(DB);
    const ended = once(conn, 'error');
    await side.query(`KILL ${conn.threadId}`);
    await ended;
    expect(await within(rows(conn, 'SELECT 1 AS a'))).toEqual(closed);
    expect(await within(conn.query('SELECT 1'))).toEqual(closed);
    conn.destroy();

    const pool = mysql.createPool({ ...DB, connectionLimit: 1 });
    const pooled = await pool.getConnection();
    const lost = once(pooled, 'error');
    await side.query(`KILL ${pooled.threadId}`);
    await lost;
    expect(await within(rows(pooled, 'SELECT 1 AS a'))).toEqual(closed);
    expect(await within(pooled.query('SELECT 1'))).toEqual(closed);
    pooled.release();
    await pool.end();
  });

  it('rejects with the closed-state error after a call failed with a fatal error, as query() does', async () => {
    const conn = await mysql.createConnection(DB);
    // mysql2 fails writing a statement without SQL, fatally, and closes the connection.
    const fatal = await within(conn.execute(undefined as unknown as string));
    expect(fatal).toMatchObject(['rejected', { code: 'ERR_INVALID_ARG_TYPE', fatal: true }]);
    const queried = await within(conn.query('SELECT 1'));
    expect(queried).toMatchObject(['rejected', { fatal: true }]);
    expect(await within(rows(conn, 'SELECT 1 AS a'))).toEqual(queried);
    expect(await within(conn.query('SELECT 1'))).toEqual(queried);
    conn.destroy();
  });

  it('rejects when the connection closes while the iterate() call is on its way, and later calls settle', async () => {
    // Sent in the same tick as a call that closes the connection: this thread cannot know yet.
    const conn = await mysql.createConnection(DB);
    conn.on('error', () => undefined);
    const fatal = within(conn.execute(undefined as unknown as string));
    const iterated = within(rows(conn, 'SELECT 1 AS a'));
    expect(await fatal).toMatchObject(['rejected', { code: 'ERR_INVALID_ARG_TYPE', fatal: true }]);
    const closed = await within(conn.query('SELECT 1'));
    expect(closed).toMatchObject(['rejected', { fatal: true }]);
    expect(await iterated).toEqual(closed);
    // What closed it is still the fatal error, not the refusal of the commands after it.
    expect(await within(conn.connect())).toMatchObject([
      'rejected',
      { code: 'ERR_INVALID_ARG_TYPE' },
    ]);
    conn.destroy();

    // Queued in the worker behind a statement whose connection the server kills.
    const killed = await mysql.createConnection(DB);
    killed.on('error', () => undefined);
    const slow = within(killed.query('SELECT SLEEP(5)'));
    const queued = within(rows(killed, 'SELECT 1 AS a'));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await side.query(`KILL CONNECTION ${killed.threadId}`);
    expect(await slow).toMatchObject(['rejected', { code: 'PROTOCOL_CONNECTION_LOST' }]);
    expect(await queued).toMatchObject(['rejected', { fatal: true }]);
    expect(await within(killed.query('SELECT 1'))).toMatchObject(['rejected', { fatal: true }]);
    killed.destroy();
  });

  it('null or undefined SQL rejects as query() and execute() do, and the connection stays usable', async () => {
    const conn = await mysql.createConnection(DB);
    try {
      for (const sql of [null, undefined]) {
        expect(await within(rows(conn, sql))).toEqual(await within(conn.query(sql as never)));
        expect(await within(rows(conn, sql, true))).toEqual([
          'rejected',
          expect.objectContaining({
            class: 'TypeError',
            message: `Cannot read properties of ${String(sql)} (reading 'sql')`,
          }),
        ]);
      }
      expect(await within(rows(conn, 'SELECT 1 AS a'))).toEqual(['resolved', [{ a: 1 }]]);
    } finally {
      await conn.end();
    }
  });
});
