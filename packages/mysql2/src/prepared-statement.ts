import type { RemoteHandle, Session } from '@unblock/core';
import { closedStateError } from './closed-state-error.js';
import { failLikeQueued } from './queued-failure.js';
import { assertBindable, portableValues } from './raw-codec.js';
import { fieldsFromJson, toResult } from './results.js';
import type { FieldPacket, QueryResult } from './types.js';

interface StatementMeta {
  id: number;
  query: string;
  columns: string;
  parameters: string;
}

/**
 * What the server answers mysql2/promise for a statement executed after `close()`: the closed
 * statement's worker-side handle is gone here, so the same error is made on the caller's side,
 * with the same own properties in the same order (mysql2 sets `sql` to the command's, which a
 * statement's execute has none of).
 */
function unknownStatementError(id: number): Error {
  const message = `Unknown prepared statement handler (${id}) given to mysqld_stmt_execute`;
  return Object.assign(new Error(message), {
    code: 'ER_UNKNOWN_STMT_HANDLER',
    errno: 1243,
    sqlState: 'HY000',
    sqlMessage: message,
    sql: undefined,
  });
}

/**
 * A server-side prepared statement, as `conn.prepare()` resolves it (mysql2's
 * PreparedStatementInfo). The statement lives in the worker; `statement` describes it.
 *
 * @example
 * ```ts
 * const stmt = await conn.prepare('SELECT ? AS x');
 * const [rows] = await stmt.execute([1]);
 * await stmt.close();
 * ```
 */
export class PreparedStatementInfo {
  /** The statement's SQL, id, result columns and parameters, as mysql2 reports them. */
  readonly statement: {
    query: string;
    id: number;
    columns: FieldPacket[];
    parameters: FieldPacket[];
  };
  readonly #handle: RemoteHandle<StatementMeta>;
  /** `close()` was called (the handle also closes with its connection). */
  #closed = false;
  /** Whether the statement's connection refuses commands (ended, destroyed, its pool ended). */
  readonly #connectionClosed: () => boolean;

  /** The statement's connection, whose failure a queued `execute()` shares (see failLikeQueued). */
  readonly #session: Session;

  /** Made by `connection.prepare()`, not by the caller. */
  constructor(handle: RemoteHandle, session: Session, connectionClosed: () => boolean) {
    this.#handle = handle as RemoteHandle<StatementMeta>;
    this.#session = session;
    this.#connectionClosed = connectionClosed;
    const meta = this.#handle.meta;
    // In the order mysql2's PreparedStatementInfo sets them, which Object.keys(),
    // JSON.stringify() and util.inspect() show.
    this.statement = {
      query: meta.query,
      id: meta.id,
      columns: fieldsFromJson(meta.columns),
      parameters: fieldsFromJson(meta.parameters),
    };
  }

  /**
   * Executes the statement with these parameters.
   *
   * @example
   * ```ts
   * const [rows, fields] = await stmt.execute([42]);
   * ```
   */
  async execute<T extends QueryResult = QueryResult>(
    parameters?: unknown,
  ): Promise<[T, FieldPacket[]]> {
    // mysql2's connection refuses the command before the server can answer that the statement
    // is unknown: the closed-state error comes first.
    if (this.#connectionClosed()) throw closedStateError();
    if (this.#closed) throw unknownStatementError(this.statement.id);
    assertBindable(parameters);
    const sent = this.#handle.call('execute', [portableValues(parameters)]);
    return (await failLikeQueued(this.#session, sent, toResult)) as [T, FieldPacket[]];
  }

  /**
   * Closes the statement on the server.
   *
   * @example
   * ```ts
   * await stmt.close();
   * ```
   */
  async close(): Promise<void> {
    this.#closed = true;
    await this.#handle.call('close', []).catch(() => undefined);
    await this.#handle.close();
  }
}
