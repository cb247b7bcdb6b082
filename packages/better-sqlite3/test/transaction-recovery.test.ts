import { afterAll, describe, expect, it } from 'vitest';
import { withCallOptions } from '@unblock/core';
import Database from '@unblock/better-sqlite3';
import { tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

// Finite: a terminated worker only exits once SQLite returns to JavaScript.
const SLOW =
  'with recursive c(x) as (select 1 union all select x + 1 from c where x < 3000000) select count(*) from c';

/** What a promise settled with, as `{ ok }` or `{ error }`, never throwing. */
async function settle(promise: Promise<unknown>): Promise<{ ok?: unknown; error?: unknown }> {
  try {
    return { ok: await promise };
  } catch (error) {
    return { error };
  }
}

describe('a worker terminated to stop a call inside a transaction', () => {
  it('does not resend the calls queued behind it in db.transaction(async fn): nothing of it commits', async () => {
    const db = await Database.open(tmp.file('tx-terminated.db'), { interrupt: false });
    await db.pragma('journal_mode = WAL');
    await db.exec('create table t (x)');
    const insert = await db.prepare('insert into t values (?)');
    const slow = await db.prepare(SLOW);
    const queued: Promise<{ ok?: unknown; error?: unknown }>[] = [];
    const tx = db.transaction(async () => {
      await insert.run('first');
      const running = withCallOptions({ timeout: 50 }, () => slow.get());
      // Queued on the writer behind the endless count, in the transaction.
      for (let i = 0; i < 5; i++) queued.push(settle(insert.run(`queued ${i}`)));
      await Promise.all([running, ...queued.map((p) => p.then((r) => r.ok))]);
    });
    const failure = await settle(tx());
    expect(failure.error).toMatchObject({ name: 'AbortError', state: 'running' });
    const outcomes = await Promise.all(queued);
    expect(outcomes).toHaveLength(5);
    for (const outcome of outcomes) {
      expect(outcome.error).toMatchObject({ code: 'UNBLOCK_ERR_WORKER_EXITED' });
    }
    expect(db.inTransaction).toBe(false);
    const count = await db.prepare('select count(*) from t');
    expect(await count.pluck().get()).toBe(0);
    // The database works afterwards, transactions included.
    await db.transaction(async () => insert.run('after'))();
    expect(await (await db.prepare('select x from t')).pluck().all()).toEqual(['after']);
    await db.close();
  });

  it('rejects the calls the transaction function makes after its writer died, and commits none', async () => {
    const db = await Database.open(tmp.file('tx-after-death.db'), { interrupt: false });
    await db.exec('create table t (x)');
    const insert = await db.prepare('insert into t values (?)');
    const slow = await db.prepare(SLOW);
    let late: { ok?: unknown; error?: unknown } | undefined;
    let later: { ok?: unknown; error?: unknown } | undefined;
    const tx = db.transaction(async () => {
      await insert.run('first');
      // The caller swallows the abort and goes on: its transaction is gone all the same.
      await settle(withCallOptions({ timeout: 50 }, () => slow.get()));
      late = await settle(insert.run('late')); // queued on the dying worker
      later = await settle(insert.run('later')); // the worker is gone: a new writer is at hand
      return 'done';
    });
    const result = await settle(tx());
    expect(late?.error).toMatchObject({ code: 'UNBLOCK_ERR_WORKER_EXITED' });
    expect(later?.error).toMatchObject({ code: 'UNBLOCK_ERR_SESSION_BROKEN' });
    expect(result.error).toBeDefined();
    expect(await (await db.prepare('select count(*) from t')).pluck().get()).toBe(0);
    await insert.run('after');
    expect(await (await db.prepare('select x from t')).pluck().all()).toEqual(['after']);
    await db.close();
  });

  it('does not resend the calls queued while a raw-SQL transaction was open', async () => {
    const db = await Database.open(tmp.file('raw-tx-terminated.db'), { interrupt: false });
    await db.exec('create table t (x)');
    const insert = await db.prepare('insert into t values (?)');
    const slow = await db.prepare(SLOW);
    await db.exec('begin');
    await insert.run('first');
    const running = settle(withCallOptions({ timeout: 50 }, () => slow.get()));
    const queued = [1, 2, 3].map((i) => settle(insert.run(`queued ${i}`)));
    expect((await running).error).toMatchObject({ name: 'AbortError', state: 'running' });
    for (const outcome of await Promise.all(queued)) {
      expect(outcome.error).toMatchObject({ code: 'UNBLOCK_ERR_WORKER_EXITED' });
    }
    expect(db.inTransaction).toBe(false);
    expect(await (await db.prepare('select count(*) from t')).pluck().get()).toBe(0);
    await insert.run('after');
    expect(await (await db.prepare('select count(*) from t')).pluck().get()).toBe(1);
    await db.close();
  });
});
