/**
 * What `db.transaction(fn)` returns: calling it runs `fn` in a transaction and resolves to its
 * result. `.deferred`, `.immediate` and `.exclusive` choose the BEGIN variant.
 *
 * @example
 * ```ts
 * const insertMany = db.transaction(async (rows: string[]) => {
 *   for (const name of rows) await insert.run(name);
 * });
 * await insertMany.immediate(['a', 'b']);
 * ```
 */
export interface Transaction<A extends unknown[], R> {
  (...args: A): Promise<R>;
  readonly default: Transaction<A, R>;
  readonly deferred: Transaction<A, R>;
  readonly immediate: Transaction<A, R>;
  readonly exclusive: Transaction<A, R>;
  readonly database: object;
}

type Runner = (begin: string, self: unknown, args: unknown[]) => Promise<unknown>;

/** Builds the four variants, each carrying all of them and `.database`, as the driver does. */
export function createTransaction<A extends unknown[], R>(
  database: object,
  run: Runner,
): Transaction<A, R> {
  const variant = (begin: string): Transaction<A, R> =>
    function sqliteTransaction(this: unknown, ...args: A): Promise<R> {
      return run(begin, this, args) as Promise<R>;
    } as Transaction<A, R>;
  const properties = {
    default: { value: variant('BEGIN') },
    deferred: { value: variant('BEGIN DEFERRED') },
    immediate: { value: variant('BEGIN IMMEDIATE') },
    exclusive: { value: variant('BEGIN EXCLUSIVE') },
    database: { value: database, enumerable: true },
  };
  Object.defineProperties(properties.default.value, properties);
  Object.defineProperties(properties.deferred.value, properties);
  Object.defineProperties(properties.immediate.value, properties);
  Object.defineProperties(properties.exclusive.value, properties);
  return properties.default.value;
}
