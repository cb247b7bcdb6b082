// mysql2 reads a `uri` option's query string as options, its pool options included. This
// package's own pool options (workers, leakDetectionThreshold, closeTimeout, workerNice) were
// read from a URI given as a string but not from a `uri` option: mysql2 warned of them there
// ("Ignoring invalid configuration option passed to Connection: workers") and the pool ignored
// them, bad values included.
import rawMysql from 'mysql2/promise';
import mysql from '@unblock/mysql2';
import { describe, expect, it } from 'vitest';
import { DB, dbAvailable, printed } from './helpers.js';

interface PoolConfig {
  connectionLimit: number;
}

const URI = `mysql://${DB.user}@${DB.host}:${DB.port}/${DB.database}`;

/** The error `fn` throws, as `Class: message`. */
function thrown(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return `${(err as Error).constructor.name}: ${(err as Error).message}`;
  }
  return 'nothing thrown';
}

describe("this package's pool options in a uri option's query string", () => {
  it.each([
    ['workers=abc', 'TypeError: options.workers must be an integer'],
    ['workers=0', 'RangeError: options.workers must be at least 1'],
    ['workerNice=50', 'RangeError: options.workerNice must be at most 19'],
    ['closeTimeout=-1', 'RangeError: options.closeTimeout must be at least 0'],
    ['leakDetectionThreshold=1.5', 'TypeError: options.leakDetectionThreshold must be an integer'],
  ])('are checked as in a URI string: %s', (query, expected) => {
    const uri = `${URI}?${query}`;
    expect(thrown(() => mysql.createPool(uri))).toBe(expected);
    expect(thrown(() => mysql.createPool({ uri }))).toBe(expected);
    expect(thrown(() => mysql.createPoolCluster().add('node', { uri }))).toBe(expected);
  });

  it.runIf(dbAvailable)(
    'are used as from a URI string, without a warning: workers sets the threads',
    async () => {
      // connectionLimit=1 (read from the URI by mysql2's PoolConfig) makes the default 1 thread.
      const uri = `${URI}?connectionLimit=1&workers=2`;
      const threads = async (options: string | object): Promise<number | undefined> => {
        const pool = mysql.createPool(options as never);
        try {
          await pool.query('SELECT 1');
          return pool.stats()?.threads;
        } finally {
          await pool.end();
        }
      };
      const counts: (number | undefined)[] = [];
      const warnings = await printed(async () => {
        counts.push(await threads(uri), await threads({ uri }));
        // mysql2's rule: a key of the URI fills in only what the options leave falsy.
        counts.push(await threads({ uri, workers: 3 }), await threads({ uri, workers: 0 }));
        const cluster = mysql.createPoolCluster();
        cluster.add('node', { uri });
        await cluster.of('node').query('SELECT 1');
        await cluster.end();
        const client = mysql.createClient({ uri });
        await client.query('SELECT 1');
        counts.push(client.stats().threads);
        await client.close();
      });
      expect(counts).toEqual([2, 2, 3, 2, 2]);
      expect(warnings).toEqual([]);
    },
  );

  it.runIf(dbAvailable)(
    "leave mysql2's own reading of the uri as it was: its keys, and its warning of unknown ones",
    async () => {
      const uri = `${URI}?connectionLimit=3&dateStrings=true&bogus=1&workers=1`;
      const run = async (driver: typeof rawMysql | typeof mysql) => {
        let result: unknown;
        const warnings = await printed(async () => {
          const pool = driver.createPool({ uri } as never);
          try {
            const [rows] = await pool.query('SELECT DATABASE() AS d, NOW() AS t');
            const [row] = rows as { d: unknown; t: unknown }[];
            // mysql2/promise's pool keeps its PoolConfig on its core pool; this package's, on itself.
            const { config } = (pool as { config?: PoolConfig }).config
              ? (pool as { config: PoolConfig })
              : (pool as unknown as { pool: { config: PoolConfig } }).pool;
            result = [config.connectionLimit, row.d, typeof row.t];
          } finally {
            await pool.end();
          }
        });
        return { result, warnings: warnings.map((w) => w.split('.')[0]) };
      };
      const theirs = await run(rawMysql);
      expect(theirs.result).toEqual([3, DB.database, 'string']);
      // mysql2 warns of `workers` too: it is this package's, and taken without a word here.
      expect(theirs.warnings).toEqual([
        'Ignoring invalid configuration option passed to Connection: bogus',
        'Ignoring invalid configuration option passed to Connection: workers',
      ]);
      expect(await run(mysql)).toEqual({ ...theirs, warnings: theirs.warnings.slice(0, 1) });
    },
  );

  it.runIf(dbAvailable)(
    'a URL object as the uri connects as in mysql2 (its keys reach the worker)',
    async () => {
      const uri = (): URL => new URL(`${URI}?dateStrings=true`);
      const run = async (driver: typeof rawMysql | typeof mysql): Promise<unknown[]> => {
        const conn = await driver.createConnection({ uri: uri() } as never);
        const pool = driver.createPool({ uri: uri() } as never);
        try {
          const [[a]] = (await conn.query('SELECT DATABASE() AS d, NOW() AS t')) as [
            { d: unknown; t: unknown }[],
            unknown,
          ];
          const [[b]] = (await pool.query('SELECT DATABASE() AS d, NOW() AS t')) as [
            { d: unknown; t: unknown }[],
            unknown,
          ];
          return [a.d, typeof a.t, b.d, typeof b.t];
        } finally {
          await conn.end();
          await pool.end();
        }
      };
      const expected = await run(rawMysql);
      expect(expected).toEqual([DB.database, 'string', DB.database, 'string']);
      expect(await run(mysql)).toEqual(expected);
    },
  );
});
