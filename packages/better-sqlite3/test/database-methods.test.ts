import { createRequire } from 'node:module';
import { afterAll, describe, expect, it } from 'vitest';
import { withCallOptions } from '@unblock/core';
import Database, { SqliteError } from '@unblock/better-sqlite3';
import { poolOf } from '@unblock/better-sqlite3/testing';
import { outcome, Raw, readersOpen, tempDir, type Outcome } from './helpers.js';

const tmp = tempDir();
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
afterAll(() => tmp.cleanup());

const require = createRequire(import.meta.url);
/** better-sqlite3's own test extension: it registers `testExtensionFunction(...)`, the argument count as a REAL. */
const EXTENSION = require.resolve('better-sqlite3/build/Release/test_extension.node');

/** ~250 pages, so a backup takes several steps and calls `progress`. */
const FILL = `
  create table t (id integer primary key, b blob);
  insert into t (b) select randomblob(1000) from (with recursive c(x) as (select 1 union all select x + 1 from c where x < 1000) select x from c);
`;

describe('backup', () => {
  it('resolves to the driver result shape and writes a valid copy', async () => {
    const db = await Database.open(tmp.file('source.db'));
    await db.exec(FILL);
    const raw = new Raw(tmp.file('source.db'), { readonly: true });
    const expected = await raw.backup(tmp.file('raw-copy.db'), { progress: () => 10 });
    const actual = await db.backup(tmp.file('copy.db'), { progress: () => 10 });
    expect(actual).toEqual(expected);
    expect(actual.totalPages).toBeGreaterThan(200);
    expect(actual.remainingPages).toBe(0);
    const copy = new Raw(tmp.file('copy.db'), { readonly: true, fileMustExist: true });
    expect(copy.pragma('integrity_check', { simple: true })).toBe('ok');
    expect(copy.prepare('select id, b from t order by id').all()).toEqual(
      raw.prepare('select id, b from t order by id').all(),
    );
    copy.close();
    raw.close();
    await db.close();
  });

  it('runs progress in the worker: a throw there aborts the backup, as in the driver', async () => {
    const db = await Database.open(tmp.file('progress.db'));
    await db.exec(FILL);
    const raw = new Raw(tmp.file('progress.db'), { readonly: true });
    const stop = (): number => {
      throw new RangeError('stop here');
    };
    const expected = await outcome(() =>
      raw.backup(tmp.file('raw-stopped.db'), { progress: stop }),
    );
    const actual = await outcome(() => db.backup(tmp.file('stopped.db'), { progress: stop }));
    expect(expected).toMatchObject({ error: { name: 'RangeError', message: 'stop here' } });
    expect(actual).toEqual(expected);
    raw.close();
    expect(await (await db.prepare('select count(*) from t')).pluck().get()).toBe(1000);
    await db.close();
  });

  it('an aborted backup stops between its steps, and the writer answers again', async () => {
    // A progress returning 0 asks for no pages: the driver's backup then never ends, but its
    // connection keeps answering. Ours runs on the writer, so the abort must end it there.
    const raw = new Raw(tmp.file('endless-raw.db'));
    raw.exec(FILL);
    const rawBackup = outcome(() =>
      raw.backup(tmp.file('endless-raw-copy.db'), { progress: () => 0 }),
    );
    await sleep(20);
    expect(raw.prepare('insert into t (b) values (null)').run().changes).toBe(1);
    raw.close();
    expect(await rawBackup).toMatchObject({
      error: { message: 'The database connection is not open' },
    });

    const db = await Database.open(tmp.file('endless.db'));
    await db.exec(FILL);
    const aborted = await outcome(() =>
      withCallOptions({ timeout: 100 }, () =>
        db.backup(tmp.file('endless-copy.db'), { progress: () => 0 }),
      ),
    );
    expect(aborted).toMatchObject({ error: { name: 'AbortError', code: 'ABORT_ERR' } });
    // Without the stop, this waits behind the endless backup until its timeout.
    const insert = await outcome(() =>
      withCallOptions({ timeout: 5000 }, async () =>
        (await db.prepare('insert into t (b) values (null)')).run(),
      ),
    );
    expect(insert).toEqual({ ok: { changes: 1, lastInsertRowid: 1001 } });
    // The stop was for that call only: the next backup runs to its end.
    const next = await db.backup(tmp.file('after-abort.db'), { progress: () => 50 });
    expect(next.remainingPages).toBe(0);
    await db.close();
  });

  it('rejects (never throws) the driver argument errors, and the db stays usable', async () => {
    const raw = new Raw(':memory:');
    const db = await Database.open(':memory:');
    const cases: [string, unknown?][] = [
      [':memory:'],
      [tmp.file('no/such/dir/x.db')],
      [''],
      [tmp.file('ok.db'), { attached: 5 }],
      [tmp.file('ok.db'), { attached: '' }],
    ];
    for (const [dest, options] of cases) {
      let thrown = false;
      let promise: Promise<unknown> | undefined;
      try {
        promise = db.backup(dest, options as never);
      } catch {
        thrown = true;
      }
      expect(thrown, dest).toBe(false);
      const actual = await outcome(() => promise);
      expect(actual, dest).toEqual(await outcome(() => raw.backup(dest, options)));
      expect(actual, dest).toMatchObject({ error: { name: 'TypeError' } });
    }
    expect(await (await db.prepare('select 1 as one')).get()).toEqual({ one: 1 });
    raw.close();
    await db.close();
  });
});

