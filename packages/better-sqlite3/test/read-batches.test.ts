import { afterAll, describe, expect, it } from 'vitest';
import { withCallOptions } from '@unblock/core';
import Database from '@unblock/better-sqlite3';
import { poolOf } from '@unblock/better-sqlite3/testing';
import { readersOpen, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

/** A read of `t` that also counts to 1M: about 130 ms here, with its snapshot taken at once. */
const SLOW_READ = `select (select count(*) from t) as n,
  (with recursive c(x) as (select 1 union all select x + 1 from c where x < 1000000)
   select count(*) from c) as spin`;

/** A WAL database with `readers` reader workers, open, with `t` holding one row. */
async function walDatabase(name: string, readers: number): Promise<Database> {
  const db = await Database.open(tmp.file(name), { readers });
  await db.pragma('journal_mode = WAL');
  await db.exec('create table t (x); insert into t values (1)');
  await readersOpen(db, 1 + readers);
  return db;
}

// Reads that reach a reader together run in one read transaction (one lock of the WAL instead
// of one per read); these tests hold that to what the driver promises without it.
describe('reads batched on a reader', () => {
  it('a read sent after a write resolved sees it, even behind a batch of reads', async () => {
    const db = await walDatabase('late-read.db', 1);
    const slow = await db.prepare(SLOW_READ);
    const count = (await db.prepare('select count(*) from t')).pluck();
    const insert = await db.prepare('insert into t values (?)');
    // Three slow reads arrive at the reader together; the first one opens its snapshot.
    const batch = [slow.get(), slow.get(), slow.get()];
    await expect.poll(() => poolOf(db).stats().running, { interval: 1 }).toBe(1);
    // `running` is set just before the read starts and takes its snapshot: give it a moment
    // (a read is ~130 ms here), or the insert below could land before the snapshot.
    await new Promise((resolve) => setTimeout(resolve, 10));
    await insert.run(2); // on the writer, while the reader's batch goes on
    const late = count.get(); // queued on the reader behind the batch
    // The writer is idle: what runs is a read of the batch, and `late` waits behind it (or the
    // batch was over, and this test would not try the hazard).
    const { running, queued } = poolOf(db).stats();
    expect(running).toBe(1);
    expect(queued).toBeGreaterThan(0);
    const early = (await Promise.all(batch)) as { n: number }[];
    expect(early[0].n).toBe(1);
    expect(await late).toBe(2);
    await db.close();
  });

  it('leaves no read transaction open: a checkpoint can truncate the WAL after them', async () => {
    const db = await walDatabase('checkpoint.db', 2);
    const insert = await db.prepare('insert into t values (?)');
    const get = await db.prepare('select x from t where x = ?');
    for (let round = 0; round < 5; round++) {
      await insert.run(round + 10);
      const rows = await Promise.all(Array.from({ length: 64 }, () => get.get(round + 10)));
      expect(rows).toEqual(Array.from({ length: 64 }, () => ({ x: round + 10 })));
    }
    // busy is 1 when a reader still holds a snapshot (after waiting out the busy timeout).
    await db.pragma('busy_timeout = 200');
    expect(await db.pragma('wal_checkpoint(TRUNCATE)')).toEqual([
      { busy: 0, log: 0, checkpointed: 0 },
    ]);
    await db.close();
  });

  it('a cursor opened among batched reads works, and so do the reads around it', async () => {
    const db = await walDatabase('cursor.db', 1);
    await db.exec(
      'insert into t with recursive c(x) as (select 2 union all select x + 1 from c where x < 200) select x from c',
    );
    const get = (await db.prepare('select x from t where x = ?')).pluck();
    const all = (await db.prepare('select x from t order by x')).pluck();
    const before = Array.from({ length: 10 }, (_, i) => get.get(i + 1));
    const iterated: unknown[] = [];
    const cursor = (async () => {
      for await (const x of all.iterate()) iterated.push(x);
    })();
    const after = Array.from({ length: 10 }, (_, i) => get.get(i + 100));
    expect(await Promise.all(before)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    expect(await Promise.all(after)).toEqual(Array.from({ length: 10 }, (_, i) => i + 100));
    await cursor;
    expect(iterated).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    // A cursor left before its end: while it was open the driver refused COMMIT, and its release
    // runs no call that would end a batch, so a read transaction it shared would outlive it and
    // hide this write from the next read.
    const again = Array.from({ length: 10 }, (_, i) => get.get(i + 1));
    for await (const x of all.iterate()) {
      expect(x).toBe(1);
      break;
    }
    expect(await Promise.all(again)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));
    await (await db.prepare('insert into t values (201)')).run();
    expect(await (await db.prepare('select count(*) from t')).pluck().get()).toBe(201);
    await db.close();
  });

  it('a read interrupted inside a batch fails alone; the reads around it and later ones answer', async () => {
    const db = await walDatabase('interrupt.db', 1);
    const forever = await db.prepare(
      'with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c, t',
    );
    const count = (await db.prepare('select count(*) from t')).pluck();
    const before = count.get();
    const stopped = withCallOptions({ timeout: 100 }, () => forever.get());
    const after = count.get();
    await expect(stopped).rejects.toMatchObject({ name: 'AbortError', state: 'running' });
    expect([await before, await after]).toEqual([1, 1]);
    await (await db.prepare('insert into t values (2)')).run();
    expect(await count.get()).toBe(2);
    await db.close();
  });
});
