import { afterAll, describe, expect, it } from 'vitest';
import { withCallOptions } from '@unblock/core';
import Database from '@unblock/better-sqlite3';
import { poolOf } from '@unblock/better-sqlite3/testing';
import { readersOpen, tempDir } from './helpers.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

const SLOW =
  'with recursive c(x) as (select 1 union all select x + 1 from c where x < 3000000) select count(*) from c';

const UDFS = new URL('./fixtures/udfs.mjs', import.meta.url);

function defineAll(db: Database): void {
  db.function('add2', { deterministic: true }, (a: number, b: number) => a + b);
  db.aggregate('total', { start: 0, step: (sum: number, next: number) => sum + next });
  db.table('series', {
    columns: ['value'],
    *rows(n: unknown) {
      for (let i = 0; i < (n as number); i++) yield [i];
    },
  });
}

/** A WAL file database with its two readers open; `beforeWal` runs before any reader opens. */
async function openWal(name: string, beforeWal?: (db: Database) => void): Promise<Database> {
  const db = await Database.open(tmp.file(name), { readers: 2 });
  beforeWal?.(db);
  await db.pragma('journal_mode = WAL');
  await readersOpen(db, 3);
  return db;
}

describe('user functions', () => {
  it('work on a WAL file database, in reads that run on the readers', async () => {
    // Defined before WAL mode: the readers, opened afterwards, get them as they open (those
    // defined while readers are open reach them too: see the { module, export } test).
    const db = await openWal('udf-wal.db', defineAll);
    const read = await db.prepare(
      'select add2(1, 2) as a, (select total(value) from series(5)) as t',
    );
    expect(read.readonly).toBe(true);
    // While a transaction holds the writer, a read from outside can only answer from a reader.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const tx = db.transaction(async () => {
      await db.exec('create table t (x)');
      await held;
    })();
    const onReader = await Promise.race([
      read.get(),
      new Promise((resolve) => setTimeout(() => resolve('waited for the writer'), 3000)),
    ]);
    release();
    await tx;
    expect(onReader).toEqual({ a: 3, t: 10 });
    // And once the transaction is over, from outside it again.
    expect(await read.get()).toEqual({ a: 3, t: 10 });
    await db.close();
  });

  it('still work after the writer worker was terminated to stop a call', async () => {
    const db = await Database.open(tmp.file('udf-restart.db'), { interrupt: false, readers: 0 });
    defineAll(db);
    const slow = await db.prepare(SLOW);
    const threadsBefore = poolOf(db).threadIds();
    await expect(withCallOptions({ timeout: 50 }, () => slow.get())).rejects.toMatchObject({
      name: 'AbortError',
      state: 'running',
    });
    const check = await db.prepare(
      'select add2(2, 3) as a, (select total(value) from series(4)) as t',
    );
    expect(await check.get()).toEqual({ a: 5, t: 6 });
    // A new thread answered: the functions were defined on the replacement connection.
    expect(poolOf(db).threadIds()).not.toEqual(threadsBefore);
    await db.close();
  });

  it('accept { module, export } references, on the writer and on the readers', async () => {
    const db = await openWal('udf-module.db');
    db.function('shout', { length: 1 }, { module: UDFS, export: 'shout' });
    db.aggregate('addAll', { start: 0, step: { module: UDFS, export: 'addAll' }, length: 2 });
    const sql =
      "select shout('hi') as s, (select addAll(value) from (select 1 as value union all select 2)) as n";
    expect(await (await db.prepare(sql)).get()).toEqual({ s: 'HI!', n: 3 });
    await db.transaction(async () => {
      // Inside a transaction: on the writer.
      expect(await (await db.prepare(sql)).get()).toEqual({ s: 'HI!', n: 3 });
    })();
    await db.close();
  });

  it('a self-contained function that uses a closure variable fails with a clear error naming it', async () => {
    const db = await Database.open(':memory:');
    const factor = 3;
    db.function('times', (x: number) => x * factor);
    const err = await (await db.prepare('select times(2)')).get().then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(err).toBeInstanceOf(Error);
    expect(err!.message).toMatch(/factor/);
    // The connection is fine afterwards.
    expect(await (await db.prepare('select 1 as one')).get()).toEqual({ one: 1 });
    await db.close();
  });
});

describe('interrupting a running write', () => {
  it('rolls the statement back, and leaves the same connection healthy', async () => {
    const db = await Database.open(tmp.file('interrupt-write.db'));
    await db.exec('create table t (x)');
    const insert = await db.prepare('insert into t values (?)');
    await insert.run('before');
    const threads = poolOf(db).threadIds();
    const huge = await db.prepare(
      'insert into t with recursive c(x) as (select 1 union all select x + 1 from c) select x from c',
    );
    await expect(withCallOptions({ timeout: 100 }, () => huge.run())).rejects.toMatchObject({
      name: 'AbortError',
      state: 'running',
    });
    expect(db.inTransaction).toBe(false);
    await insert.run('after');
    expect(await (await db.prepare('select x from t')).pluck().all()).toEqual(['before', 'after']);
    await db.transaction(async () => insert.run('in a transaction'))();
    expect(await (await db.prepare('select count(*) from t')).pluck().get()).toBe(3);
    // Interrupted, not terminated: the worker thread is the same.
    expect(poolOf(db).threadIds()).toEqual(threads);
    await db.close();
  });
});
