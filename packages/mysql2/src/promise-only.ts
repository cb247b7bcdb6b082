/**
 * mysql2/promise's guard on `query(sql, values)` and `execute(sql, values)`: a function where
 * the values go is a callback, which a promise client refuses by throwing at once (not with a
 * rejected promise).
 *
 * @example
 * ```ts
 * assertNoCallback(values); // throws 'Callback function is not available with promise clients.'
 * ```
 */
export function assertNoCallback(values: unknown): void {
  if (typeof values === 'function') {
    throw new Error('Callback function is not available with promise clients.');
  }
}
