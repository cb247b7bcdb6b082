import { toPortableFunction, type CallOptions } from '@unblock/core';
import { portableValues } from './raw-codec.js';
import type { QueryOptions } from './types.js';

/**
 * Splits a QueryOptions object into what goes to mysql2 (cloneable) and the call's own options.
 * A string passes through untouched: the hot path allocates nothing here.
 *
 * @internal
 * @example
 * ```ts
 * const [wire, callOptions] = splitQuery({ sql: 'SELECT 1', typeCast: (f, next) => next(), signal });
 * // wire.typeCast is a portable function spec; callOptions is { signal }
 * ```
 */
export function splitQuery(sql: string | QueryOptions): [unknown, CallOptions | undefined] {
  if (typeof sql !== 'object' || sql === null) return [sql, undefined];
  const {
    signal,
    typeCast,
    queryFormat: _ignored,
    ...rest
  } = sql as QueryOptions & { queryFormat?: unknown };
  const wire: Record<string, unknown> = rest;
  if (rest.values !== undefined) wire.values = portableValues(rest.values);
  // A function or a { module, export } reference travels as a portable function spec, which
  // the worker turns back into the function mysql2 calls; a boolean passes as it is.
  if (typeof typeCast === 'function' || (typeof typeCast === 'object' && typeCast !== null))
    wire.typeCast = toPortableFunction(typeCast, 'typeCast');
  else if (typeCast !== undefined) wire.typeCast = typeCast;
  return [wire, signal === undefined ? undefined : { signal }];
}
