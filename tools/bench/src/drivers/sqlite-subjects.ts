// The SQLite drivers a trial can measure, behind one small interface so each trial is written
// once: raw better-sqlite3 on the main thread (the baseline), the @unblock/better-sqlite3
// drop-in, and node-sqlite3 (a peer that runs queries on libuv's thread pool). Every driver
// is imported dynamically with a non-literal specifier: the bench builds and runs without
// the drop-in built or node-sqlite3 installed, and says so instead.
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { withCallOptions } from '@unblock/core';

export const RAW = 'better-sqlite3 (main thread)';
export const DROP_IN = '@unblock/better-sqlite3';
export const NODE_SQLITE3 = 'sqlite3 (node-sqlite3)';

/** better-sqlite3's synchronous surface, as far as the bench uses it (no @types installed). */
interface RawStatement {
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  run(...params: unknown[]): { changes: number };
}
interface RawDatabase {
  prepare(sql: string): RawStatement;
  exec(sql: string): unknown;
  pragma(source: string): unknown;
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
  close(): void;
}
type RawConstructor = new (filename: string) => RawDatabase;

/** The drop-in's documented asynchronous surface. */
interface DropInStatement {
  get(...params: unknown[]): Promise<unknown>;
  all(...params: unknown[]): Promise<unknown[]>;
  run(...params: unknown[]): Promise<{ changes: number }>;
  runMany(list: unknown[][]): Promise<unknown>;
}
interface DropInDatabase {
  ready: Promise<unknown>;
  prepare(sql: string): Promise<DropInStatement>;
  transaction(fn: () => Promise<void>): unknown;
  close(): unknown;
}
type DropInConstructor = new (filename: string) => DropInDatabase;

/** node-sqlite3's callback surface. */
interface NodeSqlite3Statement {
  get(params: unknown[], cb: (err: Error | null, row: unknown) => void): void;
  all(params: unknown[], cb: (err: Error | null, rows: unknown[]) => void): void;
  finalize(cb?: () => void): void;
}
interface NodeSqlite3Database {
  prepare(sql: string, cb: (err: Error | null) => void): NodeSqlite3Statement;
  interrupt(): void;
  close(cb: (err: Error | null) => void): void;
}
type NodeSqlite3Module = {
  Database: new (filename: string, cb: (err: Error | null) => void) => NodeSqlite3Database;
};

/**
 * What a SQLite trial does, per driver. A method may return synchronously (raw driver).
 *
 * @example
 * ```ts
 * const db = await openSubject(DROP_IN, fixture);
 * await db.pointGet(42);
 * ```
 */
export interface SqliteSubject {
  /** `SELECT * FROM t WHERE id = ?` */
  pointGet(id: number): unknown;
  /** `SELECT * FROM t` (every row of the fixture). */
  allRows(): unknown;
  /** A recursive count to `n`; with a signal, aborted through it. */
  count(n: number, signal?: AbortSignal): unknown;
  /** False when the driver cannot abort a running query at all (it blocks the caller). */
  readonly canAbort: boolean;
  /** Inserts `rows` into `table` in one transaction, the driver's fastest way. */
  insertBatch?(table: string, rows: unknown[][]): unknown;
  /** Inserts `rows` into `table` in one transaction, one awaited `run()` each. */
  insertAwaited?(table: string, rows: unknown[][]): unknown;
  close(): unknown;
}

/** Rows of the point-select table. */
export const FIXTURE_ROWS = 10_000;
const COUNT_SQL =
  'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ?) SELECT count(*) AS n FROM c';
/** No upper bound: runs until interrupted. */
export const FOREVER = Number.MAX_SAFE_INTEGER;

async function load<T>(specifier: string): Promise<T> {
  const mod = (await import(specifier)) as { default?: T };
  return (mod.default ?? mod) as T;
}

/**
 * A database file seeded by raw better-sqlite3 before anything is measured, so every driver
 * reads the same data. Call `remove()` when done.
 *
 * @example
 * ```ts
 * const fixture = await createFixture(['ins_0']);
 * ```
 */
export interface SqliteFixture {
  filename: string;
  /** The raw driver (already open on the file), for set-up and calibration. */
  raw: RawDatabase;
  remove(): void;
}

/**
 * Creates the fixture file: table `t` with FIXTURE_ROWS rows, plus empty `extraTables`.
 *
 * @example
 * ```ts
 * const fixture = await createFixture(['ins_0', 'ins_1']);
 * ```
 */
export async function createFixture(extraTables: readonly string[] = []): Promise<SqliteFixture> {
  const Database = await load<RawConstructor>('better-sqlite3');
  const filename = join(tmpdir(), `unblock-bench-${process.pid}.db`);
  const remove = (): void => {
    for (const suffix of ['', '-wal', '-shm', '-journal'])
      rmSync(filename + suffix, { force: true });
  };
  remove();
  const raw = new Database(filename);
  raw.pragma('journal_mode = WAL');
  raw.exec(
    'CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, email TEXT, score REAL, created INTEGER)',
  );
  for (const table of extraTables)
    raw.exec(`CREATE TABLE ${table} (id INTEGER PRIMARY KEY, name TEXT, score REAL)`);
  const insert = raw.prepare('INSERT INTO t VALUES (?, ?, ?, ?, ?)');
  raw.transaction(() => {
    for (let i = 1; i <= FIXTURE_ROWS; i++) {
      insert.run(i, `user ${i}`, `user${i}@example.com`, i / 7, 1_700_000_000 + i);
    }
  })();
  return {
    filename,
    raw,
    remove() {
      raw.close();
      remove();
    },
  };
}

