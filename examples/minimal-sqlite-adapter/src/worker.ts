// The worker half: one better-sqlite3 connection per session. Everything else (transport,
// batching, errors with their class, handles, leaks, crashes) is @unblock/core's.
import Database from 'better-sqlite3';
import { defineDriver, registerErrorClass, RowSet } from '@unblock/core/worker';

registerErrorClass(Database.SqliteError, 'SqliteError');

type Params = unknown[] | Record<string, unknown>;
interface Conn {
  db: Database.Database;
  stop: Int32Array;
}
interface Cursor {
  conn: Conn;
  columns: string[];
  it: IterableIterator<unknown[]>;
}

// Integers come out as BigInt (exact); those a number holds exactly go back as numbers.
const num = (v: unknown): unknown =>
  typeof v === 'bigint' && v >= -(2n ** 53n) && v < 2n ** 53n ? Number(v) : v;
const bind = (p: Params = []): unknown[] => (Array.isArray(p) ? p : [p]);

function prepare({ db, stop }: Conn, sql: string): Database.Statement {
  Atomics.store(stop, 0, 0); // a stale interrupt must not reach this call
  return db.prepare(sql);
}

export default defineDriver({
  open({ filename }: { filename: string }): Conn {
    const db = new Database(filename).defaultSafeIntegers(true).unsafeMode(true);
    if (filename !== ':memory:') db.pragma('journal_mode = WAL');
    const stop = new Int32Array(new SharedArrayBuffer(4));
    // A slow function the caller's interrupt hook can stop: it watches the shared flag.
    db.function('unblock_sleep', (ms) => {
      const end = Date.now() + Number(ms);
      while (Date.now() < end) if (Atomics.load(stop, 0) === 1) throw new Error('interrupted');
      return ms;
    });
    db.function('unblock_crash', () => process.exit(70));
    return { db, stop };
  },
  interruptToken: (conn) => conn.stop.buffer,
  operations: {
    query(conn, [sql, params]) {
      const stmt = prepare(conn, sql as string);
      if (!stmt.reader) {
        const { changes, lastInsertRowid } = stmt.run(...bind(params as Params));
        return new RowSet([], [], 'object', { changes, lastInsertId: num(lastInsertRowid) });
      }
      const rows = (stmt.raw(true).all(...bind(params as Params)) as unknown[][]).map((r) =>
        r.map(num),
      );
      return new RowSet(
        stmt.columns().map((c) => c.name),
        rows,
        'object',
        { changes: 0 },
      );
    },
    cursor(conn, [sql, params], ctx) {
      const stmt = prepare(conn, sql as string).raw(true);
      const columns = stmt.columns().map((c) => c.name);
      return ctx.handle(
        {
          conn,
          columns,
          it: stmt.iterate(...bind(params as Params)) as IterableIterator<unknown[]>,
        },
        'cursor',
      );
    },
  },
  handles: {
    cursor: {
      methods: {
        next(cursor: Cursor, [n]) {
          Atomics.store(cursor.conn.stop, 0, 0);
          const rows: unknown[][] = [];
          while (rows.length < (n as number)) {
            const r = cursor.it.next();
            if (r.done) return new RowSet(cursor.columns, rows, 'object', { done: true });
            rows.push(r.value.map(num));
          }
          return new RowSet(cursor.columns, rows, 'object', { done: false });
        },
      },
      release: (cursor: Cursor) => void cursor.it.return?.(),
    },
  },
  close: (conn) => void conn.db.close(),
});
