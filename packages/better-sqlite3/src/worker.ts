// The worker side: one better-sqlite3 connection per session. Statements are cached per
// connection by their SQL text, so a statement prepared on the caller's side can run on the
// writer or on any reader without a handle per connection; only cursors are handles.
import { createRequire } from 'node:module';
import { loadSqliteInterrupt } from '@unblock/sqlite-interrupt';
import {
  defineDriver,
  loadPortableFunction,
  registerErrorClass,
  RowSet,
  type HandleRef,
  type OperationContext,
} from '@unblock/core/worker';
import type {
  BackupProgress,
  NativeDatabase,
  NativeDatabaseConstructor,
  NativeStatement,
} from './native-types.js';
import {
  Mode,
  MODE_MASK,
  refusedWhileIterating,
  SAFE_INTEGERS,
  MODE_PRAGMA,
  SAVEPOINT,
  StateSlot,
  WITH_NAMES,
  type ConnectionInfo,
  type ConnectionOptions,
  type NamedRows,
  type SetupStep,
} from './wire.js';

const require = createRequire(import.meta.url);
const Database = require('better-sqlite3') as NativeDatabaseConstructor;
registerErrorClass(Database.SqliteError, 'SqliteError');

/** Statements kept per connection; the least recently used beyond this are dropped (and GC'd). */
const CACHE_SIZE = 512;
/**
 * Results of up to this many rows come back as better-sqlite3's own row objects. Larger ones go
 * as a RowSet (rows as arrays, packed by column past a few, chunked), which needs the column
 * names: `stmt.columns()` costs 4.2 µs a call here (5 columns), against 0.45 µs a row for
 * better-sqlite3 to build the objects, so a one-row `all()` spent more on its names than on its
 * row. Measured with 5 columns, 64 calls in flight: 1 row 100k -> 148k calls/s, 4 rows 90k ->
 * 110k; from 6 rows on, objects cost the caller more than the names cost the worker.
 */
const OBJECT_ROWS_MAX = 4;

interface Entry {
  stmt: NativeStatement;
  mode: number;
  /** Its safeIntegers setting; undefined until a call sets it (it began as the connection's). */
  safe: boolean | undefined;
  /** The statement may change the journal or locking mode: the WAL slot is refreshed after it runs. */
  journal: boolean;
  /** Its last `all()` returned at most OBJECT_ROWS_MAX rows: the next runs in object mode. */
  fewRows: boolean;
}

interface Connection {
  db: NativeDatabase;
  cache: Map<string, Entry>;
  state: Int32Array | undefined;
  interruptId: number | undefined;
  tx: Record<string, NativeStatement>;
  /** Cursors open on this connection, not yet released. */
  cursors: number;
  /** A read transaction of ours is open over a batch of reads (see joinReadBatch). */
  readBatch: boolean;
  /** Settings the driver refused while a cursor was open: applied once the last one closes. */
  pendingSettings: LoadedSetup[];
  /** The journal mode could not be read yet (see publish). */
  journalUnknown: boolean;
  /** The locking mode was EXCLUSIVE when last read (see publish). */
  exclusive: boolean;
}

interface Cursor {
  iterator: IterableIterator<unknown>;
  conn: Connection;
  /** The shape the caller asked for, and the names its batches travel with (none: as objects). */
  mode: number;
  columns: string[] | undefined;
  /** What reading a row threw after the last batch's rows were read: the next `next` throws it. */
  failure: RowFailure | undefined;
}

/** A thrown value, wrapped: anything can be thrown, `undefined` included. */
interface RowFailure {
  error: unknown;
}

/**
 * On a reader, reads that arrived together run in one read transaction instead of one each.
 * Starting and ending a WAL read transaction takes and drops a lock on the shared-memory file
 * (fcntl calls, and a mutex the process's connections share), which is most of a point
 * select's cost: measured here, 6.1 µs per select in autocommit mode against 1.85 µs for
 * selects run sixteen to a transaction. Only reads received before the batch began join it
 * (core ends a batch before a later call), so a read sent after a write resolved still sees
 * that write. Not while a cursor is open: better-sqlite3 refuses COMMIT then.
 */
