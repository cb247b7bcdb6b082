import { afterAll, describe, expect, it } from 'vitest';
import Database, { createClient } from '@unblock/better-sqlite3';
import { databaseOf } from '@unblock/better-sqlite3/testing';
import { tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** Rows enough for several batches (the first batch holds 64). */
const ROWS = 3000;
const FILL = `insert into t
  with recursive c(x) as (select 1 union all select x + 1 from c where x < ${ROWS}) select x from c`;

async function filledDatabase(name: string, readers: number): Promise<Database> {
  const db = await Database.open(tmp.file(name), { readers });
  await db.pragma('journal_mode = WAL');
  await db.exec(`create table t (x integer); ${FILL}`);
  return db;
}

/** Takes rows from `rows` until it ends or fails: the rows seen, and the error if it failed. */
async function drain(
  rows: AsyncIterator<unknown>,
): Promise<{ seen: number; error: unknown; ended: boolean }> {
  let seen = 0;
  try {
    for (;;) {
      const next = await rows.next();
      if (next.done === true) return { seen, error: undefined, ended: true };
      seen++;
    }
  } catch (error) {
    return { seen, error, ended: false };
  }
}

describe('an iteration whose rows cannot all be fetched', () => {
  it('rejects when its worker exits mid-way, instead of ending as if the rows were all read', async () => {
    const db = await filledDatabase('worker-exit.db', 0);
    // The cursor stays open on the writer; unsafe mode lets another statement run beside it.
    await db.function('unblock_test_exit', () => process.exit(70));
    const die = await db.prepare('select unblock_test_exit()');
    const rows = (await db.prepare('select x from t')).iterate();
    expect((await rows.next()).value).toEqual({ x: 1 });
    db.unsafeMode(true);
    await expect(die.get()).rejects.toMatchObject({ code: 'UNBLOCK_ERR_WORKER_EXITED' });
    const outcome = await drain(rows);
    // The rest of the first batch, already received, then the failure.
    expect(outcome).toMatchObject({ ended: false, seen: 63 });
    expect(outcome.error).toMatchObject({ code: 'UNBLOCK_ERR_SESSION_BROKEN' });
    // The database goes on with a new writer, and can close: the iterator counts as ended.
    db.unsafeMode(false);
    expect(await (await db.prepare('select count(*) from t')).pluck().get()).toBe(ROWS);
    await db.close();
  });

  it('rejects with the driver\'s "not open" error when the client forces its database closed', async () => {
    const client = createClient({ filename: tmp.file('client-close.db'), readers: 0 });
    await client.query(`create table t (x integer)`);
    const db = databaseOf(client);
    await db.exec(FILL);
    const rows = (await db.prepare('select x from t')).iterate();
    expect((await rows.next()).value).toEqual({ x: 1 });
    // The client's close() goes on although an iterator is open (Database#close() would refuse).
    await client.close();
    const outcome = await drain(rows);
    expect(outcome).toMatchObject({ ended: false, seen: 63 });
    expect(outcome.error).toBeInstanceOf(TypeError);
    expect((outcome.error as Error).message).toBe('The database connection is not open');
  });
});
