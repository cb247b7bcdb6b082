// connect() on a connection that is already connected, through mysql2/promise directly and
// through @unblock/mysql2: mysql2 answers from the state of its connection, so it resolves
// once ended or destroyed, and rejects with the error that closed it when one did.
import { once } from 'node:events';
import rawMysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB, DRIVERS, dbAvailable, errorView, settle, type Driver } from './helpers.js';

/** How connect() settled: mysql2 resolves its core connection, the drop-in `undefined`. */
async function connected(conn: { connect(): Promise<unknown> }): Promise<unknown> {
  const settled = await settle(conn.connect());
  return settled.ok ? 'resolved' : ['rejected', errorView(settled.error)];
}

describe.skipIf(!dbAvailable)('connect() on a connection already made, as mysql2/promise', () => {
  let side: rawMysql.Connection;
  beforeAll(async () => {
    side = await rawMysql.createConnection(DB);
  });
  afterAll(() => side.end());

  async function scenario(driver: Driver): Promise<unknown[]> {
    const seen: unknown[] = [];
    const open = await driver.createConnection(DB);
    seen.push(await connected(open));
    await open.end();
    seen.push(await connected(open));

    const destroyed = await driver.createConnection(DB);
    destroyed.destroy();
    seen.push(await connected(destroyed));

    const killed = await driver.createConnection(DB);
    const lost = once(killed, 'error');
    await side.query(`KILL ${killed.threadId}`);
    const [event] = (await lost) as [Error];
    const rejection = await settle(killed.connect());
    seen.push(!rejection.ok && rejection.error === event, await connected(killed));
    await killed.end();
    seen.push(await connected(killed));

    const broken = await driver.createConnection(DB);
    const fatal = await settle(broken.execute(undefined as unknown as string));
    const refused = await settle(broken.connect());
    seen.push(!fatal.ok && !refused.ok && refused.error === fatal.error);
    broken.destroy();

    const pool = driver.createPool({ ...DB, connectionLimit: 1 });
    const pooled = await pool.getConnection();
    seen.push(await connected(pooled));
    await side.query(`KILL ${pooled.threadId}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    seen.push(await connected(pooled));
    pooled.release();
    await pool.end();
    return seen;
  }

  it('resolves once ended or destroyed, and rejects with the error that closed it', async () => {
    const theirs = await scenario(DRIVERS[0]);
    const ours = await scenario(DRIVERS[1]);
    expect(ours).toEqual(theirs);
    const lost = ['rejected', expect.objectContaining({ code: 'PROTOCOL_CONNECTION_LOST' })];
    expect(ours).toEqual([
      'resolved',
      'resolved',
      'resolved',
      true,
      lost,
      lost,
      true,
      'resolved',
      lost,
    ]);
  });
});
