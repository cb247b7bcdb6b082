/**
 * The SQL that returns the calling connection's interrupt id, once the extension is loaded on it.
 *
 * The worker that owns a connection runs it and hands the number to whichever thread may need to
 * interrupt that connection.
 *
 * @example
 * ```ts
 * db.loadExtension(sqliteInterrupt.extensionPath, sqliteInterrupt.entryPoint);
 * const id = db.prepare(CONNECTION_ID_SQL).pluck().get() as number;
 * ```
 */
export const CONNECTION_ID_SQL = 'select unblock_interrupt_id()';

/**
 * The loaded addon: what to pass to `db.loadExtension`, and the cross-thread calls on the
 * connections that loaded it.
 *
 * Every method may be called from any thread. Connections are identified by the id that
 * {@link CONNECTION_ID_SQL} returns on them; ids are never reused, and one stops being registered
 * when its connection closes.
 *
 * @example
 * ```ts
 * const sqliteInterrupt = loadSqliteInterrupt();
 * if (sqliteInterrupt) {
 *   db.loadExtension(sqliteInterrupt.extensionPath, sqliteInterrupt.entryPoint);
 * }
 * ```
 */
export interface SqliteInterrupt {
  /**
   * Absolute path of the shared library, the first argument of better-sqlite3's
   * `db.loadExtension`. It is the same file Node loaded as an addon.
   *
   * @example
   * ```ts
   * db.loadExtension(sqliteInterrupt.extensionPath, sqliteInterrupt.entryPoint);
   * ```
   */
  readonly extensionPath: string;

  /**
   * The extension's entry point, the second argument of `db.loadExtension`. SQLite would derive
   * the same name from the file name, so passing it only makes the call independent of that rule.
   *
   * @example
   * ```ts
   * sqliteInterrupt.entryPoint; // 'sqlite3_sqliteinterrupt_init'
   * ```
   */
  readonly entryPoint: string;

  /**
   * Interrupts whatever statement connection `id` is running, as `sqlite3_interrupt` does: the
   * statement fails with a `SqliteError` whose `code` is `'SQLITE_INTERRUPT'`, and the connection
   * stays usable.
   *
   * Returns `false` when no open connection has that id (it closed, or never existed), `true`
   * when the interrupt was delivered. A connection that is idle ignores it, except that a
   * statement started while another statement of the same connection is still active (an
   * unfinished `iterate()`) is interrupted too; so do not start statements on the connection
   * until the interrupt returned.
   *
   * @throws TypeError (code `UNBLOCK_ERR_INVALID_ARG`) when `id` is not a safe integer.
   * @example
   * ```ts
   * worker.once('message', (id: number) => {
   *   setTimeout(() => sqliteInterrupt.interrupt(id), 1000); // stop a query that runs too long
   * });
   * ```
   */
  interrupt(id: number): boolean;

  /**
   * Whether `id` belongs to a connection that loaded the extension and has not closed.
   *
   * @throws TypeError (code `UNBLOCK_ERR_INVALID_ARG`) when `id` is not a safe integer.
   * @example
   * ```ts
   * sqliteInterrupt.isRegistered(id); // false once the worker called db.close()
   * ```
   */
  isRegistered(id: number): boolean;

  /**
   * How many connections in the whole process (all threads) have the extension loaded and are
   * still open.
   *
   * @example
   * ```ts
   * console.log(`${sqliteInterrupt.registeredCount()} interruptible connections`);
   * ```
   */
  registeredCount(): number;

  /**
   * The id of the connection that last loaded the extension on the calling thread, or
   * `undefined` if none did. Read right after `db.loadExtension(...)`, it is that connection's
   * id, as {@link CONNECTION_ID_SQL} would return it, without running a statement: preparing one
   * reads the database schema, which waits for (and may fail on, `SQLITE_BUSY`) a lock that
   * another connection holds on the file.
   *
   * @example
   * ```ts
   * db.loadExtension(sqliteInterrupt.extensionPath, sqliteInterrupt.entryPoint);
   * const id = sqliteInterrupt.loadedConnectionId()!;
   * ```
   */
  loadedConnectionId(): number | undefined;
}
