// mysql2/promise used directly (the baseline) and the @unblock/mysql2 drop-in, which keeps the
// mysql2/promise API. Both are imported dynamically so the bench runs without the drop-in.
import type {
  Connection,
  ConnectionOptions,
  Pool,
  PoolOptions,
  RowDataPacket,
} from 'mysql2/promise';

export const RAW = 'mysql2/promise';
export const DROP_IN = '@unblock/mysql2';

/** The part of the mysql2/promise module both drivers offer. */
export interface MysqlModule {
  createPool(options: PoolOptions): Pool;
  createConnection(options: ConnectionOptions): Promise<Connection>;
}

/** MariaDB of the test environment. */
export const SERVER: ConnectionOptions = {
  host: '127.0.0.1',
  port: 3306,
  user: 'root',
  password: '',
  database: 'test',
};

/** Rows of the 8-column fixture table. */
export const FIXTURE_ROWS = 50_000;
export const FIXTURE_TABLE = 'unblock_bench_rows';

/**
 * The module of `driver`.
 *
 * @example
 * ```ts
 * const mysql = await loadMysql(DROP_IN);
 * const pool = mysql.createPool({ ...SERVER, connectionLimit: 8 });
 * ```
 */
export async function loadMysql(driver: string): Promise<MysqlModule> {
  const specifier =
    driver === RAW ? 'mysql2/promise' : driver === DROP_IN ? '@unblock/mysql2' : undefined;
  if (specifier === undefined) throw new Error(`unknown MySQL driver ${driver}`);
  const mod = (await import(specifier)) as { default?: MysqlModule } & MysqlModule;
  return mod.default ?? mod;
}

/**
 * Creates and fills the fixture table unless it already holds FIXTURE_ROWS rows (done with
 * raw mysql2 before anything is measured).
 *
 * @example
 * ```ts
 * await ensureFixture();
 * ```
 */
export async function ensureFixture(): Promise<void> {
  const mysql = await loadMysql(RAW);
  const conn = await mysql.createConnection(SERVER);
  try {
    await conn.query(
      `CREATE TABLE IF NOT EXISTS ${FIXTURE_TABLE} (id INT PRIMARY KEY, name VARCHAR(32), qty INT, price DOUBLE,
        created DATETIME, email VARCHAR(64), big BIGINT, amount DECIMAL(10, 2))`,
    );
    const [[{ n }]] = await conn.query<RowDataPacket[]>(
      `SELECT COUNT(*) AS n FROM ${FIXTURE_TABLE}`,
    );
    if (Number(n) === FIXTURE_ROWS) return;
    await conn.query(`TRUNCATE ${FIXTURE_TABLE}`);
    for (let from = 1; from <= FIXTURE_ROWS; from += 5_000) {
      const rows = Array.from({ length: 5_000 }, (_, k) => {
        const id = from + k;
        return [
          id,
          `name ${id}`,
          id % 97,
          id / 7,
          new Date(1_700_000_000_000 + id * 1000),
          `user${id}@example.com`,
          id * 1_000_003,
          (id % 10_000) / 100,
        ];
      });
      await conn.query(`INSERT INTO ${FIXTURE_TABLE} VALUES ?`, [rows]);
    }
  } finally {
    await conn.end();
  }
}

/**
 * Polls PROCESSLIST (from `side`) until no other connection runs a statement containing
 * `marker`; resolves with the milliseconds that took, or Infinity after `limitMs`.
 *
 * @example
 * ```ts
 * const ms = await waitUntilGone(side, 'bench_abort_1', 15_000);
 * ```
 */
export async function waitUntilGone(
  side: Connection,
  marker: string,
  limitMs: number,
): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < limitMs) {
    const [[{ n }]] = await side.query<RowDataPacket[]>(
      'SELECT COUNT(*) AS n FROM information_schema.PROCESSLIST WHERE ID <> CONNECTION_ID() AND INFO LIKE ?',
      [`%${marker}%`],
    );
    if (Number(n) === 0) return performance.now() - t0;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
  return Infinity;
}
