import { hideInternalFrames } from '@unblock/core';
import { Database as DatabaseClass } from './database.js';
import type {
  AggregateOptions as DatabaseAggregateOptions,
  BackupMetadata as DatabaseBackupMetadata,
  BackupOptions as DatabaseBackupOptions,
  FunctionOptions,
} from './database.js';
import type { SqliteError as SqliteErrorClass } from './errors.js';
import type { DatabaseOptions } from './options.js';
import type {
  ColumnDefinition as StatementColumnDefinition,
  RunResult as StatementRunResult,
  StatementOf,
} from './statement.js';
import type { Transaction as TransactionOf } from './transaction.js';

// Errors' stacks begin at the user's call, as the driver's do (its methods are native), not in
// this package's files (built, or as source maps name them).
hideInternalFrames(new URL('.', import.meta.url), new URL('../src/', import.meta.url));

/**
 * The database class, callable with or without `new` like the driver's.
 *
 * @example
 * ```ts
 * import Database from '@unblock/better-sqlite3';
 * const db = new Database('app.db');
 * const same = Database('app.db'); // also works, as in better-sqlite3
 * ```
 */
export interface DatabaseConstructor {
  new (filename?: string | Buffer, options?: DatabaseOptions): DatabaseClass;
  (filename?: string | Buffer, options?: DatabaseOptions): DatabaseClass;
  readonly prototype: DatabaseClass;
  open: typeof DatabaseClass.open;
  SqliteError: typeof DatabaseClass.SqliteError;
}

/**
 * `new Database(filename?, options?)`: better-sqlite3's Database, asynchronous. Also callable
 * without `new`; subclassing works.
 *
 * @example
 * ```ts
 * import Database from '@unblock/better-sqlite3';
 * const db = new Database(':memory:');
 * console.log(await (await db.prepare('select 1 + 1 as two')).get()); // { two: 2 }
 * ```
 */
export const Database = new Proxy(DatabaseClass, {
  apply: (target, _this, args: [string | Buffer | undefined, DatabaseOptions | undefined]) =>
    new target(...args),
}) as unknown as DatabaseConstructor;
export type Database = DatabaseClass;

/**
 * The types @types/better-sqlite3 declares on `Database`, so that code naming them
 * (`Database.Database`, `Database.Statement<[number], Row>`, `Database.Options`, ...) compiles as
 * it did. Types only: the values are the named exports.
 *
 * @example
 * ```ts
 * import Database from '@unblock/better-sqlite3';
 * let db: Database.Database;
 * let byId: Database.Statement<[number], { id: number; name: string }>;
 * const options: Database.Options = { readonly: true, readers: 4 };
 * ```
 */
// A namespace of types only merges with the `Database` value as @types/better-sqlite3's does.
// eslint-disable-next-line @typescript-eslint/no-namespace
export declare namespace Database {
  type Database = DatabaseClass;
  type Statement<
    BindParameters extends unknown[] | NonNullable<unknown> = unknown[],
    Result = unknown,
  > = StatementOf<BindParameters, Result>;
  type Options = DatabaseOptions;
  type RunResult = StatementRunResult;
  type ColumnDefinition = StatementColumnDefinition;
  type Transaction<F extends (...args: never[]) => unknown = (...args: never[]) => unknown> =
    TransactionOf<Parameters<F>, Awaited<ReturnType<F>>>;
  type RegistrationOptions = FunctionOptions;
  type AggregateOptions = DatabaseAggregateOptions;
  type BackupMetadata = DatabaseBackupMetadata;
  type BackupOptions = DatabaseBackupOptions;
  type PragmaOptions = { simple?: boolean };
  type SerializeOptions = { attached?: string };
  type SqliteError = typeof SqliteErrorClass;
}

export default Database;
// CommonJS users get the class itself from require(), as with better-sqlite3.
export { Database as 'module.exports' };

export { SqliteError } from './errors.js';
export { Statement } from './statement.js';
export type { RunResult, ColumnDefinition } from './statement.js';
export type { DatabaseOptions } from './options.js';
export type {
  AggregateOptions,
  BackupMetadata,
  BackupOptions,
  FunctionOptions,
  UserFunction,
} from './database.js';
export type { Transaction } from './transaction.js';
export { createClient } from './client.js';
export type { ClientOptions } from './client.js';
