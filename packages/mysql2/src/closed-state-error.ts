/**
 * mysql2's error for a command on a closed connection.
 *
 * @example
 * ```ts
 * if (closed) return Promise.reject(closedStateError());
 * ```
 */
export function closedStateError(): Error {
  const err = new Error("Can't add new command when connection is in closed state") as Error & {
    fatal: boolean;
  };
  err.fatal = true;
  return err;
}
