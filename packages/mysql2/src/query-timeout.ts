import { AbortError, TimeoutError, withCallerStack } from '@unblock/core';
import type { CallerStack } from './caller-stack.js';

/** mysql2's timeout error (lib/commands/query.js `_handleTimeoutError`), with its properties. */
interface QueryTimeoutError extends Error {
  code: 'PROTOCOL_SEQUENCE_TIMEOUT';
  errorno: 'PROTOCOL_SEQUENCE_TIMEOUT';
  syscall: 'query';
}

/**
 * What a call with a per-query `timeout` rejects with when that timeout fired: mysql2's error
 * ('Query inactivity timeout', `code` and `errorno` `PROTOCOL_SEQUENCE_TIMEOUT`, `syscall`
 * 'query', no `fatal`: the connection stays usable, here because core stopped the statement
 * with `KILL QUERY`). Its `cause` is core's AbortError, whose `state` says whether the statement
 * had started. Any other error (another timeout or signal, a server error) passes unchanged.
 *
 * @internal
 * @example
 * ```ts
 * session.call('query', args, { timeout }).catch((err) => { throw queryTimeoutError(err, timeout, caller); });
 * ```
 */
export function queryTimeoutError(
  err: unknown,
  timeout: number,
  caller: CallerStack | undefined,
): unknown {
  if (!(err instanceof AbortError)) return err;
  const reason = err.cause;
  if (!(reason instanceof TimeoutError) || reason.timeout !== timeout) return err;
  const out = new Error('Query inactivity timeout', { cause: err }) as QueryTimeoutError;
  out.errorno = 'PROTOCOL_SEQUENCE_TIMEOUT';
  out.code = 'PROTOCOL_SEQUENCE_TIMEOUT';
  out.syscall = 'query';
  return caller === undefined ? out : withCallerStack(out, caller.stack);
}
