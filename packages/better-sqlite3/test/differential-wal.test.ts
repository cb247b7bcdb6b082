import { copyFileSync, existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import Database from '@unblock/better-sqlite3';
import { poolOf } from '@unblock/better-sqlite3/testing';
import { outcome, Raw, readersOpen, tempDir } from './helpers.js';

// A file database in WAL mode, on the real driver and on the drop-in (whose reader connections
// share the file with its writer): what close() leaves on disk, and leaving WAL mode.

const tmp = tempDir();
afterAll(() => tmp.cleanup());

let files = 0;
const fresh = (name: string): string => tmp.file(`${name}-${files++}.db`);

/** The files next to the database: which of -wal and -shm exist. */
const leftOver = (file: string): string[] =>
  ['-wal', '-shm'].filter((suffix) => existsSync(file + suffix));

/**
 * What the main file holds by itself: a copy of it alone (no -wal beside it) opened in DELETE
 * mode, so commits still in a -wal file would be missing.
 */
function mainFileAlone(file: string): unknown {
  const copy = `${file}.alone`;
  copyFileSync(file, copy);
  const db = new Raw(copy);
  try {
    db.pragma('journal_mode = DELETE');
    return {
      applicationId: db.pragma('application_id', { simple: true }),
      rows: db.prepare('select x from t order by x').pluck().all(),
    };
  } catch (err) {
    return (err as Error).message; // no such table: its creation is in the -wal file
  } finally {
    db.close();
  }
}

/** The worker thread a statement ran on (as a SQL function, defined on every connection). */
function defineThread(db: Database): void {
  db.function('thread', () => process.getBuiltinModule('node:worker_threads').threadId);
}

/** Reads in parallel until one ran on a reader (a thread other than `writer`). */
async function readOnReaders(db: Database, writer: number): Promise<void> {
  const where = await db.prepare('select thread() from t limit 1');
  for (let attempt = 0; attempt < 50; attempt++) {
    const threads = await Promise.all([1, 2, 3, 4].map(() => where.pluck().get()));
    if (threads.some((thread) => thread !== writer)) return;
  }
  throw new Error('no read ran on a reader');
}

/** The writer's thread: a transaction's reads run on the writer. */
async function writerThread(db: Database): Promise<number> {
  const where = await db.prepare('select thread()');
  return (await db.transaction(() => where.pluck().get())()) as number;
}

/**
 * Both drivers on a WAL file database whose table t holds 1 to `rows`; ours with its readers
 * open and having read (from then on they keep the WAL open).
 */
async function walPair(
  name: string,
  rows = 1,
): Promise<{ raw: any; drop: Database; writer: number }> {
  const raw = new Raw(fresh(`raw-${name}`));
  const drop = new Database(fresh(`drop-${name}`), { readers: 2, timeout: 1000 });
  defineThread(drop);
  const fill = `create table t (x); with recursive n(x) as (select 1 union all select x + 1 from n where x < ${rows}) insert into t select x from n`;
  for (const db of [raw, drop]) {
    await db.pragma('journal_mode = WAL');
    await db.exec(fill);
  }
  const writer = await writerThread(drop);
  await readersOpen(drop, 3);
  await readOnReaders(drop, writer);
  return { raw, drop, writer };
}

describe('WAL differential: raw better-sqlite3 vs @unblock/better-sqlite3', () => {
  it('leaves only the main file after close(), holding every commit, as the driver does', async () => {
    const raw = new Raw(fresh('raw-close'));
    raw.pragma('journal_mode = WAL');
    raw.exec('create table t (x); insert into t values (1), (2)');
    raw.pragma('application_id = 99');
    raw.prepare('select count(*) from t').get();
    raw.close();
    expect(leftOver(raw.name)).toEqual([]);
    const expected = mainFileAlone(raw.name);
    expect(expected).toEqual({ applicationId: 99, rows: [1, 2] });

    // Closed in parallel, the writer was not always the last connection (2 runs in 8 left the
    // -wal and -shm files): repeated so that the order is tried many times.
    for (let run = 0; run < 12; run++) {
      const file = fresh('drop-close');
      const db = new Database(file, { readers: 2 });
      await db.pragma('journal_mode = WAL');
      await db.exec('create table t (x); insert into t values (1), (2)');
      await db.pragma('application_id = 99');
      await readersOpen(db, 3);
      const count = await db.prepare('select count(*) from t');
      await Promise.all([count.get(), count.get(), count.get(), count.get()]);
      await db.close();
      const found = { run, left: leftOver(file), main: mainFileAlone(file) };
      expect(found).toEqual({ run, left: [], main: expected });
    }
  });

  it('leaves WAL mode (pragma, exec, prepared statement) once the readers have read, and reads on the writer then', async () => {
    const { raw, drop, writer } = await walPair('leave');
    const rawCount = raw.prepare('select count(*) from t').pluck();
    const dropCount = await drop.prepare('select count(*) from t');
    const mode = async (): Promise<unknown[]> => [
      raw.pragma('journal_mode', { simple: true }),
      await drop.pragma('journal_mode', { simple: true }),
    ];

    // The readers hold the WAL open once they have read: SQLite answered SQLITE_BUSY.
    const viaPragma = raw.pragma('journal_mode = DELETE');
    // Not awaited: a call made after it waits for it, and sees the new mode.
    const changing = drop.pragma('journal_mode = DELETE');
    const after = drop.pragma('journal_mode', { simple: true });
    expect(await outcome(() => changing)).toEqual({ ok: viaPragma });
    expect(await after).toBe('delete');
    expect(await mode()).toEqual(['delete', 'delete']);
    // Reads run on the writer now, as for any database not in WAL mode.
    expect(poolOf(drop).stats().sessions).toBe(1);
    expect(await dropCount.pluck().get()).toBe(rawCount.get());

    // Back to WAL: the readers come back, and are closed again by exec().
    expect(await drop.pragma('journal_mode = WAL', { simple: true })).toBe(
      raw.pragma('journal_mode = WAL', { simple: true }),
    );
    await readersOpen(drop, 3);
    await readOnReaders(drop, writer);
    raw.exec('pragma journal_mode = TRUNCATE');
    expect(await outcome(() => drop.exec('pragma journal_mode = TRUNCATE'))).toEqual({
      ok: drop,
    });
    expect(await mode()).toEqual(['truncate', 'truncate']);

    // And by a prepared statement.
    await drop.pragma('journal_mode = WAL');
    raw.pragma('journal_mode = WAL');
    await readersOpen(drop, 3);
    await readOnReaders(drop, writer);
    const rawStmt = raw.prepare("pragma journal_mode = 'delete'");
    const dropStmt = await drop.prepare("pragma journal_mode = 'delete'");
    expect(await outcome(() => dropStmt.get())).toEqual({ ok: rawStmt.get() });
    expect(await mode()).toEqual(['delete', 'delete']);

    // Writes and reads go on in the mode left, on both.
    raw.exec('insert into t values (2)');
    await drop.exec('insert into t values (2)');
    expect(await dropCount.pluck().get()).toBe(rawCount.get());
    raw.close();
    await drop.close();
  });

  it('locks the file exclusively once the readers have read, and lets them read again with NORMAL', async () => {
    const { raw, drop, writer } = await walPair('exclusive');
    const rawCount = raw.prepare('select count(*) from t').pluck();
    const dropCount = await drop.prepare('select count(*) from t');

    expect(await drop.pragma('locking_mode = EXCLUSIVE')).toEqual(
      raw.pragma('locking_mode = EXCLUSIVE'),
    );
    // The write waited for the readers' locks until the busy timeout, then failed.
    raw.exec('insert into t values (2)');
    expect(await outcome(() => drop.exec('insert into t values (2)'))).toEqual({ ok: drop });
    expect(await dropCount.pluck().get()).toBe(rawCount.get());
    expect(poolOf(drop).stats().sessions).toBe(1);

    // NORMAL again: the readers come back, and can read (the writer let its lock go).
    expect(await drop.pragma('locking_mode = NORMAL')).toEqual(raw.pragma('locking_mode = NORMAL'));
    await readersOpen(drop, 3);
    await readOnReaders(drop, writer);
    expect(await dropCount.pluck().get()).toBe(rawCount.get());
    raw.close();
    await drop.close();
  });

  it('reads made right after an un-awaited BEGIN or SAVEPOINT run in that transaction, as on the driver', async () => {
    const { raw, drop } = await walPair('begin');
    const rawCount = raw.prepare('select count(*) from t').pluck();
    const dropCount = (await drop.prepare('select count(*) from t')).pluck();
    const dropBegin = await drop.prepare('begin');
    const opens = [
      ['exec begin', () => raw.exec('begin'), () => drop.exec('begin')],
      ['prepared begin', () => raw.prepare('begin').run(), () => dropBegin.run()],
      ['savepoint', () => raw.exec('savepoint s'), () => drop.exec('savepoint s')],
    ] as const;
    for (const [how, rawOpen, dropOpen] of opens) {
      rawOpen();
      raw.exec('insert into t values (2)');
      const expected = [how, rawCount.get(), raw.inTransaction];
      raw.exec('rollback');
      // Not awaited: in the driver each call has run before the next one is made.
      const opening = dropOpen();
      const insert = drop.exec('insert into t values (2)');
      const count = dropCount.get();
      await Promise.all([opening, insert]);
      expect([how, await count, drop.inTransaction]).toEqual(expected);
      await drop.exec('rollback');
    }
    expect(await dropCount.get()).toBe(rawCount.get());
    raw.close();
    await drop.close();
  });

  it('keeps reads on the readers while a write whose SQL only mentions begin or savepoint is on its way', async () => {
    const { drop, writer } = await walPair('not-begin');
    await drop.exec('create table spans (id integer primary key, begin, savepoint)');
    const writes = [
      "insert into spans (begin, savepoint) values (1, 'begin')",
      '/* begin */ update spans set begin = 2',
      'update spans set savepoint = 3 where begin = 2',
    ];
    const where = await drop.prepare('select thread() as thread');
    for (const sql of writes) {
      const write = drop.exec(sql); // not awaited: it is on its way as the read is made
      const { thread } = (await where.get()) as { thread: number };
      await write;
      expect(thread, sql).not.toBe(writer);
    }
    await drop.close();
  });

  it('refuses to leave WAL mode while an iterator is open on a reader, as the driver refuses while its own is', async () => {
    const { raw, drop } = await walPair('cursor', 200);
    const rawRows = raw.prepare('select x from t').pluck().iterate();
    const dropRows = (await drop.prepare('select x from t')).pluck().iterate();
    expect((await dropRows.next()).value).toBe(rawRows.next().value);
    // The cursor is on a reader: the writer has none open (a write would be refused).
    expect(await outcome(() => drop.exec('select 1'))).toEqual({ ok: drop });
    expect(await outcome(() => drop.pragma('journal_mode = DELETE'))).toEqual(
      await outcome(() => raw.pragma('journal_mode = DELETE')),
    );
    // The iterator goes on, and once it is done the mode changes.
    let rawSum = 0;
    let dropSum = 0;
    for (const x of rawRows) rawSum += x as number;
    for await (const x of dropRows) dropSum += x as number;
    expect(dropSum).toBe(rawSum);
    expect(await drop.pragma('journal_mode = DELETE')).toEqual(raw.pragma('journal_mode = DELETE'));
    raw.close();
    await drop.close();
  });
});
