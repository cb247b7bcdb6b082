import { existsSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DataCloneError } from '@unblock/core';
import Database from '@unblock/better-sqlite3';
import { poolOf } from '@unblock/better-sqlite3/testing';
import { outcome, Raw, readersOpen, tempDir } from './helpers.js';

// Behaviours of better-sqlite3 around a connection's state (locks, transactions, open cursors,
// closing), each run on the real driver and on the drop-in side by side.

const tmp = tempDir();
afterAll(() => tmp.cleanup());

let files = 0;
const fresh = (name: string): string => tmp.file(`${name}-${files++}.db`);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A WAL database with one reader and table t of 300 rows (more than a batch), and an iterator
 * over t whose cursor is open on the reader.
 */
async function cursorOnReader(
  name: string,
): Promise<{ drop: Database; rows: AsyncIterableIterator<unknown> }> {
  const drop = new Database(fresh(name), { readers: 1 });
  await drop.pragma('journal_mode = WAL');
  await readersOpen(drop, 2);
  await drop.exec(
    'create table t (x); insert into t with recursive c(x) as (select 1 union all select x + 1 from c where x < 300) select x from c',
  );
  const rows = (await drop.prepare('select x from t')).iterate();
  await rows.next();
  return { drop, rows };
}

/** Both drivers on an in-memory database with table t holding 1, 2, 3 (one batch of rows). */
async function threeRowPair(): Promise<{ raw: typeof Raw; drop: Database }> {
  const raw = new Raw(':memory:');
  const drop = new Database(':memory:');
  for (const db of [raw, drop])
    await db.exec('create table t (x); insert into t values (1), (2), (3)');
  return { raw, drop };
}

