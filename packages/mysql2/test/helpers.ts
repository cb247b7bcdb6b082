// Shared by the tests: the real MariaDB they run against, and how to compare with mysql2.
import rawMysql from 'mysql2/promise';
import { expect } from 'vitest';

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
