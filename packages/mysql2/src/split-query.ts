import { toPortableFunction, type CallOptions } from '@unblock/core';
import { portableValues } from './raw-codec.js';
import type { QueryOptions } from './types.js';

/** The largest timeout a timer takes (core refuses more); mysql2 is left to handle others. */
const MAX_TIMEOUT = 2_147_483_647;

/**
 * Splits a QueryOptions object into what goes to mysql2 (cloneable) and the call's own options.
 * A string passes through untouched: the hot path allocates nothing here. With `ownTimeout`,
 * mysql2's per-query `timeout` becomes the call's (core's) timeout, which stops the statement
 * on the server, instead of going to mysql2, which only stops waiting for it.
 *
 * @internal
 * @example
 * ```ts
 * const [wire, callOptions] = splitQuery({ sql: 'SELECT 1', typeCast: (f, next) => next(), signal });
 * // wire.typeCast is a portable function spec; callOptions is { signal }
 * ```
 */
export function splitQuery(
  sql: string | QueryOptions,
  ownTimeout = false,
): [unknown, CallOptions | undefined] {
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
  // mysql2 applies a timeout only when it is truthy; a value a timer cannot take stays its own.
  const { timeout } = rest;
  if (ownTimeout && typeof timeout === 'number' && timeout > 0 && timeout <= MAX_TIMEOUT) {
    delete wire.timeout;
    return [wire, signal === undefined ? { timeout } : { signal, timeout }];
  }
  return [wire, signal === undefined ? undefined : { signal }];
}
