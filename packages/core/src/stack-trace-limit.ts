/**
 * Sets `Error.stackTraceLimit` to `frames`; false, and nothing changed, where it cannot be set (a
 * hardened environment may have frozen it, and a module's strict code then throws).
 *
 * @example
 * ```ts
 * const limit = Error.stackTraceLimit;
 * const set = trySetStackTraceLimit(24);
 * Error.captureStackTrace(holder, fn);
 * if (set) Error.stackTraceLimit = limit;
 * ```
 */
export function trySetStackTraceLimit(frames: number): boolean {
  try {
    Error.stackTraceLimit = frames;
    return true;
  } catch {
    return false;
  }
}
