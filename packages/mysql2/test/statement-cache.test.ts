// unprepare() evicts the statement execute() cached, and closes it on the server, as in mysql2:
// the session's statement counters move the same on both sides. (The drop-in's execute() caches
// under other options than the caller's, so its unprepare() closes that one too.)
import { describe, it } from 'vitest';
import { DB, DRIVERS, type DriverConnection, dbAvailable, sameResult } from './helpers.js';

/** The session's Com_stmt_prepare and Com_stmt_close. */
async function counters(conn: DriverConnection): Promise<{ prepare: number; close: number }> {
  const [rows] = (await conn.query(
    "SHOW SESSION STATUS WHERE Variable_name IN ('Com_stmt_prepare', 'Com_stmt_close')",
  )) as unknown as [{ Variable_name: string; Value: string }[]];
  const value = (name: string): number => Number(rows.find((r) => r.Variable_name === name)?.Value);
  return { prepare: value('Com_stmt_prepare'), close: value('Com_stmt_close') };
}

/** What each step did to the counters. */
async function deltas(
  conn: DriverConnection,
  steps: [string, () => unknown][],
): Promise<unknown[]> {
  const out: unknown[] = [];
  let before = await counters(conn);
  for (const [label, step] of steps) {
    await step();
    const after = await counters(conn);
    out.push([label, after.prepare - before.prepare, after.close - before.close]);
    before = after;
  }
  return out;
}

describe.skipIf(!dbAvailable)("unprepare() after execute(), as mysql2's", () => {
  it('closes the statement execute() prepared, for a string or an options object', async () => {
    await sameResult(DRIVERS, async (driver) => {
      const conn = await driver.createConnection(DB);
      const sql = 'SELECT ? AS unprepared_a';
      const other = 'SELECT ? AS unprepared_b';
      try {
        return await deltas(conn, [
          ['execute(sql)', () => conn.execute(sql, [1])],
          ['again: cached', () => conn.execute(sql, [2])],
          ['unprepare(sql)', () => conn.unprepare(sql)],
          ['execute(sql): prepared anew', () => conn.execute(sql, [3])],
          ['execute({ sql })', () => conn.execute({ sql: other }, [1])],
          ['unprepare({ sql })', () => conn.unprepare({ sql: other })],
          ['unprepare(sql never run)', () => conn.unprepare('SELECT 42 AS never_run')],
        ]);
      } finally {
        await conn.end();
      }
    });
  });

  it('on a pool connection, and with rowsAsArray given to both', async () => {
    await sameResult(DRIVERS, async (driver) => {
      const pool = driver.createPool({ ...DB, connectionLimit: 1 });
      const conn = await pool.getConnection();
      const options = { sql: 'SELECT ? AS unprepared_c', rowsAsArray: true };
      try {
        return await deltas(conn as unknown as DriverConnection, [
          ['execute(options)', () => conn.execute(options, [1])],
          ['unprepare(options)', () => conn.unprepare(options)],
          ['execute(options): prepared anew', () => conn.execute(options, [2])],
        ]);
      } finally {
        conn.release();
        await pool.end();
      }
    });
  });
});
