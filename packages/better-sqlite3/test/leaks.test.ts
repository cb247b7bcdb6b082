import { describe, expect, it } from 'vitest';
import { watchLeaks } from '@unblock/core/testing';
import type { Client } from '@unblock/core';
import Database, { type Statement } from '@unblock/better-sqlite3';
import { poolOf } from '@unblock/better-sqlite3/testing';

const gc = (globalThis as { gc?: () => void }).gc;

/** 2000 rows: more than the first batch, so every iterator holds a real cursor in the worker. */
async function filled(): Promise<Database> {
  const db = await Database.open(':memory:');
  await db.exec(
    'create table t (x); insert into t select x from (with recursive c(x) as (select 1 union all select x + 1 from c where x < 2000) select x from c)',
  );
  return db;
}

describe('leaks', () => {
  it('runs with --expose-gc', () => {
    expect(typeof gc).toBe('function');
  });

  it('prepare, iterate, break, return, throw and close leak nothing', async () => {
    const db = await filled();
    const leaks = watchLeaks(poolOf(db), { kinds: ['cursor'] });
    const stmt = await db.prepare('select x from t order by x');
    for (let round = 0; round < 5; round++) {
      for await (const row of stmt.pluck().iterate()) if ((row as number) > 100) break;
      let n = 0;
      for await (const _ of stmt.iterate()) n++;
      expect(n).toBe(2000);
      const it = stmt.iterate();
      await it.next();
      await it.return!();
      await expect(
        (async () => {
          for await (const _ of stmt.iterate()) throw new Error('out');
        })(),
      ).rejects.toThrow('out');
      // Live cursors while one is open: the watch would see it.
      const open = stmt.iterate();
      await open.next();
      expect(poolOf(db).stats().handles.byKind.cursor).toBe(1);
      await open.return!();
    }
    const report = await leaks.check();
    expect(report.events).toEqual([]);
    expect(stmt.busy).toBe(false);
    await db.close();
    leaks.stop();
  });

  it('an iterator dropped without return() is released by GC and reported with its origin stack', async () => {
    const db = await filled();
    const insert = await db.prepare('insert into t values (0)');
    const stmt = await db.prepare('select x from t');
    const leaks = watchLeaks(poolOf(db), { kinds: ['cursor'] });
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      await openAndDrop(stmt);
      // While the cursor is open, the connection refuses writes (the driver's rule).
      await expect(insert.run()).rejects.toThrow(
        new TypeError('This database connection is busy executing a query'),
      );
      expect(stmt.busy).toBe(true);
      await expect(leaks.check()).rejects.toThrow(/cursor collected[\s\S]*openAndDrop/);
      await new Promise((resolve) => setTimeout(resolve, 20)); // warnings are emitted on the next tick
      const leak = warnings.find((w) => (w as { code?: string }).code === 'UNBLOCK_WARN_LEAK');
      expect(leak?.message).toMatch(/garbage-collected without being closed/);
      expect(leak?.message).toContain('leaks.test.ts');
      // Released: the statement and the connection are free again.
      expect(stmt.busy).toBe(false);
      await expect(insert.run()).resolves.toMatchObject({ changes: 1 });
      expect(poolOf(db).stats().handles.byKind.cursor ?? 0).toBe(0);
    } finally {
      process.off('warning', onWarning);
      leaks.stop();
      await db.close();
    }
  });
});

/** Opens a cursor and forgets it: no break, no return(). */
async function openAndDrop(stmt: Statement): Promise<void> {
  const it = stmt.iterate();
  expect((await it.next()).done).toBe(false);
}

/** The leak events of closing `client` with an iterator over table t open after its first batch. */
async function leaksOfClosingWithIteratorOpen(client: Client): Promise<string[]> {
  const events: string[] = [];
  poolOf(client).leaks.on('leak', (event: { reason: string; kind: string }) =>
    events.push(`${event.reason} ${event.kind}`),
  );
  const it = client.iterate('select x from t', [], { batchSize: 10 });
  await it.next();
  await client.close();
  return events;
}

describe('leaks at close', () => {
  it("the client's close() reports an iterator left open on a reader (closing the readers first forgets their handles)", async () => {
    const { createClient } = await import('@unblock/better-sqlite3');
    const { databaseOf } = await import('@unblock/better-sqlite3/testing');
    const { readersOpen, tempDir } = await import('./helpers.js');
    const tmp = tempDir();
    try {
      const setup = await Database.open(tmp.file('leaks.db'));
      await setup.pragma('journal_mode = WAL');
      await setup.exec(
        'create table t (x); insert into t select x from (with recursive c(x) as (select 1 union all select x + 1 from c where x < 2000) select x from c)',
      );
      await setup.close();
      const client = createClient({ filename: tmp.file('leaks.db'), readers: 2 });
      await client.query('select 1');
      await readersOpen(databaseOf(client), 3);
      expect(await leaksOfClosingWithIteratorOpen(client)).toEqual(['open-at-close cursor']);
    } finally {
      tmp.cleanup();
    }
  });

  it("reports an iterator left open on the writer once, though the client's close reports before the pool's", async () => {
    const { createClient } = await import('@unblock/better-sqlite3');
    const client = createClient({ filename: ':memory:' });
    await client.query('create table t (x)');
    await client.query(
      'insert into t select x from (with recursive c(x) as (select 1 union all select x + 1 from c where x < 2000) select x from c)',
    );
    expect(await leaksOfClosingWithIteratorOpen(client)).toEqual(['open-at-close cursor']);
  });
});
