// resetOnRelease: mysql2's pool resets a released connection (COM_RESET_CONNECTION) before
// handing it out again, so session state (user variables here) does not reach the next user.
import rawMysql from 'mysql2/promise';
import mysql from '@unblock/mysql2';
import { describe, expect, it } from 'vitest';
import { DB, dbAvailable } from './helpers.js';

interface AnyPool {
  getConnection(): Promise<AnyConnection>;
  query(sql: string): Promise<[unknown, unknown]>;
  end(): Promise<void>;
}
interface AnyConnection {
  threadId: number;
  query(sql: string): Promise<[unknown, unknown]>;
  release(): void;
}

async function variable(on: { query(sql: string): Promise<[unknown, unknown]> }, name: string) {
  const [rows] = await on.query(`SELECT @${name} AS v`);
  return (rows as { v: unknown }[])[0].v;
}

/** What the next user of a one-connection pool sees of the previous user's session. */
async function leftovers(pool: AnyPool): Promise<Record<string, unknown>> {
  // getConnection() / release(), then the next getConnection().
  const first = await pool.getConnection();
  const threadId = first.threadId;
  await first.query('SET @ub_released = 1');
  first.release();
  const second = await pool.getConnection();
  const sameConnection = second.threadId === threadId;
  const released = await variable(second, 'ub_released');
  // A caller waiting in the queue when the connection is released.
  await second.query('SET @ub_handed = 2');
  const waiting = pool.getConnection();
  second.release();
  const third = await waiting;
  const handed = await variable(third, 'ub_handed');
  third.release();
  // pool.query() releases its connection too.
  await pool.query('SET @ub_pooled = 3');
  const pooled = await variable(pool, 'ub_pooled');
  await pool.end();
  return { sameConnection, released, handed, pooled };
}

describe.skipIf(!dbAvailable)('resetOnRelease', () => {
  it.each([
    {
      resetOnRelease: undefined,
      expected: { sameConnection: true, released: 1, handed: 2, pooled: 3 },
    },
    {
      resetOnRelease: false,
      expected: { sameConnection: true, released: 1, handed: 2, pooled: 3 },
    },
    {
      resetOnRelease: true,
      expected: { sameConnection: true, released: null, handed: null, pooled: null },
    },
  ])(
    'resetOnRelease: $resetOnRelease keeps or resets session state as mysql2/promise does',
    async ({ resetOnRelease, expected }) => {
      const options = { ...DB, connectionLimit: 1, resetOnRelease };
      const theirs = await leftovers(rawMysql.createPool(options) as unknown as AnyPool);
      const ours = await leftovers(mysql.createPool(options) as unknown as AnyPool);
      expect(theirs).toEqual(expected);
      expect(ours).toEqual(theirs);
    },
  );

  it("the default is mysql2's (false), in pool.config", () => {
    const pool = mysql.createPool(DB);
    const raw = rawMysql.createPool(DB);
    expect(pool.config.resetOnRelease).toBe(false);
    expect(
      (raw.pool as unknown as { config: { resetOnRelease: boolean } }).config.resetOnRelease,
    ).toBe(false);
    void pool.end();
    void raw.end();
  });
});
