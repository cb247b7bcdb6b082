// The parts of better-sqlite3's API the worker uses. The package ships no typings, and
// @types/better-sqlite3 is not a dependency, so the worker describes what it calls.

/** A better-sqlite3 statement, as the worker drives it. */
export interface NativeStatement {
  readonly reader: boolean;
  readonly readonly: boolean;
  readonly busy: boolean;
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: unknown[]): unknown;
  all(...params: unknown[]): unknown[];
  iterate(...params: unknown[]): IterableIterator<unknown>;
  pluck(on?: boolean): this;
  raw(on?: boolean): this;
  expand(on?: boolean): this;
  safeIntegers(on?: boolean): this;
  columns(): ColumnDefinition[];
}

/**
 * What `stmt.columns()` returns for one column (nulls for an expression).
 *
 * @example
 * ```ts
 * const [id]: ColumnDefinition[] = await (await db.prepare('select id from users')).columns();
 * // { name: 'id', column: 'id', table: 'users', database: 'main', type: 'INTEGER' }
 * ```
 */
export interface ColumnDefinition {
  name: string;
  column: string | null;
  table: string | null;
  database: string | null;
  type: string | null;
}

/** A better-sqlite3 database connection, as the worker drives it. */
export interface NativeDatabase {
  readonly inTransaction: boolean;
  readonly open: boolean;
  prepare(sql: string): NativeStatement;
  exec(sql: string): this;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  close(): this;
  serialize(options?: { attached?: string }): Buffer;
  backup(
    destination: string,
    options?: { attached?: string; progress?: (info: BackupProgress) => number | undefined },
  ): Promise<BackupProgress>;
  function(
    name: string,
    options: Record<string, unknown>,
    fn: (...args: unknown[]) => unknown,
  ): this;
  aggregate(name: string, options: Record<string, unknown>): this;
  table(name: string, definition: unknown): this;
  loadExtension(path: string, entryPoint?: string): this;
  defaultSafeIntegers(on?: boolean): this;
  unsafeMode(on?: boolean): this;
}

/** What `db.backup()` reports. */
export interface BackupProgress {
  totalPages: number;
  remainingPages: number;
}

/** The better-sqlite3 module's default export. */
export interface NativeDatabaseConstructor {
  new (filename?: string | Buffer, options?: Record<string, unknown>): NativeDatabase;
  SqliteError: new (message: string, code: string) => Error;
}
