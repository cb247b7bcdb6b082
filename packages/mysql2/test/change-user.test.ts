// mysql2's changeUser() writes the new user, password, database and charset into the
// connection's config as its command starts, before the server answers: a change the server
// refuses leaves them there. Each case runs on mysql2/promise and on the drop-in (MariaDB answers
// a refused change after a second, so there are few of them).
import { describe, expect, it } from 'vitest';
import { DB, DRIVERS, type DriverConnection, dbAvailable, outcome, sameResult } from './helpers.js';

/** The config keys changeUser() writes. */
function configView(conn: DriverConnection): Record<string, unknown> {
  const { user, password, database, charsetNumber } = conn.config as Record<string, unknown>;
  return { user, password, database, charsetNumber };
}

const NO_USER = `ub_nobody_${process.pid}`;
const NO_DB = `ub_nodb_${process.pid}`;

const CHANGES: [string, Record<string, unknown> | undefined][] = [
  ['an unknown user', { user: NO_USER, password: 'wrong' }],
  ['an unknown database, with a charset', { database: NO_DB, charset: 'latin1_swedish_ci' }],
  ['password1 and an unknown database', { password1: 'wrong', database: NO_DB }],
  ['an unknown charset', { database: 'information_schema', charset: 'no_such_charset' }],
  ['no options', undefined],
  ['a database that exists', { database: 'information_schema' }],
];

describe.skipIf(!dbAvailable)("changeUser() and config, as mysql2's", () => {
  it.each(CHANGES)('%s: the same outcome, config and session after it', async (_, options) => {
    await sameResult(DRIVERS, async (driver) => {
      const conn = await driver.createConnection(DB);
      try {
        const changed = await outcome(() => conn.changeUser(options as never));
        const session = await outcome(() =>
          conn.query('SELECT DATABASE() AS db, CURRENT_USER() AS u').then(([rows]) => rows),
        );
        return [changed, configView(conn), session];
      } finally {
        await conn.end();
      }
    });
  });

  it('a refused change on a PoolConnection leaves its config changed, not the pool', async () => {
    await sameResult(DRIVERS, async (driver) => {
      const pool = driver.createPool({ ...DB, connectionLimit: 2 });
      try {
        const conn = await pool.getConnection();
        const other = await pool.getConnection();
        const changed = await outcome(() => conn.changeUser({ database: NO_DB }));
        const views = [configView(conn), configView(other)];
        conn.release();
        other.release();
        return [changed, views];
      } finally {
        await pool.end();
      }
    });
  });

  it('on a closed connection: rejects with the closed-state error and leaves config alone', async () => {
    const [, view] = (await sameResult(DRIVERS, async (driver) => {
      const conn = await driver.createConnection(DB);
      await conn.end();
      const changed = await outcome(() => conn.changeUser({ user: NO_USER, database: NO_DB }));
      return [changed, configView(conn)];
    })) as [unknown, Record<string, unknown>];
    expect(view.database).toBe(DB.database);
  });
});
