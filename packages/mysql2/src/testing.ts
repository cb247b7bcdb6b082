// Test hooks for createClient() clients: what @unblock/conformance needs to watch leaks and
// to crash a worker on purpose. Not part of the drop-in API.
import type { Client, Pool as CorePool } from '@unblock/core';
import { clientInternals } from './client.js';

/**
 * The core pool whose worker threads host a client's connections (for `watchLeaks`, `stats`,
 * leak events). Starts the workers if no call has yet.
 *
 * @example
 * ```ts
 * import { watchLeaks } from '@unblock/core/testing';
 * import { corePoolOf } from '@unblock/mysql2/testing';
 * const watch = watchLeaks(corePoolOf(client), { kinds: ['cursor'] });
 * ```
 */
export function corePoolOf(client: Client): CorePool {
  return clientInternals(client).corePool();
}

/**
 * Makes the worker thread that runs the call exit in the middle of it (`process.exit(1)` from
 * a typeCast function, which runs in the worker while the result is decoded). Inside
 * `client.transaction(fn)` it is the transaction's connection's worker. Resolves never:
 * the returned call rejects with core's WorkerExitedError.
 *
 * @example
 * ```ts
 * await crashWorker(client).catch((err) => err.code); // 'UNBLOCK_ERR_WORKER_EXITED'
 * ```
 */
export function crashWorker(client: Client): Promise<unknown> {
  return clientInternals(client).rawQuery({
    sql: 'SELECT 1 AS crash',
    // Self-contained: it is shipped to the worker as source and compiled there.
    typeCast: () => process.exit(1),
  });
}
