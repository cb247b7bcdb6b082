import { afterAll, describe, expect, it } from 'vitest';
import { withCallOptions } from '@unblock/core';
import Database from '@unblock/better-sqlite3';
import { Raw, tempDir } from './helpers.js';

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

describe('a transaction function that leaves an iterator open on the writer', () => {
  it('is rolled back once that iterator closes, not left open to take in later writes', async () => {
    const file = tmp.file('tx-iterator-left-open.db');
    const db = await Database.open(file);
    await db.exec('create table t (x)');
    const insert = await db.prepare('insert into t values (?)');
    await db.transaction(async () => {
      for (let i = 0; i < 300; i++) await insert.run(i);
    })();
    let rows: AsyncIterator<unknown> | undefined;
    // More rows than the first batch: the cursor stays open in the worker, whose driver then
    // refuses ROLLBACK as it refuses COMMIT.
    const failure = await settle(
      db.transaction(async () => {
        await insert.run('failed');
        rows = (await db.prepare('select x from t')).iterate();
        await rows.next();
      })(),
    );
    expect(failure.error).toMatchObject({ name: 'TypeError' });
    await rows!.return!();
    await insert.run('after');
    expect(db.inTransaction).toBe(false);
    // Another connection sees the write made after it, and nothing of the failed transaction.
    const raw = new Raw(file);
    expect(raw.prepare("select count(*) from t where x = 'after'").pluck().get()).toBe(1);
    expect(raw.prepare("select count(*) from t where x = 'failed'").pluck().get()).toBe(0);
    raw.close();
    expect(await db.transaction(async () => (await insert.run('next')).changes)()).toBe(1);
    await db.close();
  });

  it("rejects, when fn throws, with the driver's refusal of the ROLLBACK, as the driver does", async () => {
    const file = tmp.file('tx-iterator-left-open-throws.db');
    const setup = new Raw(file);
    setup.exec('create table t (x)');
    setup
      .prepare(
        'with recursive n(i) as (select 1 union all select i + 1 from n where i < 300) insert into t select i from n',
      )
      .run();
    setup.close();
    // The driver: its ROLLBACK throws "busy" in place of fn's error.
    const raw = new Raw(file);
    let rawRows: IterableIterator<unknown> | undefined;
    const theirs = (() => {
      try {
        raw.transaction(() => {
          raw.prepare('insert into t values (?)').run('failed');
          const iterator = raw.prepare('select x from t').iterate();
          rawRows = iterator;
          iterator.next();
          throw new Error('boom');
        })();
      } catch (err) {
        return err;
      }
    })() as Error;
    rawRows?.return?.();
    raw.close();
    expect(theirs).toMatchObject({ name: 'TypeError' });
    const db = await Database.open(file);
    let rows: AsyncIterator<unknown> | undefined;
    const ours = await settle(
      db.transaction(async () => {
        await (await db.prepare('insert into t values (?)')).run('failed');
        rows = (await db.prepare('select x from t')).iterate();
        await rows.next();
        throw new Error('boom');
      })(),
    );
    expect(ours.error).toBeInstanceOf(TypeError);
    expect((ours.error as Error).message).toBe(theirs.message);
    await rows!.return!();
    // The rollback goes right after the cursor's release, before this read.
    const failed = await (
      await db.prepare("select count(*) from t where x = 'failed'")
    )
      .pluck()
      .get();
    expect(failed).toBe(0);
    expect(db.inTransaction).toBe(false);
    await db.close();
  });
});

describe('an abort or a timeout landing while COMMIT runs', () => {
  // Rollback-journal mode: COMMIT waits (busy timeout) until another connection's read ends.
  it.each([
    ['an abort', {}, true],
    ['defaultQueryTimeout', { defaultQueryTimeout: 100 }, false],
  ])('%s does not report a committed transaction as failed', async (_, options, abort) => {
    const file = tmp.file(`tx-commit-${abort ? 'abort' : 'timeout'}.db`);
    const db = await Database.open(file, { timeout: 3000, ...options });
    await db.exec('create table t (x)');
    const insert = await db.prepare('insert into t values (?)');
    const raw = new Raw(file);
    const controller = new AbortController();
    const result = settle(
      withCallOptions({ signal: controller.signal }, () =>
        db.transaction(async () => {
          await insert.run(1);
          raw.exec('begin');
          raw.prepare('select * from t').all();
          return 'done';
        })(),
      ),
    );
    // The COMMIT is waiting for the raw reader's lock: abort it (or let it time out), then
    // release the lock, and the COMMIT goes through.
    await new Promise((resolve) => setTimeout(resolve, 200));
    if (abort) controller.abort(new Error('too late'));
    setTimeout(() => raw.exec('commit'), 100);
    expect(await result).toEqual({ ok: 'done' });
    expect(db.inTransaction).toBe(false);
    expect(raw.prepare('select x from t').pluck().all()).toEqual([1]);
    raw.close();
    await db.close();
  });
});

describe('a transaction function that throws with calls still in flight', () => {
  it('rejects with its error and rolls back; a failure of those calls is no unhandled rejection', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const db = await Database.open(':memory:');
      await db.exec('create table t (x primary key)');
      const insert = await db.prepare('insert into t values (?)');
      await insert.run(1);
      // A synchronous function, written for the driver: its calls are not awaited.
      const failure = await settle(
        db.transaction(() => {
          void insert.run(2);
          void insert.run(1); // fails: UNIQUE constraint
          throw new Error('fn failed');
        })(),
      );
      expect(failure.error).toMatchObject({ message: 'fn failed' });
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
      expect(db.inTransaction).toBe(false);
      expect(await (await db.prepare('select x from t')).pluck().all()).toEqual([1]);
      // The same in a nested transaction (a savepoint), whose error the outer one catches.
      const nested = db.transaction(() => {
        void insert.run(3);
        void insert.run(1);
        throw new Error('nested failed');
      });
      await db.transaction(async () => {
        await insert.run(4);
        expect(await settle(nested())).toMatchObject({ error: { message: 'nested failed' } });
      })();
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(unhandled).toEqual([]);
      expect(await (await db.prepare('select x from t')).pluck().all()).toEqual([1, 4]);
      await db.close();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('a nested transaction aborted before its SAVEPOINT ran', () => {
  it('rejects with the AbortError and leaves the work of the transactions around it alone', async () => {
    const db = await Database.open(':memory:');
    await db.exec('create table t (x)');
    const insert = await db.prepare('insert into t values (?)');
    const aborted = AbortSignal.abort(new Error('not wanted'));
    const inner = db.transaction(async () => insert.run(3));
    const middle = db.transaction(async () => {
      await insert.run(2);
      // Aborted already: its SAVEPOINT is never sent, and there is nothing of it to undo.
      return settle(withCallOptions({ signal: aborted }, () => inner()));
    });
    const result = await db.transaction(async () => {
      await insert.run(1);
      const outcome = await middle();
      await insert.run(4);
      return outcome;
    })();
    expect(result.error).toMatchObject({ name: 'AbortError', state: 'queued' });
    expect(db.inTransaction).toBe(false);
    expect(await (await db.prepare('select x from t')).pluck().all()).toEqual([1, 2, 4]);
    await db.close();
  });
});
