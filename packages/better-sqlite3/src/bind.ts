import { types } from 'node:util';
import { copyView } from '@unblock/core';

// Values the driver refuses (booleans, Dates, class instances, functions...) must fail with the
// driver's own TypeError, at the same parameter. Dates and booleans cross to the worker as they
// are; what structured clone cannot carry is replaced by a value the driver refuses with that
// same TypeError at that same position: an object (a function, a class instance) by an invalid
// Date, and a symbol by a boolean. Not one for both: given as a positional value to a statement
// with named parameters, an object is refused as named parameters outside a plain object, a
// primitive as a value SQLite cannot bind.
const REFUSED = new Date(Number.NaN);

/** What stands for `value`, which cannot cross, in the worker (see REFUSED). */
function refused(value: unknown): unknown {
  return typeof value === 'symbol' ? false : REFUSED;
}

function crosses(value: unknown, depth: number): boolean {
  const t = typeof value;
  if (t === 'function' || t === 'symbol') return false;
  if (t !== 'object' || value === null) return true;
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value) || types.isDate(value)) return true;
  if (depth > 8) return false;
  if (Array.isArray(value)) return value.every((item) => crosses(item, depth + 1));
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return false;
  for (const key of Object.keys(value as object)) {
    if (!crosses((value as Record<string, unknown>)[key], depth + 1)) return false;
  }
  return true;
}

function fix(value: unknown): unknown {
  if (crosses(value, 1)) return value;
  if (Array.isArray(value)) return value.map((item) => (crosses(item, 2) ? item : refused(item)));
  const t = typeof value;
  if (t === 'object' && value !== null && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value as object))
      out[key] = crosses(item, 2) ? item : refused(item);
    return out;
  }
  return refused(value);
}

function primitives(list: unknown[]): boolean {
  for (let i = 0; i < list.length; i++) {
    const v = list[i];
    const t = typeof v;
    if (t !== 'number' && t !== 'string' && t !== 'bigint' && v !== null && v !== undefined)
      return false;
  }
  return true;
}

/**
 * Makes bind parameters safe to send: returns `params` itself when every value can cross (the
 * common case costs one `typeof` per value), or a copy with uncloneable values replaced.
 */
export function bindable(params: unknown[]): unknown[] {
  for (let i = 0; i < params.length; i++) {
    const v = params[i];
    const t = typeof v;
    if (t === 'number' || t === 'string' || t === 'bigint' || v === null || v === undefined)
      continue;
    if (Array.isArray(v) && primitives(v)) continue; // `stmt.run([a, b])`, the common array form
    if (!crosses(v, 0)) return params.map(fix);
  }
  return params;
}

/**
 * A copy of a bound value, as the driver takes it at `bind()`: arrays and plain objects (named
 * parameters) are copied, and so are the bytes of a Buffer or typed array.
 *
 * @example
 * ```ts
 * const bound = bindable([list]).map(copyOf); // later changes to `list` do not reach it
 * ```
 */
export function copyOf(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) return value.map(copyOf);
  // The bytes it shows now (none, once its buffer was transferred away).
  if (ArrayBuffer.isView(value)) return copyView(value);
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto !== Object.prototype && proto !== null) return value;
  const out = Object.create(proto) as Record<string, unknown>;
  for (const key of Object.keys(value)) out[key] = copyOf((value as Record<string, unknown>)[key]);
  return out;
}
