import { registerErrorClass } from '@unblock/core';

/**
 * The error better-sqlite3 throws for a failed SQLite call: `code` is the extended result code
 * (`SQLITE_CONSTRAINT_UNIQUE`, `SQLITE_CANTOPEN`, ...). Errors thrown in the worker arrive as
 * instances of this class, with the same `message` and `code`.
 *
 * @example
 * ```ts
 * import Database, { SqliteError } from '@unblock/better-sqlite3';
 * try {
 *   await db.exec('insert into users (id) values (1)');
 * } catch (err) {
 *   if (err instanceof SqliteError && err.code === 'SQLITE_CONSTRAINT_PRIMARYKEY') conflict();
 * }
 * ```
 */
export class SqliteError extends Error {
  /** The SQLite extended result code, such as `'SQLITE_BUSY'`. */
  code: string;

  constructor(message: string, code: string) {
    if (typeof code !== 'string') throw new TypeError('Expected second argument to be a string');
    // As the driver does: the message is always a string ('undefined' included).
    super('' + message);
    Error.captureStackTrace(this, SqliteError);
    this.code = code;
  }
}

// As in the driver, `name` lives on the prototype (not enumerable), so it prints as SqliteError.
Object.defineProperty(SqliteError.prototype, 'name', {
  value: 'SqliteError',
  writable: true,
  enumerable: false,
  configurable: true,
});

registerErrorClass(SqliteError, 'SqliteError');
