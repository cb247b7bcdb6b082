import {
  withCallOptions,
  type CallOptions,
  type Client,
  type IterateOptions,
  type PoolStats,
  type QueryParams,
  type QueryResult,
  type ReceivedRows,
} from '@unblock/core';
import { Database, kInternals } from './database.js';
import type { DatabaseOptions } from './options.js';

/**
 * Options of {@link createClient}: the database file plus every `new Database()` option.
 *
 * @example
 * ```ts
 * createClient({ filename: 'app.db', readers: 4 });
 * ```
 */
export interface ClientOptions extends DatabaseOptions {
  filename: string;
}

function paramsOf(params: QueryParams | undefined): unknown[] {
  if (params === undefined) return [];
  return Array.isArray(params) ? [...(params as unknown[])] : [params];
}

/**
 * The uniform client of @unblock/core over a SQLite database (same calls as every adapter).
 *
 * @example
 * ```ts
 * import { createClient } from '@unblock/better-sqlite3';
 * await using client = createClient({ filename: ':memory:' });
 * const { rows } = await client.query('select ? as x', [1]);
 * ```
 */
export function createClient(options: ClientOptions): Client {
  if (typeof options !== 'object' || options === null) throw new TypeError('Expected an options object');
  const { filename, ...rest } = options;
  const db = new Database(filename, rest);
  const scoped = <T>(opts: CallOptions | undefined, fn: () => Promise<T>): Promise<T> =>
    opts === undefined ? fn() : withCallOptions(opts, fn);
  return {
    dialect: 'sqlite',
    query<Row = Record<string, unknown>>(sql: string, params?: QueryParams, opts?: CallOptions) {
      return scoped(opts, async (): Promise<QueryResult<Row>> => {
        const stmt = await db.prepare(sql);
        const args = paramsOf(params);
        if (!stmt.reader) {
          const { changes, lastInsertRowid } = await stmt.run(...args);
          return { rows: [], rowCount: 0, changes, lastInsertId: lastInsertRowid, columns: [] };
        }
        const result = await stmt.allWithColumns(args);
        const rows = (Array.isArray(result) ? result : (result as ReceivedRows).rows) as Row[];
        const columns = Array.isArray(result)
          ? Object.keys((rows[0] as object | undefined) ?? {})
          : (result as ReceivedRows).columns;
        // A RETURNING statement changes one row per row it returns.
        const changes = stmt.readonly ? 0 : rows.length;
        return { rows, rowCount: rows.length, changes, lastInsertId: undefined, columns };
      });
    },
    async *iterate<Row = Record<string, unknown>>(sql: string, params?: QueryParams, opts?: IterateOptions) {
      const callOptions: CallOptions | undefined =
        opts?.signal === undefined && opts?.timeout === undefined ? undefined : { signal: opts.signal, timeout: opts.timeout };
      const stmt = await scoped(callOptions, () => db.prepare(sql));
      const iterator = scoped(callOptions, async () => stmt.iterate<Row>(...paramsOf(params)));
      const it = await iterator;
      try {
        for (;;) {
          const next = await scoped(callOptions, () => it.next());
          if (next.done === true) return;
          yield next.value;
        }
      } finally {
        await it.return?.();
      }
    },
    transaction<T>(fn: () => Promise<T>, opts?: CallOptions): Promise<T> {
      return scoped(opts, () => db.transaction(fn)());
    },
    stats(): PoolStats {
      return db[kInternals].pool.stats();
    },
    async close() {
      await db.close();
    },
    async [Symbol.asyncDispose]() {
      await db.close();
    },
  };
}
