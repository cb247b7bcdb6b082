// Shared by the tests: the real MariaDB they run against, and how to compare with mysql2.
import rawMysql from 'mysql2/promise';
import mysql from '@unblock/mysql2';
import { expect, vi } from 'vitest';

export const DB = { host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' };

async function probe(): Promise<string | undefined> {
  try {
    const c = await rawMysql.createConnection({ ...DB, connectTimeout: 3000 });
    await c.end();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

const problem = await probe();
if (problem !== undefined) {
  const message = `MariaDB at ${DB.host}:${DB.port} is unreachable (${problem})`;
  // In CI an unreachable database is a failure, never a silent skip.
  if (process.env.CI === 'true') throw new Error(`${message}; CI=true, so the tests fail`);
  console.warn(`\n!!! ${message}: SKIPPING the @unblock/mysql2 database tests !!!\n`);
}

/** False when the database is unreachable outside CI (tests then skip, loudly). */
export const dbAvailable = problem === undefined;

/** The FieldPacket properties both sides must agree on. */
export const FIELD_PROPS = [
  'catalog',
  'schema',
  'db',
  'table',
  'orgTable',
  'name',
  'orgName',
  'characterSet',
  'encoding',
  'columnLength',
  'columnType',
  'type',
  'flags',
  'decimals',
  'extendedTypeName',
  'extendedFormat',
] as const;

export function fieldView(fields: unknown): unknown {
  if (!Array.isArray(fields)) return fields;
  return fields.map((f) => {
    if (Array.isArray(f)) return fieldView(f);
    if (f === undefined || f === null) return f;
    const out: Record<string, unknown> = {};
    for (const key of FIELD_PROPS) out[key] = (f as Record<string, unknown>)[key];
    return out;
  });
}

/** Deep check that also compares prototypes of row objects and Buffer/Date classes. */
export function expectSameRows(ours: unknown, theirs: unknown): void {
  expect(ours).toStrictEqual(normalise(theirs));
}

/** mysql2's ResultSetHeader is a class instance; ours is a plain object with the same fields. */
function normalise(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(normalise);
  if (
    value !== null &&
    typeof value === 'object' &&
    value.constructor?.name === 'ResultSetHeader'
  ) {
    return { ...(value as object) };
  }
  return value;
}

export function errorView(err: unknown): Record<string, unknown> {
  const e = err as Record<string, unknown> & Error;
  return {
    class: e?.constructor?.name,
    message: e.message,
    code: e.code,
    errno: e.errno,
    sqlState: e.sqlState,
    sqlMessage: e.sqlMessage,
    sql: e.sql,
    fatal: e.fatal,
  };
}

export async function settle<T>(
  p: Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await p };
  } catch (error) {
    return { ok: false, error };
  }
}

/** How `p` settled (see {@link settle}), or `'hung'` when it has not within `ms`. */
export async function settleWithin<T>(
  p: Promise<T>,
  ms: number,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown } | 'hung'> {
  let timer: NodeJS.Timeout | undefined;
  const hung = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), ms)));
  try {
    return await Promise.race([settle(p), hung]);
  } finally {
    clearTimeout(timer);
  }
}

/** The mysql2/promise module, whose API the drop-in's default export has. */
export type Driver = typeof rawMysql;

/** The two sides of a parity check, in this order: mysql2/promise's, then the drop-in's. */
export type Sides<S> = readonly [reference: S, dropIn: S];

/** mysql2/promise and @unblock/mysql2, the drop-in typed as the module it replaces. */
export const DRIVERS: Sides<Driver> = [rawMysql, mysql as unknown as Driver];

/** `[rows, fields]` with the fields reduced to what both sides must agree on. */
export function resultView([rows, fields]: readonly [unknown, unknown]): [unknown, unknown] {
  return [rows, fieldView(fields)];
}

/**
 * Runs `run` on mysql2/promise's side, then on the drop-in's: both must resolve, to the same
 * value (compared as {@link expectSameRows} does). A rejection fails the test, even when both
 * sides reject alike. Resolves with the drop-in's value.
 */
export async function sameResult<S, T>(sides: Sides<S>, run: (side: S) => Promise<T>): Promise<T> {
  const theirs = await run(sides[0]);
  const mine = await run(sides[1]);
  expectSameRows(mine, theirs);
  return mine;
}

/**
 * Runs `run` on mysql2/promise's side, then on the drop-in's: both must reject, with the same
 * error (as {@link errorView} shows it). Resolves with the drop-in's error.
 */
export async function sameError<S>(
  sides: Sides<S>,
  run: (side: S) => Promise<unknown>,
): Promise<unknown> {
  const theirs = await rejectionOf(run(sides[0]), 'mysql2/promise');
  const mine = await rejectionOf(run(sides[1]), '@unblock/mysql2');
  expect(errorView(mine)).toEqual(errorView(theirs));
  return mine;
}

async function rejectionOf(promise: Promise<unknown>, side: string): Promise<unknown> {
  const settled = await settle(promise);
  if (!settled.ok) return settled.error;
  return expect.unreachable(`${side} resolved, where both sides should reject`);
}

/**
 * What a call did: threw at once, or what it resolved or rejected with (an error as
 * {@link errorView} shows it).
 */
export async function outcome(call: () => unknown): Promise<unknown> {
  let returned: unknown;
  try {
    returned = call();
  } catch (err) {
    return ['threw', errorView(err)];
  }
  const settled = await settle(Promise.resolve(returned));
  if (!settled.ok) return ['rejected', errorView(settled.error)];
  const value = settled.value;
  return ['resolved', value instanceof Error ? errorView(value) : value];
}

/** A connection of a driver, and a pool of it. */
export type DriverConnection = Awaited<ReturnType<Driver['createConnection']>>;
export type DriverPool = ReturnType<Driver['createPool']>;

/**
 * Runs `run` with a new connection and a new one-connection pool of `driver`, both made with
 * {@link DB} and `options`, and ends both after it.
 */
export async function withConnectionAndPool<T>(
  driver: Driver,
  options: Record<string, unknown>,
  run: (conn: DriverConnection, pool: DriverPool) => Promise<T>,
): Promise<T> {
  const conn = await driver.createConnection({ ...DB, ...options });
  const pool = driver.createPool({ ...DB, connectionLimit: 1, ...options });
  try {
    return await run(conn, pool);
  } finally {
    await conn.end();
    await pool.end();
  }
}

/**
 * A pool's live counts. `Pool.counts` is @internal: stripInternal leaves it out of the published
 * types these tests compile against, though it is there at run time.
 */
export function countsOf(pool: object): { all: number; free: number; queued: number } {
  return (pool as { counts: { all: number; free: number; queued: number } }).counts;
}

/** What console.error printed while `fn` ran. */
export async function printed(fn: () => Promise<void>): Promise<string[]> {
  const errors = vi.spyOn(console, 'error').mockImplementation(() => undefined);
  try {
    await fn();
    return errors.mock.calls.map((args) => args.map(String).join(' '));
  } finally {
    errors.mockRestore();
  }
}