/**
 * The `n` for which the recursive count takes about `ms` on this machine (raw, main thread).
 *
 * @example
 * ```ts
 * const n = calibrateCount(fixture, 200);
 * ```
 */
export function calibrateCount(fixture: SqliteFixture, ms: number): number {
  const stmt = fixture.raw.prepare(COUNT_SQL);
  const probe = 200_000;
  stmt.get(probe);
  const t0 = performance.now();
  stmt.get(probe);
  const took = performance.now() - t0;
  return Math.round((probe * ms) / took);
}

/** `rows` as `INSERT INTO table VALUES (?, ?, ?)` argument lists. */
export function insertRows(n: number): unknown[][] {
  return Array.from({ length: n }, (_, i) => [i + 1, `name ${i}`, i / 3]);
}

function callTransaction(db: DropInDatabase, fn: () => Promise<void>): Promise<unknown> {
  // The drop-in mirrors better-sqlite3: transaction(fn) returns a function to call. Should it
  // run at once instead (returning a promise), that works too.
  const tx = db.transaction(fn);
  return Promise.resolve(typeof tx === 'function' ? (tx as () => unknown)() : tx);
}

/**
 * Opens `driver` on the fixture file.
 *
 * @example
 * ```ts
 * const subject = await openSubject(RAW, fixture);
 * ```
 */
export async function openSubject(driver: string, fixture: SqliteFixture): Promise<SqliteSubject> {
  if (driver === RAW) {
    const Database = await load<RawConstructor>('better-sqlite3');
    const db = new Database(fixture.filename);
    const point = db.prepare('SELECT * FROM t WHERE id = ?');
    const all = db.prepare('SELECT * FROM t');
    const count = db.prepare(COUNT_SQL);
    const insert = (table: string, rows: unknown[][]): void => {
      const stmt = db.prepare(`INSERT INTO ${table} VALUES (?, ?, ?)`);
      db.transaction(() => {
        for (const row of rows) stmt.run(row);
      })();
    };
    return {
      pointGet: (id) => point.get(id),
      allRows: () => all.all(),
      count: (n) => count.get(n),
      canAbort: false,
      insertBatch: insert,
      insertAwaited: insert,
      close: () => db.close(),
    };
  }
  if (driver === DROP_IN) {
    const Database = await load<DropInConstructor>('@unblock/better-sqlite3');
    const db = new Database(fixture.filename);
    await db.ready;
    const point = await db.prepare('SELECT * FROM t WHERE id = ?');
    const all = await db.prepare('SELECT * FROM t');
    const count = await db.prepare(COUNT_SQL);
    return {
      pointGet: (id) => point.get(id),
      allRows: () => all.all(),
      count: (n, signal) =>
        signal === undefined ? count.get(n) : withCallOptions({ signal }, () => count.get(n)),
      canAbort: true,
      async insertBatch(table, rows) {
        const stmt = await db.prepare(`INSERT INTO ${table} VALUES (?, ?, ?)`);
        await callTransaction(db, async () => {
          await stmt.runMany(rows);
        });
      },
      async insertAwaited(table, rows) {
        const stmt = await db.prepare(`INSERT INTO ${table} VALUES (?, ?, ?)`);
        await callTransaction(db, async () => {
          for (const row of rows) await stmt.run(row);
        });
      },
      close: () => db.close(),
    };
  }
  if (driver === NODE_SQLITE3) {
    const sqlite3 = await load<NodeSqlite3Module>('sqlite3');
    const db = await new Promise<NodeSqlite3Database>((resolve, reject) => {
      const opened: NodeSqlite3Database = new sqlite3.Database(fixture.filename, (err) =>
        err ? reject(err) : resolve(opened),
      );
    });
    const prepare = (sql: string): Promise<NodeSqlite3Statement> =>
      new Promise((resolve, reject) => {
        const stmt = db.prepare(sql, (err) => (err ? reject(err) : resolve(stmt)));
      });
    const point = await prepare('SELECT * FROM t WHERE id = ?');
    const all = await prepare('SELECT * FROM t');
    const count = await prepare(COUNT_SQL);
    const get = (stmt: NodeSqlite3Statement, params: unknown[]): Promise<unknown> =>
      new Promise((resolve, reject) =>
        stmt.get(params, (err, row) => (err ? reject(err) : resolve(row))),
      );
    return {
      pointGet: (id) => get(point, [id]),
      allRows: () =>
        new Promise((resolve, reject) =>
          all.all([], (err, rows) => (err ? reject(err) : resolve(rows))),
        ),
      count(n, signal) {
        signal?.addEventListener('abort', () => db.interrupt(), { once: true });
        return get(count, [n]);
      },
      canAbort: true,
      close: () =>
        new Promise<void>((resolve) => {
          for (const stmt of [point, all, count]) stmt.finalize();
          db.close(() => resolve());
        }),
    };
  }
  throw new Error(`unknown SQLite driver ${driver}`);
}
