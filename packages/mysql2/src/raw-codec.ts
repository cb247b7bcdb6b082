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
 * What mysql2's `execute()` does to a bound object that it neither JSON-encodes (an array, a
 * plain object, one with `toJSON()`) nor binds as a date or a Buffer: it asks Node for the
 * value's bytes, which Node refuses for a class instance or a null-prototype object
 * (ERR_INVALID_ARG_TYPE), and the call rejects. Here a value with `toSqlString()` would be
 * formatted to SQL and cross as `raw()`, so the same question is put to Node on this thread,
 * which throws the same error. (Other class instances are core's to refuse: they cannot cross;
 * a null-prototype object crosses as one, and mysql2 refuses it in the worker.)
 *
 * @internal
 * @example
 * ```ts
 * assertBindable([new Money(5)]); // throws TypeError ERR_INVALID_ARG_TYPE, as mysql2's execute()
 * ```
 */
export function assertBindable(values: unknown): void {
  if (!Array.isArray(values)) return;
  for (const v of values as unknown[]) {
    if (typeof v !== 'object' || v === null) continue;
    if (!isSqlObject(v)) continue;
    if (Array.isArray(v) || v.constructor === Object || v instanceof Date) continue;
    if (typeof (v as { toJSON?: unknown }).toJSON === 'function') continue;
    Buffer.from(v as never, 'utf8');
  }
}

/**
 * Replaces `toSqlString()` objects in query values by {@link SqlFragment}s, at any depth of
 * arrays and plain objects (mysql2 formats them inside lists and `SET ?` objects; where it
 * stringifies the object holding one, the raw() it gets in the worker stringifies the same).
 * Maps and Sets are left alone (mysql2 formats neither one's contents; core refuses one that
 * holds a raw() value, as any class instance). Values without any come back as they are (no
 * copy), which is the common case; a container with some is copied with them replaced.
 */
export function portableValues(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (isSqlObject(value)) return new SqlFragment(String(value.toSqlString()));
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const v = value[i] as unknown;
      if (typeof v !== 'object' || v === null) continue;
      const mapped = portableValues(v);
      if (mapped !== v) {
        out ??= value.slice();
        out[i] = mapped;
      }
    }
    return out ?? value;
  }
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto !== Object.prototype && proto !== null) return value;
  let out: Record<string, unknown> | undefined;
  for (const key of Object.keys(value)) {
    const v = (value as Record<string, unknown>)[key];
    if (typeof v !== 'object' || v === null) continue;
    const mapped = portableValues(v);
    if (mapped !== v) {
      // A copy with the same prototype, none or Object.prototype (mysql2 tells them apart);
      // spread, not assigned, so that an own `__proto__` key stays a key.
      out ??= proto === null ? { __proto__: null, ...value } : { ...value };
      // Defined, not assigned: an own `__proto__` key (JSON.parse makes them) stays a key.
      Object.defineProperty(out, key, {
        value: mapped,
        writable: true,
        enumerable: true,
        configurable: true,
      });
    }
  }
  return out ?? value;
}
