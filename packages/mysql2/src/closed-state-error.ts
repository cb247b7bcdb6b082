/** The message of mysql2's error for a command on a closed connection. */
export const closedStateMessage = "Can't add new command when connection is in closed state";

/**
 * mysql2's error for a command on a closed connection.
 *
 * @example
 * ```ts
 * if (closed) return Promise.reject(closedStateError());
 * ```
 */
export function closedStateError(): Error {
  const err = new Error(closedStateMessage) as Error & {
    fatal: boolean;
  };
  err.fatal = true;
  return err;
}

/**
 * mysql2's error for a command that was queued when the connection was destroyed: `destroy()`
 * ends the socket, and the command's write fails.
 *
 * @example
 * ```ts
 * session.cancelQueued(writeAfterEndError);
 * ```
 */
export function writeAfterEndError(): Error {
  const err = new Error('write after end') as Error & { code: string; fatal: boolean };
  err.code = 'ERR_STREAM_WRITE_AFTER_END';
  err.fatal = true;
  return err;
}
