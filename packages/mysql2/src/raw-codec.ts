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
 * formatted to SQL and cross as `raw()`, and a null-prototype object would cross as a plain one
 * (and be bound as JSON), so the same question is put to Node on this thread, which throws the
 * same error. (Other class instances are core's to refuse: they cannot cross.)
 *
 * @internal
 * @example
 * ```ts
 * assertBindable([new Money(5)]); // throws TypeError ERR_INVALID_ARG_TYPE, as mysql2's execute()
 * assertBindable([Object.create(null)]); // the same
 * ```
 */
export function assertBindable(values: unknown): void {
  if (!Array.isArray(values)) return;
  for (const v of values as unknown[]) {
    if (typeof v !== 'object' || v === null) continue;
    if (!isSqlObject(v) && Object.getPrototypeOf(v) !== null) continue;
    if (Array.isArray(v) || v.constructor === Object || v instanceof Date) continue;
    if (typeof (v as { toJSON?: unknown }).toJSON === 'function') continue;
    Buffer.from(v as never, 'utf8');
  }
}

/**
 * Whether a null-prototype object is among query values, at any depth of the arrays, Sets, Maps
 * and plain objects mysql2's formatting may reach. mysql2's `query()` makes strings of some
 * objects with `String()`, which throws for one (it has no `toString`); structured clone would
 * give it `Object.prototype` on its way to the worker, so the worker could not tell.
 *
 * @internal
 * @example
 * ```ts
 * hasNullPrototype([1, { a: Object.create(null) }]); // true
 * ```
 */
export function hasNullPrototype(value: unknown): boolean {
  return typeof value === 'object' && value !== null && holdsNullPrototype(value, 0, {});
}

/** Containers nested deeper than this are remembered, so that a cycle ends the walk. */
const UNGUARDED_DEPTH = 8;

/**
 * Walks containers only (arrays, plain objects, Sets, Maps); leaves and class instances are
 * looked at, not entered. Rows of a bulk insert cost a prototype check each, and no memory.
 */
function holdsNullPrototype(value: object, depth: number, guard: { seen?: Set<object> }): boolean {
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto === null) return true;
  let items: Iterable<unknown>;
  if (Array.isArray(value)) items = value;
  else if (proto === Object.prototype) items = Object.values(value);
  else if (value instanceof Set || value instanceof Map) items = value.values();
  else return false;
  if (depth >= UNGUARDED_DEPTH) {
    guard.seen ??= new Set();
    if (guard.seen.has(value)) return false;
    guard.seen.add(value);
  }
  for (const item of items) {
    if (typeof item === 'object' && item !== null && holdsNullPrototype(item, depth + 1, guard))
      return true;
  }
  return false;
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
      out ??= { ...(value as Record<string, unknown>) };
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