describe('loadExtension', () => {
  it('loads the extension on the writer and on the readers', async () => {
    const raw = new Raw(':memory:');
    raw.loadExtension(EXTENSION);
    const expected = raw.prepare('select testExtensionFunction(1, 2, 3) as n').get();
    expect(expected).toEqual({ n: 3 });
    raw.close();

    const db = await Database.open(tmp.file('ext.db'), { readers: 1 });
    await db.pragma('journal_mode = WAL');
    await readersOpen(db, 2);
    db.loadExtension(EXTENSION);
    const read = await db.prepare('select testExtensionFunction(1, 2, 3) as n');
    expect(read.readonly).toBe(true); // so it runs on the reader
    expect(await read.get()).toEqual(expected);
    // On the writer: inside a transaction everything runs there.
    expect(await db.transaction(() => read.get())()).toEqual(expected);
    await db.close();
  });

  it('a missing extension rejects the first call made after it, with the driver error; then the db works', async () => {
    const raw = new Raw(':memory:');
    const expected = await outcome(() => raw.loadExtension(tmp.file('missing-extension')));
    raw.close();
    const db = await Database.open(':memory:');
    db.loadExtension(tmp.file('missing-extension'));
    const actual = await outcome(() => db.prepare('select 1'));
    expect(expected).toMatchObject({ error: { name: 'SqliteError', code: 'SQLITE_ERROR' } });
    expect(actual).toEqual(expected);
    expect(await (await db.prepare('select 2 as two')).get()).toEqual({ two: 2 });
    await expect(db.prepare('select testExtensionFunction()')).rejects.toBeInstanceOf(SqliteError);
    expect(() => db.loadExtension(5 as never)).toThrow(
      new TypeError('Expected first argument to be a string'),
    );
    await db.close();
  });

  it('refuses an entry point given as undefined, as the driver does', async () => {
    // The driver counts its arguments: a second one, even `undefined`, must be a string.
    const raw = new Raw(':memory:');
    const db = await Database.open(':memory:');
    for (const args of [
      [EXTENSION, undefined],
      [EXTENSION, null],
      [EXTENSION, 5],
    ] as const) {
      const expected = await outcome(() => raw.loadExtension(...args));
      expect(expected).toEqual({
        error: {
          name: 'TypeError',
          message: 'Expected second argument to be a string',
          code: undefined,
          native: true,
        },
      });
      expect(await outcome(() => db.loadExtension(...(args as unknown as [string])))).toEqual(
        expected,
      );
    }
    // Nothing was loaded, and no call fails for it.
    expect(await (await db.prepare('select 1 as one')).get()).toEqual({ one: 1 });
    raw.close();
    await db.close();
  });
});

