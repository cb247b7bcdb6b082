import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterEach, describe, expect, it } from 'vitest';

import { CONNECTION_ID_SQL, loadSqliteInterrupt } from '@unblock/sqlite-interrupt';

import { ConnectionWorker, sleep, stopAllWorkers } from './connection-worker.js';

const sqliteInterrupt = loadSqliteInterrupt()!;

// better-sqlite3 ships no types (and @types/better-sqlite3 is not a dependency): this is all the
// test needs of it.
interface Connection {
  loadExtension(path: string, entryPoint?: string): void;
  prepare(sql: string): { pluck(): { get(): unknown } };
  close(): void;
}
const Database = createRequire(import.meta.url)('better-sqlite3') as new (
  filename: string,
) => Connection;

afterEach(stopAllWorkers);

function openInMainThread(): { db: Connection; id: number } {
  const db = new Database(':memory:');
  db.loadExtension(sqliteInterrupt.extensionPath, sqliteInterrupt.entryPoint);
  return { db, id: db.prepare(CONNECTION_ID_SQL).pluck().get() as number };
}

describe('closing a connection', () => {
  it('in a worker unregisters its id', async () => {
    const worker = new ConnectionWorker();
    const before = sqliteInterrupt.registeredCount();
    const { conn, id } = await worker.open(':memory:');
    expect(sqliteInterrupt.isRegistered(id)).toBe(true);
    expect(sqliteInterrupt.registeredCount()).toBe(before + 1);

    await worker.close(conn);

    expect(sqliteInterrupt.isRegistered(id)).toBe(false);
    expect(sqliteInterrupt.interrupt(id)).toBe(false);
    expect(sqliteInterrupt.registeredCount()).toBe(before);
  });

  it('in the main thread unregisters its id', () => {
    const { db, id } = openInMainThread();
    expect(sqliteInterrupt.isRegistered(id)).toBe(true);
    db.close();
    expect(sqliteInterrupt.isRegistered(id)).toBe(false);
    expect(sqliteInterrupt.interrupt(id)).toBe(false);
  });

  it('by ending the worker without close() unregisters its id (better-sqlite3 closes it)', async () => {
    const worker = new ConnectionWorker();
    const { id } = await worker.open(':memory:');
    expect(sqliteInterrupt.isRegistered(id)).toBe(true);
    await worker.stop();
    // Worker teardown closes the connection on the worker's thread; allow it a moment.
    for (let i = 0; i < 50 && sqliteInterrupt.isRegistered(id); i++) await sleep(10);
    expect(sqliteInterrupt.isRegistered(id)).toBe(false);
  });
});

describe('ids', () => {
  it('are unique across connections in several workers and the main thread', async () => {
    const before = sqliteInterrupt.registeredCount();
    const workers = [new ConnectionWorker(), new ConnectionWorker(), new ConnectionWorker()];
    const inWorkers = await Promise.all(
      workers.flatMap((worker) => [worker.open(':memory:'), worker.open(':memory:')]),
    );
    const inMain = [openInMainThread(), openInMainThread()];
    const ids = [...inWorkers, ...inMain].map(({ id }) => id);

    for (const id of ids) expect(Number.isSafeInteger(id) && id > 0).toBe(true);
    expect(new Set(ids).size).toBe(8);
    for (const id of ids) expect(sqliteInterrupt.isRegistered(id)).toBe(true);
    expect(sqliteInterrupt.registeredCount()).toBe(before + 8);

    for (const { db } of inMain) db.close();
    expect(sqliteInterrupt.registeredCount()).toBe(before + 6);
  });

  it('are never reused after a connection closes', () => {
    const first = openInMainThread();
    first.db.close();
    const second = openInMainThread();
    try {
      expect(second.id).toBeGreaterThan(first.id);
      expect(sqliteInterrupt.isRegistered(first.id)).toBe(false);
    } finally {
      second.db.close();
    }
  });

  it('stay the same when the extension is loaded twice on one connection', async () => {
    const worker = new ConnectionWorker();
    const before = sqliteInterrupt.registeredCount();
    const { conn, id } = await worker.open(':memory:');
    expect(await worker.loadAgain(conn)).toBe(id);
    expect(sqliteInterrupt.registeredCount()).toBe(before + 1);
    await worker.close(conn);
    expect(sqliteInterrupt.isRegistered(id)).toBe(false);
  });

  it('are assigned when loadExtension is given no entry point (SQLite derives it from the file name)', async () => {
    const worker = new ConnectionWorker();
    const { conn, id } = await worker.open(':memory:', { entryPoint: false });
    expect(sqliteInterrupt.isRegistered(id)).toBe(true);
    await worker.close(conn);
  });
});

describe('loadedConnectionId()', () => {
  it('gives the id of the connection that last loaded the extension on this thread', async () => {
    const a = new Database(':memory:');
    a.loadExtension(sqliteInterrupt.extensionPath, sqliteInterrupt.entryPoint);
    const idA = sqliteInterrupt.loadedConnectionId();
    expect(idA).toBe(a.prepare(CONNECTION_ID_SQL).pluck().get());
    const b = new Database(':memory:');
    b.loadExtension(sqliteInterrupt.extensionPath, sqliteInterrupt.entryPoint);
    const idB = sqliteInterrupt.loadedConnectionId();
    expect(idB).toBe(b.prepare(CONNECTION_ID_SQL).pluck().get());
    expect(idB).not.toBe(idA);
    // A load on another thread does not change what this one reads.
    const worker = new ConnectionWorker();
    const { conn, id: other } = await worker.open(':memory:');
    expect(other).not.toBe(idB);
    expect(sqliteInterrupt.loadedConnectionId()).toBe(idB);
    // Loaded again, a connection keeps its id, and reports it.
    a.loadExtension(sqliteInterrupt.extensionPath, sqliteInterrupt.entryPoint);
    expect(sqliteInterrupt.loadedConnectionId()).toBe(idA);
    await worker.close(conn);
    a.close();
    b.close();
  });

  it('needs no lock on the database file, where a statement waits for one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sqlite-interrupt-lock-'));
    try {
      const file = join(dir, 'locked.db');
      const holder = new Database(file) as Connection & { exec(sql: string): void };
      holder.exec('create table t (x); begin exclusive; insert into t values (1)');
      const db = new (Database as unknown as new (f: string, o: object) => Connection)(file, {
        timeout: 0,
      });
      db.loadExtension(sqliteInterrupt.extensionPath, sqliteInterrupt.entryPoint);
      const id = sqliteInterrupt.loadedConnectionId();
      expect(sqliteInterrupt.isRegistered(id!)).toBe(true);
      expect(() => db.prepare(CONNECTION_ID_SQL)).toThrow(/locked/);
      holder.exec('commit');
      expect(db.prepare(CONNECTION_ID_SQL).pluck().get()).toBe(id);
      db.close();
      holder.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
