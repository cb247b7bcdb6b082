/**
 * A value that formats itself into SQL (`mysql.raw('NOW()')`, or any object with a
 * `toSqlString()` method). Its SQL text is computed on the caller's thread, because a function
 * cannot cross to the worker, and turned back into `raw(sql)` there.
 */
export class SqlFragment {
  constructor(readonly sql: string) {}
}

/** The codec's name, the same on both sides. */
export const SQL_FRAGMENT_CODEC = 'mysql2.raw';

function isSqlObject(value: unknown): value is { toSqlString(): unknown } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { toSqlString?: unknown }).toSqlString === 'function'
  );
}

/**
 * Replaces `toSqlString()` objects in query values by {@link SqlFragment}s. Values without any
 * come back as they are (no copy), which is the common case.
 */
export function portableValues(values: unknown): unknown {
  if (Array.isArray(values)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < values.length; i++) {
      const v = values[i] as unknown;
      if (typeof v !== 'object' || v === null) continue;
      const mapped = isSqlObject(v)
        ? new SqlFragment(String(v.toSqlString()))
        : Array.isArray(v)
          ? portableValues(v)
          : v;
      if (mapped !== v) {
        out ??= values.slice();
        out[i] = mapped;
      }
    }
    return out ?? values;
  }
  if (isSqlObject(values)) return new SqlFragment(String(values.toSqlString()));
  if (
    typeof values === 'object' &&
    values !== null &&
    Object.getPrototypeOf(values) === Object.prototype
  ) {
    let out: Record<string, unknown> | undefined;
    for (const [key, v] of Object.entries(values)) {
      if (isSqlObject(v)) {
        out ??= { ...(values as Record<string, unknown>) };
        out[key] = new SqlFragment(String(v.toSqlString()));
      }
    }
    return out ?? values;
  }
  return values;
}