describe('loadExtension failures', () => {
  // The driver keeps nothing of a failed loadExtension(): it throws once, and the connection is
  // as before. The drop-in replays setup steps on every connection it opens later and sends them
  // to every reader, so a failed step must leave no trace and be reported once.
  const missingExtension = async (): Promise<Outcome> => {
    const raw = new Raw(':memory:');
    const expected = await outcome(() => raw.loadExtension(tmp.file('missing-extension')));
    raw.close();
    return expected;
  };

  it('a failed extension is not loaded on connections opened later: the readers still open', async () => {
    const db = await Database.open(tmp.file('ext-then-wal.db'), { readers: 2 });
    db.loadExtension(tmp.file('missing-extension'));
    expect(await outcome(() => db.exec('select 1'))).toEqual(await missingExtension());
    await db.pragma('journal_mode = WAL');
    await readersOpen(db, 3);
    await db.close();
  });

  it('with readers open, the failure rejects one call, not later ones too', async () => {
    const db = await Database.open(tmp.file('ext-with-readers.db'), { readers: 4 });
    await db.pragma('journal_mode = WAL');
    await db.exec('create table t (x); insert into t values (1)');
    await readersOpen(db, 5);
    const read = await db.prepare('select x from t');
    db.loadExtension(tmp.file('missing-extension'));
    expect(await outcome(() => db.exec('select 1'))).toEqual(await missingExtension());
    // Reads reach every reader, each after the step it was sent: its outcome has arrived.
    const later: Outcome[] = [];
    for (let round = 0; round < 20; round++) {
      later.push(
        ...(await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map(() => outcome(() => read.get())))),
      );
    }
    later.push(await outcome(() => db.exec('select 1')));
    expect(later.filter((o) => !('ok' in o))).toEqual([]);
    await db.close();
  });

  it("added while the writer's worker is gone, the failure rejects one call, and the writer reopens", async () => {
    // Without an interrupt hook, an aborted statement is stopped by terminating its worker.
    const db = await Database.open(tmp.file('ext-writer-gone.db'), { interrupt: false });
    await db.exec('create table t (x); insert into t values (1)');
    const slow = await db.prepare(
      'with recursive c(x) as (select 1 union all select x + 1 from c where x < 3000000) select count(*) from c',
    );
    const controller = new AbortController();
    const stopped = withCallOptions({ signal: controller.signal }, () => slow.get());
    for (let i = 0; i < 2000 && poolOf(db).stats().running !== 1; i++) await sleep(1);
    controller.abort();
    expect(await outcome(() => stopped)).toMatchObject({ error: { name: 'AbortError' } });
    while (poolOf(db).stats().sessions > 0) await sleep(1); // the writer's session is gone
    db.loadExtension(tmp.file('missing-extension'));
    expect(await outcome(() => db.exec('select 1'))).toEqual(await missingExtension());
    const count = await db.prepare('select count(*) as n from t');
    expect(await outcome(() => count.get())).toEqual({ ok: { n: 1 } });
    await db.close();
  });

  it('added while the database opens, the failure rejects the first call', async () => {
    const db = new Database(':memory:');
    db.loadExtension(tmp.file('missing-extension'));
    expect(await outcome(() => db.exec('select 1'))).toEqual(await missingExtension());
    expect(await outcome(() => db.exec('select 1'))).toEqual({ ok: db });
    await db.close();
  });
});