function joinReadBatch(conn: Connection, ctx: OperationContext): void {
  if (conn.readBatch || !ctx.moreQueued || conn.state !== undefined || conn.cursors > 0) return;
  if (conn.db.inTransaction) return;
  txStatement(conn, 'BEGIN').run();
  conn.readBatch = true;
}

/** Ends the batch's read transaction, if one is open. Never throws (core's endBatch contract). */
function endReadBatch(conn: Connection): void {
  if (!conn.readBatch) return;
  // A read transaction ends without error, but never leave one open: it would hide later writes.
  try {
    if (conn.db.inTransaction) txStatement(conn, 'COMMIT').run();
  } catch {
    try {
      if (conn.db.inTransaction) txStatement(conn, 'ROLLBACK').run();
    } catch {
      // Left to the next endBatch, which tries again.
    }
  }
  conn.readBatch = conn.db.inTransaction;
}

/**
 * A row object as a plain one: better-sqlite3 makes a blob column named `__proto__` its row's
 * prototype, which no copy to another thread keeps; its own keys stay.
 */
function plainRow<T>(row: T): T {
  if (typeof row !== 'object' || row === null) return row;
  const proto = Object.getPrototypeOf(row) as object | null;
  return proto === Object.prototype || proto === null ? row : ({ ...row } as T);
}

/**
 * An expanded row (`{ table: { column: value } }`) with plain objects at both levels (see
 * plainRow): in expand mode, a blob column named `__proto__` becomes the prototype of its
 * table's object, which would fail the copy to the caller's thread.
 */
function plainExpanded<T>(row: T): T {
  const outer = plainRow(row);
  if (typeof outer !== 'object' || outer === null) return outer;
  const tables = outer as Record<string, unknown>;
  for (const name of Object.keys(tables)) tables[name] = plainRow(tables[name]);
  return outer;
}

/**
 * Row objects as a RowSet, so that a result larger than expected still travels in chunks. Their
 * own keys are the columns as better-sqlite3 made them (a duplicate name once, no `__proto__`),
 * in the order the rebuilt objects will have again.
 */
function rowSetOf(objects: Record<string, unknown>[], extra?: unknown): RowSet {
  const columns = Object.keys(objects[0]);
  const rows = objects.map((row) => columns.map((name) => row[name]));
  return new RowSet(columns, rows, 'object', extra);
}

/**
 * Rows read in raw mode, as a RowSet in the shape of `mode` (object, raw or pluck). Object rows
 * lose their `__proto__` columns: better-sqlite3 sets each key by assignment, so such a column
 * never becomes an own key (a blob would become the row's prototype, which no copy to another
 * thread keeps), where core's row objects would keep it as one.
 */
function rowSetIn(mode: number, columns: string[], rows: unknown[][], extra?: unknown): RowSet {
  if (mode === Mode.pluck) {
    // Only the first column is handed out: the others need not travel.
    return new RowSet(
      columns.slice(0, 1),
      rows.map((row) => row.slice(0, 1)),
      'pluck',
      extra,
    );
  }
  if (mode === Mode.raw) return new RowSet(columns, rows, 'array', extra);
  if (!columns.includes('__proto__')) return new RowSet(columns, rows, 'object', extra);
  const kept = columns.flatMap((name, c) => (name === '__proto__' ? [] : [c]));
  return new RowSet(
    kept.map((c) => columns[c]),
    rows.map((row) => kept.map((c) => row[c])),
    'object',
    extra,
  );
}