describe('state differential: raw better-sqlite3 vs @unblock/better-sqlite3', () => {
  it('opens a database another connection holds locked, and reads it once the lock is gone', async () => {
    const file = fresh('locked');
    const holder = new Raw(file);
    holder.exec('create table t (x); begin exclusive; insert into t values (1)');
    const raw = new Raw(file, { timeout: 50 });
    const drop = new Database(file, { timeout: 50 });
    await expect(drop.ready).resolves.toBe(drop);
    expect(drop.open).toBe(true);
    holder.exec('commit');
    const rawCount = raw.prepare('select count(*) from t').pluck().get();
    const dropCount = await (await drop.prepare('select count(*) from t')).pluck().get();
    expect([rawCount, dropCount]).toEqual([1, 1]);
    raw.close();
    holder.close();
    await drop.close();
  });

  it('reads the Buffer it opens from when constructed, not later', async () => {
    const source = new Raw(':memory:');
    source.exec('create table t (x); insert into t values (42)');
    const image = source.serialize();
    source.close();
    const rawCopy = Buffer.from(image);
    const dropCopy = Buffer.from(image);
    const raw = new Raw(rawCopy);
    const drop = new Database(dropCopy);
    rawCopy.fill(0);
    dropCopy.fill(0);
    const rawValue = raw.prepare('select x from t').pluck().get();
    const dropValue = await (await drop.prepare('select x from t')).pluck().get();
    expect([rawValue, dropValue]).toEqual([42, 42]);
    raw.close();
    await drop.close();
  });

  it('fails and rolls back a transaction whose calls fn did not await when one of them fails', async () => {
    // The driver runs each call inside fn: a failing one throws from fn, and the transaction
    // rolls back. A synchronous fn here leaves its calls in flight when it returns.
    const raw = new Raw(':memory:');
    raw.exec('create table t (x unique)');
    const rawInsert = raw.prepare('insert into t values (?)');
    const rawCall = (): unknown =>
      raw.transaction(() => {
        rawInsert.run(1);
        rawInsert.run(1);
        rawInsert.run(2);
        return 'done';
      })();
    const expected = await outcome(rawCall);
    const rawRows = raw.prepare('select x from t').pluck().all();

    const drop = await Database.open(':memory:');
    await drop.exec('create table t (x unique)');
    const insert = await drop.prepare('insert into t values (?)');
    const calls: Promise<unknown>[] = [];
    // The failure reaches the caller through the transaction, as the driver's throw does: not
    // also as an unhandled rejection of the call nobody awaited (which would end the process).
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): number => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    let actual: unknown;
    try {
      actual = await outcome(() =>
        drop.transaction(() => {
          for (const x of [1, 1, 2]) calls.push(insert.run(x));
          return 'done';
        })(),
      );
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
    expect(expected).toMatchObject({ error: { code: 'SQLITE_CONSTRAINT_UNIQUE' } });
    expect(actual).toEqual(expected);
    expect(drop.inTransaction).toBe(false);
    expect(await (await drop.prepare('select x from t')).pluck().all()).toEqual(rawRows);
    expect((await Promise.allSettled(calls)).map((call) => call.status)).toEqual([
      'fulfilled',
      'rejected',
      'fulfilled',
    ]);

    // An async fn that leaves a failing call behind: the same. One whose failure fn awaited
    // and caught commits, as a caught error does in the driver.
    let left: Promise<unknown> | undefined;
    const lateFailure = await outcome(() =>
      drop.transaction(async () => {
        await insert.run(3);
        left = insert.run(3);
        left.catch(() => undefined);
      })(),
    );
    expect(lateFailure).toEqual(expected);
    const caught = await drop.transaction(async () => {
      await insert.run(4);
      return insert.run(4).then(
        () => 'inserted',
        (err: { code: string }) => err.code,
      );
    })();
    expect(caught).toBe('SQLITE_CONSTRAINT_UNIQUE');
    expect(await (await drop.prepare('select x from t')).pluck().all()).toEqual([4]);
    // Nested: the savepoint is undone, the outer transaction goes on.
    const nested = await drop.transaction(async () => {
      await insert.run(5);
      const inner = await outcome(() =>
        drop.transaction(() => {
          void insert.run(6).catch(() => undefined);
          void insert.run(5).catch(() => undefined);
        })(),
      );
      return inner;
    })();
    expect(nested).toEqual(expected);
    expect(await (await drop.prepare('select x from t')).pluck().all()).toEqual([4, 5]);
    // A nested transaction fn did not await is such a call: it runs before COMMIT, inside, and
    // its failure fails the outer one, as its throw goes through the driver's outer fn.
    const inner = (x: number): Promise<unknown> =>
      drop.transaction(async () => {
        await insert.run(x);
        if (x === 7) throw new Error('inner');
      })();
    expect(
      await drop.transaction(() => {
        void inner(6);
        return 'outer';
      })(),
    ).toBe('outer');
    const failedInner = await outcome(() =>
      drop.transaction(() => {
        void insert.run(8);
        inner(7).catch(() => undefined);
      })(),
    );
    expect(failedInner).toMatchObject({ error: { message: 'inner' } });
    expect(await (await drop.prepare('select x from t')).pluck().all()).toEqual([4, 5, 6]);
    // A failing call that waits for a setup step (db.function()) before it is sent: still one
    // of the transaction's calls, as in the driver (where it runs, and throws, inside fn).
    const afterSetup = await outcome(() =>
      drop.transaction(() => {
        void insert.run(9).catch(() => undefined);
        drop.function('identity', (x: unknown) => x);
        void insert.run(9).catch(() => undefined);
      })(),
    );
    expect(afterSetup).toEqual(expected);
    expect(await (await drop.prepare('select x from t')).pluck().all()).toEqual([4, 5, 6]);
    await drop.close();
  });

  it('runs transaction functions made on a raw BEGIN from two async contexts one after the other', async () => {
    const drop = new Database(fresh('savepoints'));
    await drop.exec('create table t (x)');
    const insert = await drop.prepare('insert into t values (?)');
    await drop.exec('BEGIN');
    const failing = drop.transaction(async () => {
      await insert.run(1);
      await sleep(30);
      throw new Error('A');
    });
    const succeeding = drop.transaction(async () => {
      await insert.run(2);
      return 'B';
    });
    const first = outcome(() => failing());
    await sleep(5);
    expect(await succeeding()).toBe('B');
    expect(await first).toMatchObject({ error: { message: 'A' } });
    await drop.exec('COMMIT');
    // Raw better-sqlite3 can only run them in turn: A rolls back its savepoint, B's row stays.
    const raw = new Raw(':memory:');
    raw.exec('create table t (x); BEGIN');
    const rawInsert = raw.prepare('insert into t values (?)');
    expect(() =>
      raw.transaction(() => {
        rawInsert.run(1);
        throw new Error('A');
      })(),
    ).toThrow('A');
    raw.transaction(() => rawInsert.run(2))();
    raw.exec('COMMIT');
    const rows = raw.prepare('select x from t').pluck().all();
    expect(rows).toEqual([2]);
    expect(await (await drop.prepare('select x from t')).pluck().all()).toEqual(rows);
    raw.close();
    await drop.close();
  });

  it('nests a transaction function made right after an un-awaited raw BEGIN in that transaction', async () => {
    const raw = new Raw(':memory:');
    const drop = new Database(':memory:');
    const results: unknown[] = [];
    for (const db of [raw, drop]) {
      await db.exec('create table t (x)');
      const insert = await db.prepare('insert into t values (?)');
      // Not awaited: in the driver, BEGIN has run before transaction() is called.
      const opening = db.exec('BEGIN');
      const nested = await outcome(() => db.transaction(() => insert.run(1))());
      await opening;
      const open = db.inTransaction;
      await db.exec('ROLLBACK');
      const rows = await (await db.prepare('select count(*) from t')).pluck().get();
      results.push({ nested, open, rows });
    }
    expect(results[0]).toEqual({
      nested: { ok: { changes: 1, lastInsertRowid: 1 } },
      open: true,
      rows: 0,
    });
    expect(results[1]).toEqual(results[0]);
    raw.close();
    await drop.close();
  });

  it('makes a read from outside a transaction function on a raw BEGIN wait for it, and read inside the raw transaction', async () => {
    const drop = new Database(fresh('raw-begin-reads'), { readers: 1 });
    await drop.pragma('journal_mode = WAL');
    await readersOpen(drop, 2);
    await drop.exec('create table t (x)');
    const insert = await drop.prepare('insert into t values (?)');
    const count = await drop.prepare('select count(*) from t');
    await drop.exec('BEGIN');
    await insert.run(1);
    let started!: () => void;
    const running = new Promise<void>((resolve) => (started = resolve));
    const inner = drop.transaction(async () => {
      await insert.run(2);
      started();
      await sleep(30);
    })();
    await running;
    // The driver would have run the whole transaction function first: the read sees both rows
    // (a reader would see none: nothing is committed).
    const seen = await count.pluck().get();
    await inner;
    expect(seen).toBe(2);
    await drop.exec('ROLLBACK');
    expect(await count.pluck().get()).toBe(0);
    await drop.close();
  });

  it('refuses a transaction function while an iterator is open, even one whose rows all arrived', async () => {
    const { raw, drop } = await threeRowPair();
    const rawRows = raw.prepare('select x from t').iterate();
    rawRows.next();
    const dropRows = (await drop.prepare('select x from t')).iterate();
    await dropRows.next();
    const rawTx = await outcome(() => raw.transaction(() => 1)());
    const dropTx = await outcome(() => drop.transaction(async () => 1)());
    expect(rawTx).toMatchObject({ error: { name: 'TypeError' } });
    expect(dropTx).toEqual(rawTx);
    rawRows.return();
    await dropRows.return?.();
    expect(await drop.transaction(async () => 1)()).toBe(1);
    raw.close();
    await drop.close();
  });

  it('refuses to commit while an iterator opened inside the transaction is still open, and leaves no transaction open', async () => {
    const { raw, drop } = await threeRowPair();
    const rawSelect = raw.prepare('select x from t');
    let rawRows: IterableIterator<unknown> | undefined;
    const rawTx = await outcome(() =>
      raw.transaction(() => {
        raw.prepare('insert into t values (4)').run();
        rawRows = rawSelect.iterate();
        rawRows!.next();
      })(),
    );
    const dropSelect = await drop.prepare('select x from t');
    const dropInsert = await drop.prepare('insert into t values (4)');
    let dropRows: AsyncIterator<unknown> | undefined;
    const dropTx = await outcome(() =>
      drop.transaction(async () => {
        await dropInsert.run();
        dropRows = dropSelect.iterate();
        await dropRows.next();
      })(),
    );
    expect(rawTx).toMatchObject({ error: { name: 'TypeError' } });
    expect(dropTx).toEqual(rawTx);
    // Raw better-sqlite3 leaves its transaction open (its ROLLBACK is refused too); the drop-in
    // rolls back, so no transaction stays open behind the caller's back.
    await dropRows?.return?.();
    rawRows?.return?.();
    expect(raw.inTransaction).toBe(true);
    raw.exec('rollback');
    expect(drop.inTransaction).toBe(false);
    expect(await (await drop.prepare('select count(*) from t')).pluck().get()).toBe(3);
    raw.close();
    await drop.close();
  });

  it('defines functions asked for while a reader holds a cursor, once the cursor is closed', async () => {
    const { drop, rows } = await cursorOnReader('reader-cursor');
    // The worker thread that runs it (self-contained: it is sent to the workers as source).
    drop.function('thread', () => process.getBuiltinModule('node:worker_threads').threadId);
    drop.aggregate('total', { start: 0, step: (sum: number, x: number) => sum + x });
    await rows.return?.();
    const read = await drop.prepare('select thread() as thread, total(x) as total from t');
    // Inside a transaction, everything runs on the writer.
    const onWriter = drop.transaction(async () => read.get());
    const { thread: writerThread } = (await onWriter()) as { thread: number };
    // A statement the reader cannot compile (a definition it never took) runs on the writer
    // instead, with the same total: only the thread tells that the reader answered.
    const { thread, total } = (await read.get()) as { thread: number; total: number };
    expect(total).toBe(45150);
    expect(poolOf(drop).threadIds()).toContain(thread);
    expect(thread).not.toBe(writerThread);
    expect(await (await drop.prepare('select count(*) from t')).pluck().get()).toBe(300);
    await drop.close();
  });

  it('defines a function whose module loads slowly on a reader holding a cursor, before its next read', async () => {
    const { drop, rows } = await cursorOnReader('reader-cursor-slow-module');
    // Loaded at once by the first worker that imports it, 150 ms later by the other.
    const slow = new URL('./fixtures/slow-to-load-udf.mjs', import.meta.url);
    slow.searchParams.set('lock', fresh('udf-lock'));
    drop.function('thread', { module: slow, export: 'thread' });
    await drop.prepare('select 1'); // a call after function() waits until the writer has it
    await rows.return?.();
    // Sent once the cursor is closed: the reader must take the definition first, although its
    // module may still be loading.
    const read = await drop.prepare('select thread() as thread');
    const writer = drop.transaction(async () => read.get());
    const { thread: writerThread } = (await writer()) as { thread: number };
    const { thread } = (await read.get()) as { thread: number };
    expect(poolOf(drop).threadIds()).toContain(thread);
    expect(thread).not.toBe(writerThread);
    await drop.close();
  });

  it('lets unsafeMode() turned on while a cursor is open on the writer allow a write beside it', async () => {
    const { raw, drop } = await threeRowPair();
    // More rows than the first batch: the cursor stays open in the writer's worker too.
    const fill = `create table w (x); create table many (x);
      insert into many with recursive c(x) as (select 1 union all select x + 1 from c where x < 200) select x from c`;
    for (const db of [raw, drop]) await db.exec(fill);
    const rawRows = raw.prepare('select x from many').iterate();
    rawRows.next();
    raw.unsafeMode();
    const rawWrite = raw.prepare('insert into w values (1)').run();
    // In memory, no readers: the cursor is on the writer, which must take the toggle at once.
    const dropRows = (await drop.prepare('select x from many')).iterate();
    await dropRows.next();
    drop.unsafeMode();
    const dropWrite = await (await drop.prepare('insert into w values (1)')).run();
    expect(dropWrite.changes).toBe(rawWrite.changes);
    rawRows.return();
    await dropRows.return?.();
    raw.close();
    await drop.close();
  });

  it('treats an explicit undefined toggle as the driver does, and checks in its order', async () => {
    const raw = new Raw(':memory:');
    const drop = new Database(':memory:');
    const rawSelect = raw.prepare('select 1');
    const dropSelect = await drop.prepare('select 1');
    const rawWrite = raw.prepare('create table t (x)');
    const dropWrite = await drop.prepare('create table t (x)');
    const cases: [string, () => unknown, () => unknown][] = [
      ['pluck(undefined)', () => rawSelect.pluck(undefined), () => dropSelect.pluck(undefined)],
      ['raw(undefined)', () => rawSelect.raw(undefined), () => dropSelect.raw(undefined)],
      ['expand(undefined)', () => rawSelect.expand(undefined), () => dropSelect.expand(undefined)],
      [
        'safeIntegers(undefined)',
        () => rawSelect.safeIntegers(undefined),
        () => dropSelect.safeIntegers(undefined),
      ],
      [
        'defaultSafeIntegers(undefined)',
        () => raw.defaultSafeIntegers(undefined),
        () => drop.defaultSafeIntegers(undefined),
      ],
      ['unsafeMode(undefined)', () => raw.unsafeMode(undefined), () => drop.unsafeMode(undefined)],
      [
        "pluck('x') on a statement returning no data",
        () => rawWrite.pluck('x'),
        () => dropWrite.pluck('x' as never),
      ],
    ];
    for (const [name, onRaw, onDrop] of cases) {
      const rawSide = await outcome(onRaw);
      expect(rawSide, name).toMatchObject({ error: { name: 'TypeError' } });
      expect(await outcome(onDrop), name).toEqual(rawSide);
    }
    raw.close();
    await drop.close();
  });

  it('answers calls on a closed database with "not open" before looking at their arguments', async () => {
    const raw = new Raw(':memory:');
    const drop = new Database(':memory:');
    const rawFree = raw.prepare('select ?');
    const rawBound = raw.prepare('select ?').bind(1);
    const dropFree = await drop.prepare('select ?');
    const dropBound = (await drop.prepare('select ?')).bind(1);
    raw.close();
    await drop.close();
    const cases: [string, () => unknown, () => unknown][] = [
      ['bind()', () => rawFree.bind(1), () => dropFree.bind(1)],
      ['get() with arguments on a bound statement', () => rawBound.get(2), () => dropBound.get(2)],
      ['get() with too many arguments', () => rawFree.get(1, 2), () => dropFree.get(1, 2)],
    ];
    for (const [name, onRaw, onDrop] of cases) {
      const rawSide = await outcome(onRaw);
      expect(rawSide, name).toMatchObject({
        error: { message: 'The database connection is not open' },
      });
      expect(await outcome(onDrop), name).toEqual(rawSide);
    }
  });

  it('refuses transaction() itself on a closed database, after checking its argument', async () => {
    const raw = new Raw(':memory:');
    const drop = new Database(':memory:');
    raw.close();
    await drop.close();
    const cases: [string, (db: any) => unknown][] = [
      ['transaction(fn)', (db) => db.transaction(() => 1)],
      ['transaction(1)', (db) => db.transaction(1)],
    ];
    for (const [name, call] of cases) {
      let rawThrew: unknown;
      try {
        call(raw);
      } catch (err) {
        rawThrew = [(err as Error).name, (err as Error).message];
      }
      expect(rawThrew, name).toBeDefined();
      expect(() => call(drop), name).toThrow((rawThrew as string[])[1]);
    }
  });

  it('makes transaction functions on a closed database once one was made before, whose calls fail', async () => {
    const raw = new Raw(':memory:');
    const drop = new Database(':memory:');
    // The driver prepares its BEGIN, COMMIT... with the first transaction function, and keeps them.
    raw.transaction(() => 0);
    drop.transaction(() => 0);
    raw.close();
    await drop.close();
    let ran = 0;
    const body = (): number => ++ran;
    const rawMade = raw.transaction(body);
    const dropMade = drop.transaction(body);
    expect([typeof rawMade, typeof dropMade]).toEqual(['function', 'function']);
    for (const variant of ['default', 'deferred', 'immediate', 'exclusive'] as const) {
      const rawSide = await outcome(() => rawMade[variant]());
      expect(rawSide, variant).toMatchObject({
        error: { name: 'TypeError', message: 'The database connection is not open' },
      });
      expect(await outcome(() => dropMade[variant]()), variant).toEqual(rawSide);
    }
    expect(ran).toBe(0);
  });

  it('builds SqliteError messages as the driver does', () => {
    const messages: unknown[] = ['m', '', undefined, null, 1, { toString: () => 'object' }];
    for (const message of messages) {
      const rawError = new Raw.SqliteError(message, 'CODE');
      const dropError = new Database.SqliteError(message as string, 'CODE');
      expect([dropError.message, dropError.code, Object.keys(dropError)]).toEqual([
        rawError.message,
        rawError.code,
        Object.keys(rawError),
      ]);
    }
  });

  it('takes parameter values when the call is made, also while a setup step is under way, and in iterate()', async () => {
    const raw = new Raw(':memory:');
    const drop = new Database(':memory:');
    const pair = async (db: any): Promise<[any, any]> => [
      await db.prepare('select ? as a, hex(?) as h'),
      await db.prepare('select :n as n'),
    ];
    const [rawPositional, rawNamed] = await pair(raw);
    const [dropPositional, dropNamed] = await pair(drop);
    const rows = async (
      iterator: AsyncIterable<unknown> | Iterable<unknown>,
    ): Promise<unknown[]> => {
      const all: unknown[] = [];
      for await (const row of iterator) all.push(row);
      return all;
    };
    /** Calls made with values that change right after the calls. */
    const mutated = async (positional: any, named: any): Promise<unknown[]> => {
      const list = [1];
      const bytes = new Uint8Array([1]);
      const values = { n: 1 };
      const iterated = [1];
      const calls = [
        positional.get(list, bytes),
        named.get(values),
        named.all(values),
        positional.iterate(iterated, bytes),
      ];
      list[0] = 2;
      bytes[0] = 2;
      values.n = 2;
      iterated[0] = 2;
      return [await calls[0], await calls[1], await calls[2], await rows(await calls[3])];
    };
    const setups: [string, (db: any, i: number) => void][] = [
      ['none', () => undefined],
      ['defaultSafeIntegers(false)', (db) => db.defaultSafeIntegers(false)],
      ['unsafeMode(false)', (db) => db.unsafeMode(false)],
      ['function()', (db, i) => db.function(`f${i}`, () => 1)],
    ];
    for (const [[name, setup], i] of setups.map((entry, index) => [entry, index] as const)) {
      setup(raw, i);
      const expected = await mutated(rawPositional, rawNamed);
      setup(drop, i);
      expect(await mutated(dropPositional, dropNamed), name).toEqual(expected);
    }
    // runMany (not in the driver) likewise takes its rows when called, packed or not.
    await drop.exec('create table t (x, y)');
    const insert = await drop.prepare('insert into t values (?, ?)');
    const insertNamed = await drop.prepare('insert into t values (:x, :y)');
    drop.function('g', () => 1);
    const packed = [[1, 'a']];
    const named = [{ x: 1, y: 'a' }];
    const inserted = [insert.runMany(packed), insertNamed.runMany(named)];
    packed[0][0] = 2;
    named[0].x = 2;
    await Promise.all(inserted);
    expect(await (await drop.prepare('select x from t')).pluck().all()).toEqual([1, 1]);
    raw.close();
    await drop.close();
  });

  it("keeps a statement's properties fixed, as the driver does", async () => {
    const raw = new Raw(':memory:');
    const drop = new Database(':memory:');
    const rawStmt = raw.prepare('select 1');
    const dropStmt = await drop.prepare('select 1');
    for (const key of ['source', 'reader', 'readonly', 'database']) {
      const rawDescriptor = Object.getOwnPropertyDescriptor(rawStmt, key);
      expect(Object.getOwnPropertyDescriptor(dropStmt, key), key).toMatchObject({
        writable: rawDescriptor?.writable,
        enumerable: rawDescriptor?.enumerable,
        configurable: rawDescriptor?.configurable,
      });
      expect(() => delete (dropStmt as unknown as Record<string, unknown>)[key], key).toThrow(
        TypeError,
      );
    }
    raw.close();
    await drop.close();
  });

  it("shows a statement's and an iterator's own properties as the driver does", async () => {
    // What Object.keys(), util.inspect() and JSON.stringify() show: the statement's fixed
    // properties in the driver's order (its `busy` is a getter here, documented), and an
    // iterator whose only own property is its statement, fixed, and nothing internal.
    const raw = new Raw(':memory:');
    const drop = new Database(':memory:');
    const rawStmt = raw.prepare('select 1');
    const dropStmt = await drop.prepare('select 1');
    expect(Object.keys(dropStmt)).toEqual(Object.keys(rawStmt).filter((key) => key !== 'busy'));
    const rawRows = rawStmt.iterate();
    const dropRows = dropStmt.iterate();
    expect(Object.keys(dropRows)).toEqual(Object.keys(rawRows));
    expect(Object.getOwnPropertyNames(dropRows)).toEqual(Object.getOwnPropertyNames(rawRows));
    expect(Object.getOwnPropertyDescriptor(dropRows, 'statement')).toEqual({
      ...Object.getOwnPropertyDescriptor(rawRows, 'statement'),
      value: dropStmt,
    });
    rawRows.return();
    await dropRows.return?.();
    raw.close();
    await drop.close();
  });

  it('opens the file of the working directory it was made in, on the writer and the readers', async () => {
    // The driver opens a relative path in its constructor; the workers open it later (the
    // readers only once the database is in WAL mode), after the process may have moved.
    const here = process.cwd();
    const made = tmp.file('cwd-made');
    const moved = tmp.file('cwd-moved');
    mkdirSync(made);
    mkdirSync(moved);
    const elsewhere = new Raw(join(moved, 'drop.db'));
    elsewhere.exec('create table t (x); insert into t values (99)');
    elsewhere.close();
    let raw: typeof Raw;
    let drop: Database;
    try {
      process.chdir(made);
      raw = new Raw('raw.db');
      drop = new Database('drop.db', { readers: 1 });
      process.chdir(moved);
      for (const db of [raw, drop]) await db.exec('create table t (x); insert into t values (1)');
      await drop.pragma('journal_mode = WAL');
      await readersOpen(drop, 2);
      const read = await drop.prepare('select x from t');
      expect(read.readonly).toBe(true); // so it runs on the reader
      expect(await read.pluck().all()).toEqual(raw.prepare('select x from t').pluck().all());
    } finally {
      process.chdir(here);
    }
    expect([existsSync(join(made, 'raw.db')), existsSync(join(made, 'drop.db'))]).toEqual([
      true,
      true,
    ]);
    raw.close();
    await drop.close();
  });

  it('loads a relative nativeBinding from the working directory it was made in', async () => {
    const addon = createRequire(import.meta.url).resolve(
      'better-sqlite3/build/Release/better_sqlite3.node',
    );
    const here = process.cwd();
    let drop: Database;
    try {
      process.chdir(dirname(addon));
      // Without its .node extension, as the driver allows.
      const nativeBinding = './better_sqlite3';
      new Raw(':memory:', { nativeBinding }).close();
      drop = new Database(':memory:', { nativeBinding });
      process.chdir(tmp.dir);
    } finally {
      process.chdir(here);
    }
    await expect(drop.ready).resolves.toBe(drop);
    expect(await (await drop.prepare('select 1 as one')).get()).toEqual({ one: 1 });
    await drop.close();
  });

  it('reports no transaction once close() is called, with a raw BEGIN open', async () => {
    const raw = new Raw(':memory:');
    const drop = new Database(':memory:');
    raw.exec('BEGIN');
    await drop.exec('BEGIN');
    expect([raw.inTransaction, drop.inTransaction]).toEqual([true, true]);
    raw.close();
    const closing = drop.close();
    expect([raw.inTransaction, drop.inTransaction]).toEqual([false, false]);
    await closing;
  });

  it("does not look at a varargs function's length", async () => {
    const raw = new Raw(':memory:');
    const drop = new Database(':memory:');
    const oddLength = (): ((...args: unknown[]) => number) => {
      const fn = (...args: unknown[]): number => args.length;
      Object.defineProperty(fn, 'length', { value: -1 });
      return fn;
    };
    raw.function('n', { varargs: true }, oddLength());
    drop.function('n', { varargs: true }, oddLength());
    raw.aggregate('c', { varargs: true, start: 0, step: oddLength() });
    drop.aggregate('c', { varargs: true, start: 0, step: oddLength() });
    const sql = 'select n(1, 2, 3) as n, c(1, 2) as c';
    expect(await (await drop.prepare(sql)).get()).toEqual(raw.prepare(sql).get());
    // Without varargs the length is checked, by both.
    const rawRefusal = await outcome(() => raw.function('m', oddLength()));
    expect(rawRefusal).toMatchObject({ error: { name: 'TypeError' } });
    expect(await outcome(() => drop.function('m', oddLength()))).toEqual(rawRefusal);
    raw.close();
    await drop.close();
  });

  it("refuses at once an aggregate's start value that cannot reach a worker, and goes on working", async () => {
    const drop = new Database(':memory:');
    class Counter {
      n = 0;
    }
    expect(() =>
      drop.aggregate('counted', { start: new Counter(), step: (c: Counter) => c }),
    ).toThrow(DataCloneError);
    expect(await (await drop.prepare('select 1')).pluck().get()).toBe(1);
    drop.aggregate('summed', { start: 0, step: (sum: number, x: number) => sum + x });
    expect(
      await (
        await drop.prepare('select summed(x) from (select 2 as x union all select 3)')
      )
        .pluck()
        .get(),
    ).toBe(5);
    await drop.close();
  });
});