describe('unsafeMode', () => {
  for (const unsafe of [false, true]) {
    it(`${unsafe ? 'allows' : 'refuses'} writes while iterating on the connection, as the driver`, async () => {
      const sql =
        'create table t (x); insert into t select value from json_each(json_array(1, 2, 3, 4, 5));';
      const raw = new Raw(':memory:');
      raw.exec(sql);
      if (unsafe) raw.unsafeMode();
      const db = await Database.open(':memory:');
      await db.exec(sql);
      if (unsafe) db.unsafeMode();

      const rawIt = raw.prepare('select x from t').iterate();
      rawIt.next();
      const it = (await db.prepare('select x from t')).iterate();
      await it.next();
      const ops: [string, () => unknown, () => unknown][] = [
        [
          'run',
          () => raw.prepare('insert into t values (6)').run(),
          async () => (await db.prepare('insert into t values (6)')).run(),
        ],
        [
          'exec',
          () => raw.exec('insert into t values (7)') === raw,
          async () => (await db.exec('insert into t values (7)')) === db,
        ],
        ['pragma', () => raw.pragma('user_version = 3'), () => db.pragma('user_version = 3')],
      ];
      for (const [name, rawOp, op] of ops) {
        const expected = await outcome(rawOp);
        expect(expected, name).toMatchObject(
          unsafe ? { ok: expect.anything() } : { error: { name: 'TypeError' } },
        );
        expect(await outcome(op), name).toEqual(expected);
      }
      rawIt.return();
      await it.return!();
      const count = 'select count(*) from t';
      expect(await (await db.prepare(count)).pluck().get()).toBe(raw.prepare(count).pluck().get());
      raw.close();
      await db.close();
    });
  }
});

describe('defaultSafeIntegers', () => {
  it('applies to statements prepared afterwards, and lastInsertRowid follows it (differential)', async () => {
    const raw = new Raw(':memory:');
    const db = await Database.open(':memory:');
    const schema = 'create table t (id integer primary key, n integer)';
    raw.exec(schema);
    await db.exec(schema);
    const results = async (target: 'raw' | 'ours'): Promise<unknown[]> => {
      const out: unknown[] = [];
      const prepare = async (
        sql: string,
      ): Promise<{ run(...a: unknown[]): unknown; all(): unknown }> =>
        target === 'raw' ? raw.prepare(sql) : db.prepare(sql);
      const toggle = (...on: [boolean?]): void =>
        void (target === 'raw' ? raw.defaultSafeIntegers(...on) : db.defaultSafeIntegers(...on));
      const before = await prepare('select n from t order by id');
      const insertBefore = await prepare('insert into t (n) values (?)');
      toggle();
      const after = await prepare('select n from t order by id');
      const insertAfter = await prepare('insert into t (n) values (?)');
      out.push(
        await insertBefore.run(2 ** 40),
        await insertAfter.run(7n),
        await before.all(),
        await after.all(),
      );
      toggle(false);
      out.push(await (await prepare('select n from t order by id')).all(), await after.all());
      return out;
    };
    const expected = await results('raw');
    expect(expected[1]).toEqual({ changes: 1, lastInsertRowid: 2n });
    expect(await results('ours')).toStrictEqual(expected);
    expect(() => db.defaultSafeIntegers('yes' as never)).toThrow(TypeError);
    raw.close();
    await db.close();
  });
});

describe('serialize', () => {
  it('round-trips into new Database(buffer), which is independent of the source', async () => {
    const db = await Database.open(tmp.file('serialize.db'));
    await db.exec(FILL);
    const buffer = await db.serialize();
    expect(Buffer.isBuffer(buffer)).toBe(true);
    const raw = new Raw(tmp.file('serialize.db'), { readonly: true });
    expect(buffer.length).toBe(raw.serialize().length);
    const copy = await Database.open(buffer);
    const rawCopy = new Raw(buffer);
    expect([copy.memory, copy.name]).toEqual([rawCopy.memory, rawCopy.name]);
    rawCopy.close();
    const all = 'select id, hex(b) as b from t order by id';
    expect(await (await copy.prepare(all)).all()).toEqual(raw.prepare(all).all());
    await copy.exec('delete from t');
    expect(await (await db.prepare('select count(*) from t')).pluck().get()).toBe(1000);
    expect(await (await copy.prepare('select count(*) from t')).pluck().get()).toBe(0);
    raw.close();
    await Promise.all([db.close(), copy.close()]);
  });
});
