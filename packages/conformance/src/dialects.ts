import type { Dialect } from './descriptor.js';

/**
 * The column types the suite's tables use, in each dialect's words.
 *
 * @example
 * ```ts
 * const type: ColumnType = 'key';
 * dialects.mysql.types[type]; // 'varchar(191) character set utf8mb4'
 * ```
 */
export type ColumnType = 'pk' | 'int' | 'real' | 'text' | 'key' | 'blob';

/**
 * An error the suite expects from the database, as the driver reports it.
 *
 * @example
 * ```ts
 * const uniqueViolation: ExpectedError = {
 *   code: 'ER_DUP_ENTRY',
 *   props: { errno: 1062, sqlState: '23000' },
 * };
 * ```
 */
export interface ExpectedError {
  code: string;
  /** Other own properties the driver sets (mysql2's errno and sqlState). */
  props?: Record<string, unknown>;
}

/**
 * The few statements and facts that differ between dialects. Built-in maps for every
 * {@link Dialect} are in {@link dialects}; a descriptor may override single entries.
 *
 * @example
 * ```ts
 * const sql: DialectSql = { ...dialects.sqlite, sleep: (ms) => `select my_sleep(${ms})` };
 * ```
 */
export interface DialectSql {
  types: Record<ColumnType, string>;
  /** Rows `x` = 1..n, and `pad`: a string of `width` characters. */
  series(n: number, width?: number): string;
  /** Rows `x` = 1..n whose row `failAt` raises {@link DialectSql.midStreamError}. */
  failingSeries(n: number, failAt: number): string;
  /** A query that takes about `ms` milliseconds inside the database and returns one row. */
  sleep(ms: number): string;
  /** The heaviest query of the suite (seconds of database work). */
  heavy: string;
  /** Appended to a SELECT that reads a row it will update in the same transaction. */
  forUpdate: string;
  /** `expr` converted to text, to compare integers exactly. */
  castText(expr: string): string;
  /** The class name of the driver's errors. */
  errorName: string;
  syntaxError: ExpectedError;
  uniqueViolation: ExpectedError;
  notNullViolation: ExpectedError;
  noSuchTable: ExpectedError;
  midStreamError: ExpectedError;
}

const sqliteSeries = (n: number): string =>
  `with recursive s(x) as (select 1 union all select x + 1 from s where x < ${n})`;

/**
 * The built-in SQL of each dialect.
 *
 * @example
 * ```ts
 * import { dialects } from '@unblock/conformance';
 * await client.query(dialects.sqlite.series(10));
 * ```
 */
export const dialects = {
  sqlite: {
    types: {
      pk: 'integer primary key',
      int: 'integer',
      real: 'real',
      text: 'text',
      key: 'text',
      blob: 'blob',
    },
    series: (n, width = 0) =>
      `${sqliteSeries(n)} select x, substr(hex(zeroblob(${width})), 1, ${width}) as pad from s`,
    failingSeries: (n, failAt) =>
      `${sqliteSeries(n)} select x, case when x < ${failAt} then x else abs(-9223372036854775808) end as y from s`,
    // About 1.75 million steps a second on the 2-core CI machine (SQLite 3.x via better-sqlite3
    // 12.9): a rough clock made of pure database work, which only sqlite3_interrupt() stops.
    sleep: (ms) =>
      `${sqliteSeries(Math.max(1, Math.round(ms * 1_750)))} select count(*) as n from s`,
    // About 2.3 s there.
    heavy: `${sqliteSeries(4_000_000)} select count(*) as n from s`,
    forUpdate: '',
    castText: (expr) => `cast(${expr} as text)`,
    errorName: 'SqliteError',
    syntaxError: { code: 'SQLITE_ERROR' },
    uniqueViolation: { code: 'SQLITE_CONSTRAINT_UNIQUE' },
    notNullViolation: { code: 'SQLITE_CONSTRAINT_NOTNULL' },
    noSuchTable: { code: 'SQLITE_ERROR' },
    midStreamError: { code: 'SQLITE_ERROR' },
  },
  mysql: {
    types: {
      pk: 'bigint primary key auto_increment',
      int: 'bigint',
      real: 'double',
      text: 'longtext character set utf8mb4',
      key: 'varchar(191) character set utf8mb4',
      blob: 'longblob',
    },
    // MariaDB's SEQUENCE engine: recursive CTEs stop at max_recursive_iterations (1000).
    series: (n, width = 0) => `select seq as x, repeat('x', ${width}) as pad from seq_1_to_${n}`,
    // A correlated subquery that returns two rows from row `failAt` on: the error comes mid-stream.
    failingSeries: (n, failAt) =>
      `select seq as x, (select y from (select 1 as y union all select 2) u where s.seq >= ${failAt}) as y from seq_1_to_${n} s`,
    sleep: (ms) => `select sleep(${ms / 1000}) as n`,
    heavy: `select benchmark(2000000, md5('unblock')) as n`,
    forUpdate: ' for update',
    castText: (expr) => `cast(${expr} as char)`,
    errorName: 'Error',
    syntaxError: { code: 'ER_PARSE_ERROR', props: { errno: 1064, sqlState: '42000' } },
    uniqueViolation: { code: 'ER_DUP_ENTRY', props: { errno: 1062, sqlState: '23000' } },
    notNullViolation: { code: 'ER_BAD_NULL_ERROR', props: { errno: 1048 } },
    noSuchTable: { code: 'ER_NO_SUCH_TABLE', props: { errno: 1146 } },
    midStreamError: { code: 'ER_SUBQUERY_NO_1_ROW', props: { errno: 1242 } },
  },
} satisfies Record<Dialect, DialectSql>;