/**
 * The column names of a statement that just ran, read from the driver every time, though that
 * costs more than a few rows (see OBJECT_ROWS_MAX): nothing cheaper tells that they changed. Row
 * objects do not show them all (a duplicate name is one key, a `__proto__` column none), so a
 * schema change that recompiles a `select *` can add a column its keys never show; and
 * `PRAGMA schema_version` misses a change to an attached database's schema. Read after running:
 * the driver reflects a recompiled statement only then.
 */
function namesOf(stmt: NativeStatement): string[] {
  return stmt.columns().map((c) => c.name);
}

/** An entry for a statement just prepared: object mode, the connection's integer setting. */
function createEntry(stmt: NativeStatement, journal: boolean): Entry {
  return { stmt, mode: Mode.object, safe: undefined, journal, fewRows: false };
}

function entryOf(conn: Connection, sql: string): Entry {
  const { cache } = conn;
  let entry = cache.get(sql);
  if (entry !== undefined) {
    // Map order is insertion order: re-inserting makes this the most recently used.
    if (cache.size > 64) {
      cache.delete(sql);
      cache.set(sql, entry);
    }
    return entry;
  }
  entry = createEntry(conn.db.prepare(sql), MODE_PRAGMA.test(sql));
  cache.set(sql, entry);
  if (cache.size > CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  return entry;
}

/** Puts the statement in the mode and integer setting of this call (native calls only on change). */
function prepareCall(entry: Entry, flags: number, mode: number): NativeStatement {
  const { stmt } = entry;
  const safe = (flags & SAFE_INTEGERS) !== 0;
  if (safe !== entry.safe) {
    stmt.safeIntegers(safe);
    entry.safe = safe;
  }
  if (mode !== entry.mode && stmt.reader) {
    if (mode === Mode.object) stmt.raw(false).pluck(false).expand(false);
    else if (mode === Mode.pluck) stmt.pluck(true);
    else if (mode === Mode.raw) stmt.raw(true);
    else stmt.expand(true);
    entry.mode = mode;
  }
  return stmt;
}

/**
 * Publishes the writer's state for the caller. The journal and locking modes are read when
 * `journal` says they may have changed, and until they could be read once: reading the journal
 * mode takes a lock on the file, which another connection may hold when this one opens
 * (better-sqlite3's constructor reads nothing, so the open must not fail for that; until then
 * reads stay on the writer).
 */
function publish(conn: Connection, journal: boolean): void {
  const { state } = conn;
  if (state === undefined) return;
  state[StateSlot.inTransaction] = conn.db.inTransaction ? 1 : 0;
  if (!journal && !conn.journalUnknown) return;
  try {
    const { db } = conn;
    const wal = isWal(db);
    const exclusive =
      String(db.pragma('locking_mode', { simple: true })).toLowerCase() === 'exclusive';
    // Back to NORMAL, SQLite drops the lock EXCLUSIVE kept only when the file is next read: read
    // it now, or the readers about to come back would wait for it (and time out).
    if (conn.exclusive && !exclusive && !db.inTransaction) db.pragma('schema_version');
    conn.exclusive = exclusive;
    state[StateSlot.wal] = wal && !exclusive ? 1 : 0;
    conn.journalUnknown = false;
  } catch {
    // Locked (SQLITE_BUSY), or not readable yet: read again after the next call.
    conn.journalUnknown = true;
  }
}

function isWal(db: NativeDatabase): boolean {
  return String(db.pragma('journal_mode', { simple: true })).toLowerCase() === 'wal';
}

/**
 * Up to `count` rows of `iterator`, and whether it ended. An error after some of them were read
 * is not thrown at once but returned as `failure`: the driver hands out each row before it reads
 * the next, so those rows are the caller's, and the error belongs to the `next()` after them.
 * The cursor throws it at its next call, through the path every error of a call takes (a value
 * that cannot cross to the caller's thread becomes core's DataCloneError there, where in a
 * batch's reply it would fail the rows with it).
 */
function take(
  iterator: IterableIterator<unknown>,
  count: number,
): { rows: unknown[]; done: boolean; failure: RowFailure | undefined } {
  const rows: unknown[] = [];
  try {
    while (rows.length < count) {
      const next = iterator.next();
      if (next.done === true) return { rows, done: true, failure: undefined };
      rows.push(next.value);
    }
  } catch (error) {
    if (rows.length === 0) throw error;
    return { rows, done: false, failure: { error } };
  }
  return { rows, done: false, failure: undefined };
}

/** A batch of a cursor's rows, whether they were its last, and (first batch) its handle. */
function batchOf(cursor: Cursor, rows: unknown[], d: boolean, h: HandleRef | undefined): unknown {
  if (cursor.columns === undefined)
    return { r: cursor.mode === Mode.expand ? rows.map(plainExpanded) : rows, d, h };
  return rowSetIn(cursor.mode, cursor.columns, rows as unknown[][], { d, h });
}

function withLength<F extends (...args: never[]) => unknown>(fn: F, length: number): F {
  Object.defineProperty(fn, 'length', { value: length });
  return fn;
}

/** A setup step, loaded: applying it to a connection is synchronous. */
type LoadedSetup = (db: NativeDatabase) => void;

/**
 * Loads what a setup step needs (its functions, which may be imported) and returns its
 * application to a connection. That part is synchronous, so a step a reader deferred while a
 * cursor was open applies as the cursor closes, before the connection's next call runs.
 */
async function loadSetup(step: SetupStep): Promise<LoadedSetup> {
  switch (step.k) {
    case 'function': {
      const fn = withLength(await loadPortableFunction(step.fn), step.length);
      return (db) => void db.function(step.name, step.options, fn);
    }
    case 'aggregate': {
      const options: Record<string, unknown> = { ...step.options };
      options.start =
        'fn' in step.start
          ? withLength(await loadPortableFunction(step.start.fn), step.start.length)
          : step.start.value;
      options.step = withLength(await loadPortableFunction(step.step), step.stepLength);
      if (step.inverse !== undefined) {
        options.inverse = withLength(await loadPortableFunction(step.inverse), step.inverseLength);
      }
      if (step.result !== undefined) options.result = await loadPortableFunction(step.result);
      return (db) => void db.aggregate(step.name, options);
    }
    case 'table': {
      if (step.def === undefined) {
        const factory = await loadPortableFunction(step.factory);
        return (db) => void db.table(step.name, factory);
      }
      const generate = await loadPortableFunction(step.def.rows);
      // The driver wants a generator function, and infers parameters from its length.
      const rows = withLength(function* (this: unknown, ...args: unknown[]) {
        yield* generate.apply(this, args) as Iterable<unknown>;
      }, step.def.length);
      const definition = { ...step.def.rest, columns: step.def.columns, rows };
      return (db) => void db.table(step.name, definition);
    }
    case 'loadExtension':
      return (db) =>
        void (step.entryPoint === undefined
          ? db.loadExtension(step.path)
          : db.loadExtension(step.path, step.entryPoint));
    case 'defaultSafeIntegers':
      return (db) => void db.defaultSafeIntegers(step.on);
    case 'unsafeMode':
      return (db) => void db.unsafeMode(step.on);
    case 'pragma':
      return (db) => {
        // Best effort: the setting worked on the writer, and a reader that refuses it keeps its own.
        try {
          db.pragma(step.source);
        } catch {
          // Left as it was.
        }
      };
  }
}

function txStatement(conn: Connection, sql: string): NativeStatement {
  return (conn.tx[sql] ??= conn.db.prepare(sql));
}

export default defineDriver<Connection, ConnectionOptions>({
  async open(options) {
    const settings: Record<string, unknown> = {
      readonly: options.readonly,
      fileMustExist: options.fileMustExist,
      timeout: options.timeout,
    };
    if (options.nativeBinding !== undefined) settings.nativeBinding = options.nativeBinding;
    const { buffer } = options;
    const source =
      buffer === undefined
        ? options.filename
        : Buffer.from(buffer.buffer, buffer.byteOffset, buffer.byteLength);
    const db = new Database(source, settings);
    let interruptId: number | undefined;
    if (options.interrupt) {
      const addon = loadSqliteInterrupt();
      if (addon !== undefined) {
        db.loadExtension(addon.extensionPath, addon.entryPoint);
        // Not by a statement: preparing one reads the schema, which waits for a lock another
        // connection may hold, and better-sqlite3's constructor reads nothing.
        interruptId = addon.loadedConnectionId();
      }
    }
    for (const step of options.setup) (await loadSetup(step))(db);
    const conn: Connection = {
      db,
      cache: new Map(),
      state: options.state,
      interruptId,
      tx: {},
      cursors: 0,
      readBatch: false,
      pendingSettings: [],
      journalUnknown: false,
      exclusive: false,
    };
    publish(conn, true);
    return conn;
  },

  info(conn): ConnectionInfo {
    return { interruptId: conn.interruptId };
  },

  interruptToken: (conn) => conn.interruptId,

  endBatch: endReadBatch,

  close(conn) {
    conn.cache.clear();
    // An interrupt that stopped the last call leaves the connection marked interrupted until a
    // statement starts, and the checkpoint SQLite runs as the last connection of a WAL database
    // closes gives up on it: the -wal and -shm files would stay. A statement clears the mark.
    if (conn.interruptId !== undefined) conn.db.prepare('SELECT 1').get();
    conn.db.close();
  },

  operations: {
    prepare(conn, [sql]) {
      const { stmt } = entryOf(conn, sql as string);
      return [stmt.reader, stmt.readonly];
    },

    run(conn, [sql, flags, params]) {
      const entry = entryOf(conn, sql as string);
      const stmt = prepareCall(entry, flags as number, entry.mode);
      try {
        // An array, not the driver's object: cheaper to encode and clone (see runResultOf).
        const { changes, lastInsertRowid } = stmt.run(...(params as unknown[]));
        return [changes, lastInsertRowid];
      } finally {
        publish(conn, entry.journal);
      }
    },

    get(conn, [sql, flags, params], ctx) {
      const entry = entryOf(conn, sql as string);
      joinReadBatch(conn, ctx);
      const mode = (flags as number) & MODE_MASK;
      const stmt = prepareCall(entry, flags as number, mode);
      try {
        const row = stmt.get(...(params as unknown[]));
        if (mode === Mode.object) return plainRow(row);
        return mode === Mode.expand ? plainExpanded(row) : row;
      } finally {
        publish(conn, entry.journal);
      }
    },

    /**
     * With WITH_NAMES, the statement's column names come too: beside the row objects (as
     * NamedRows), or in a row set's `extra` (its columns are those its rows are rebuilt from).
     */
    all(conn, [sql, flags, params], ctx) {
      const entry = entryOf(conn, sql as string);
      joinReadBatch(conn, ctx);
      const mode = (flags as number) & MODE_MASK;
      const named = ((flags as number) & WITH_NAMES) !== 0;
      try {
        if (mode === Mode.expand || !entry.stmt.reader) {
          // Expanded rows are nested objects, and a non-reader throws the driver's TypeError.
          const rows = prepareCall(entry, flags as number, mode).all(...(params as unknown[]));
          return mode === Mode.expand ? rows.map(plainExpanded) : rows;
        }
        if (mode === Mode.object && entry.fewRows) {
          const objects = prepareCall(entry, flags as number, Mode.object).all(
            ...(params as unknown[]),
          ) as Record<string, unknown>[];
          for (let i = 0; i < objects.length; i++) objects[i] = plainRow(objects[i]);
          const names = named ? namesOf(entry.stmt) : undefined;
          if (objects.length <= OBJECT_ROWS_MAX)
            return names === undefined ? objects : ({ objects, names } satisfies NamedRows);
          entry.fewRows = false;
          return rowSetOf(objects, names === undefined ? undefined : { names });
        }
        const stmt = prepareCall(entry, flags as number, Mode.raw);
        const rows = stmt.all(...(params as unknown[])) as unknown[][];
        if (mode === Mode.object) entry.fewRows = rows.length <= OBJECT_ROWS_MAX;
        const columns = namesOf(stmt);
        return rowSetIn(mode, columns, rows, named ? { names: columns } : undefined);
      } finally {
        publish(conn, entry.journal);
      }
    },

    /**
     * The uniform client's query: prepares and runs in one call, rows for a statement that
     * returns data, `run()`'s result otherwise, each with what kind of statement it was.
     */
    query(conn, [sql, flags, params]) {
      const entry = entryOf(conn, sql as string);
      const { reader, readonly } = entry.stmt;
      try {
        if (!reader) {
          const { changes, lastInsertRowid } = prepareCall(entry, flags as number, entry.mode).run(
            ...(params as unknown[]),
          );
          return { reader, readonly, changes, lastInsertRowid };
        }
        const stmt = prepareCall(entry, flags as number, Mode.raw);
        const rows = stmt.all(...(params as unknown[])) as unknown[][];
        // Rows as the driver's objects would be (no `__proto__` key), as the later calls give
        // them (see rowSetIn); the names, every one, travel beside them.
        const names = namesOf(stmt);
        return rowSetIn(Mode.object, names, rows, { reader, readonly, names });
      } finally {
        publish(conn, entry.journal);
      }
    },

    /** `list`: parameter lists (arrays, spread) or single parameters (objects, values). */
    runMany(conn, [sql, flags, list]) {
      const entry = entryOf(conn, sql as string);
      const stmt = prepareCall(entry, flags as number, entry.mode);
      let changes = 0;
      // An empty list runs nothing: 0, a BigInt under safe integers, as run() would type it.
      let lastInsertRowid: number | bigint = ((flags as number) & SAFE_INTEGERS) !== 0 ? 0n : 0;
      try {
        for (const params of list as unknown[]) {
          const result = Array.isArray(params)
            ? stmt.run(...(params as unknown[]))
            : stmt.run(params);
          changes += result.changes;
          lastInsertRowid = result.lastInsertRowid;
        }
      } finally {
        publish(conn, entry.journal);
      }
      return [changes, lastInsertRowid];
    },

    columns(conn, [sql]) {
      // A statement of its own: the cached one reflects a schema change only once it runs again.
      return conn.db.prepare(sql as string).columns();
    },

    iterate(conn, [sql, flags, params, batch], ctx) {
      // A reader receives get, all, iterate and setup only, and of these only a cursor cannot
      // share the batch's read transaction: while it is open, the driver refuses COMMIT.
      endReadBatch(conn);
      // A cursor locks its statement, so it gets its own instead of the cached one.
      const stmt = conn.db.prepare(sql as string);
      const entry = createEntry(stmt, false);
      const mode = (flags as number) & MODE_MASK;
      // Batches travel as row sets, read as arrays here (measured: iterating 10k rows of 5
      // columns held the caller's thread 14 ms as objects); expanded rows are nested objects
      // and go as they are, as does what a non-reader gives (the driver's TypeError).
      const packed = mode !== Mode.expand && stmt.reader;
      prepareCall(entry, flags as number, packed ? Mode.raw : mode);
      const iterator = stmt.iterate(...(params as unknown[]));
      const { rows, done, failure } = take(iterator, batch as number);
      // Read after the first step: the driver reflects a recompiled statement only then.
      const columns = packed ? namesOf(stmt) : undefined;
      const cursor: Cursor = { iterator, conn, mode, columns, failure };
      if (done) return batchOf(cursor, rows, true, undefined);
      conn.cursors++;
      return batchOf(cursor, rows, false, ctx.handle(cursor, 'cursor'));
    },

    exec(conn, [sql]) {
      try {
        conn.db.exec(sql as string);
      } finally {
        publish(conn, MODE_PRAGMA.test(sql as string));
      }
    },

    pragma(conn, [source, simple]) {
      try {
        return conn.db.pragma(source as string, { simple: simple as boolean });
      } finally {
        publish(conn, MODE_PRAGMA.test(source as string));
      }
    },

    /** The statements of `db.transaction()`; undo steps only run while a transaction is open. */
    tx(conn, [step]) {
      const { db } = conn;
      try {
        switch (step as string) {
          case 'commit':
            txStatement(conn, 'COMMIT').run();
            break;
          case 'rollback':
            if (db.inTransaction) txStatement(conn, 'ROLLBACK').run();
            break;
          case 'savepoint':
            txStatement(conn, `SAVEPOINT ${SAVEPOINT}`).run();
            break;
          case 'release':
            txStatement(conn, `RELEASE ${SAVEPOINT}`).run();
            break;
          case 'rollbackTo':
            if (db.inTransaction) {
              txStatement(conn, `ROLLBACK TO ${SAVEPOINT}`).run();
              txStatement(conn, `RELEASE ${SAVEPOINT}`).run();
            }
            break;
          default:
            txStatement(conn, step as string).run(); // BEGIN, BEGIN IMMEDIATE, ...
        }
      } finally {
        publish(conn, false);
      }
      return db.inTransaction;
    },

    async setup(conn, [step]) {
      const apply = await loadSetup(step as SetupStep);
      // What the driver refuses while a cursor is open on the connection (a reader's, here:
      // the caller refuses it while one is open on the writer) waits: later, then. A statement
      // that needs a function meanwhile fails on this reader, and runs on the writer.
      if (conn.cursors > 0 && refusedWhileIterating(step as SetupStep)) {
        conn.pendingSettings.push(apply);
        return;
      }
      apply(conn.db);
    },

    serialize: (conn, [options]) => conn.db.serialize(options as { attached?: string }),

    async backup(conn, [destination, attached, progress]) {
      const handler =
        progress === undefined
          ? undefined
          : ((await loadPortableFunction(progress as never)) as (
              info: BackupProgress,
            ) => number | undefined);
      const { state } = conn;
      // Set by the caller when it interrupts this call (an abort, a timeout): the driver's
      // backup runs step by step and calls `progress` between steps, which an interrupt does
      // not reach, so it is checked there. An undefined return keeps the driver's page count.
      if (state !== undefined) Atomics.store(state, StateSlot.interrupted, 0);
      return conn.db.backup(destination as string, {
        attached: attached as string,
        progress: (info) => {
          if (state !== undefined && Atomics.load(state, StateSlot.interrupted) === 1) {
            throw new Database.SqliteError('interrupted', 'SQLITE_INTERRUPT');
          }
          return handler?.(info);
        },
      });
    },
  },

  handles: {
    cursor: {
      methods: {
        next: (cursor: Cursor, [batch]) => {
          const { failure } = cursor;
          if (failure !== undefined) {
            // Once: the driver's iterator is done after the error, and so is this cursor.
            cursor.failure = undefined;
            throw failure.error;
          }
          const taken = take(cursor.iterator, batch as number);
          cursor.failure = taken.failure;
          return batchOf(cursor, taken.rows, taken.done, undefined);
        },
      },
      release: (cursor: Cursor) => {
        const { conn } = cursor;
        conn.cursors--;
        cursor.iterator.return?.();
        if (conn.cursors === 0) {
          // Now, in order, before the next call: best effort, as the writer took each of them,
          // and a reader that refuses one runs the statements that need it on the writer.
          for (const apply of conn.pendingSettings.splice(0)) {
            try {
              apply(conn.db);
            } catch {
              // Refused here: see above.
            }
          }
        }
      },
    },
  },
});
