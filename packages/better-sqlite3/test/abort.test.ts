import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { withCallOptions } from '@unblock/core';
import Database from '@unblock/better-sqlite3';
import { Raw, readersOpen, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const ENDLESS =
  'with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c';

function abortAfter(ms: number, reason: unknown): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(reason), ms);
  return controller.signal;
}

async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { code?: string; state?: string }> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('cancellation by AbortSignal', () => {
  it('a running endless count aborted after 100 ms rejects with AbortError well before 5 s; the db then answers', async () => {
    // defaultQueryTimeout is there too: the signal, which fires first, decides.
    const db = await Database.open(':memory:', { defaultQueryTimeout: 20_000 });
    const endless = await db.prepare(ENDLESS);
    const reason = new Error('user navigated away');
    const started = Date.now();
    const err = await rejection(
      withCallOptions({ signal: abortAfter(100, reason) }, () => endless.get()),
    );
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', state: 'running' });
    expect(err.cause).toBe(reason);
    expect(await (await db.prepare('select 1 as one')).get()).toEqual({ one: 1 });
    await db.close();
  });

  it('a call aborted while queued never runs', async () => {
    const db = await Database.open(':memory:');
    await db.exec('create table t (x)');
    const endless = await db.prepare(ENDLESS);
    const insert = await db.prepare("insert into t values ('must not appear')");
    const slow = rejection(withCallOptions({ timeout: 300 }, () => endless.get()));
    await new Promise((resolve) => setTimeout(resolve, 50)); // the endless count is running
    const controller = new AbortController();
    const queued = rejection(withCallOptions({ signal: controller.signal }, () => insert.run()));
    controller.abort();
    expect(await queued).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', state: 'queued' });
    expect(await slow).toMatchObject({ name: 'AbortError', state: 'running' });
    expect(await (await db.prepare('select count(*) from t')).pluck().get()).toBe(0);
    // An already aborted signal: nothing is sent.
    await expect(
      withCallOptions({ signal: AbortSignal.abort() }, () => insert.run()),
    ).rejects.toMatchObject({ name: 'AbortError' });
    expect(await (await db.prepare('select count(*) from t')).pluck().get()).toBe(0);
    await db.close();
  });

  it('an abort inside db.transaction(async fn) rolls it back; the db stays usable', async () => {
    const db = await Database.open(':memory:');
    await db.exec('create table t (x)');
    const insert = await db.prepare('insert into t values (?)');
    const endless = await db.prepare(ENDLESS);
    const reason = new Error('cancelled');
    const tx = db.transaction(async () => {
      await insert.run('inside');
      expect(db.inTransaction).toBe(true);
      await endless.get();
    });
    const started = Date.now();
    const err = await rejection(withCallOptions({ signal: abortAfter(100, reason) }, () => tx()));
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR' });
    expect(err.cause).toBe(reason);
    expect(db.inTransaction).toBe(false);
    expect(await (await db.prepare('select count(*) from t')).pluck().get()).toBe(0);
    await db.transaction(async () => insert.run('after'))();
    expect(await (await db.prepare('select x from t')).pluck().all()).toEqual(['after']);
    await db.close();
  });

  it('aborts a query on a WAL reader; writes went on meanwhile and the reader answers again', async () => {
    const db = await Database.open(tmp.file('abort-wal.db'), { readers: 1 });
    await db.pragma('journal_mode = WAL');
    await db.exec('create table t (x)');
    await readersOpen(db, 2);
    const endless = await db.prepare(ENDLESS);
    expect(endless.readonly).toBe(true);
    const reason = new Error('stop reading');
    const started = Date.now();
    const read = rejection(
      withCallOptions({ signal: abortAfter(150, reason) }, () => endless.get()),
    );
    await new Promise((resolve) => setTimeout(resolve, 30));
    // The writer is free while the reader counts.
    await (await db.prepare('insert into t values (1)')).run();
    const err = await read;
    expect(Date.now() - started).toBeLessThan(5000);
    expect(err).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', state: 'running' });
    expect(err.cause).toBe(reason);
    expect(await (await db.prepare('select count(*) from t')).pluck().get()).toBe(1);
    await db.close();
  });
});

describe('close() with a statement still running', () => {
  it('interrupts a read still running when the grace period ends, and the writer closes last', async () => {
    const file = tmp.file('close-running-read.db');
    const db = await Database.open(file, { readers: 1, closeTimeout: 200 });
    await db.pragma('journal_mode = WAL');
    await db.exec('create table t (x); insert into t values (1)');
    await readersOpen(db, 2);
    const read = rejection((await db.prepare(ENDLESS)).get());
    await new Promise((resolve) => setTimeout(resolve, 50));
    await db.close();
    // Stopped by the interrupt, not run to its end (it never ends): close() came back, and the
    // reader closed before the writer, which then checkpointed the WAL and removed its files.
    expect(await read).toMatchObject({ code: 'UNBLOCK_ERR_POOL_CLOSED' });
    expect(existsSync(`${file}-wal`)).toBe(false);
    const raw = new Raw(file, { readonly: true });
    expect(raw.prepare('select count(*) from t').pluck().get()).toBe(1);
    raw.close();
  });

  it('checkpoints on close after an aborted statement on the writer', async () => {
    // The interrupt that stopped it left the connection marked interrupted, and the checkpoint
    // of the last connection's close gave up: the -wal and -shm files stayed.
    const file = tmp.file('close-after-abort.db');
    const db = await Database.open(file, { readers: 0 });
    await db.pragma('journal_mode = WAL');
    await db.exec('create table t (x); insert into t values (1)');
    const err = await rejection(
      withCallOptions({ signal: abortAfter(50, new Error('stop')) }, async () =>
        (await db.prepare(ENDLESS)).get(),
      ),
    );
    expect(err).toMatchObject({ name: 'AbortError', state: 'running' });
    await db.close();
    expect(existsSync(`${file}-wal`)).toBe(false);
  });
});
