/**
 * Where a call was when it was cancelled: `'queued'` (it never reached the driver) or
 * `'running'`.
 *
 * @example
 * ```ts
 * import { AbortError, type AbortState } from '@unblock/core';
 * const state: AbortState | undefined = await session
 *   .call('query', [sql], { signal })
 *   .then(() => undefined, (err) => (err instanceof AbortError ? err.state : undefined));
 * if (state === 'queued') retryElsewhere(); // the driver never saw it
 * ```
 */
export type AbortState = 'queued' | 'running';

/**
 * The rejection of a cancelled call, shaped like Node's own AbortError
 * (`name: 'AbortError'`, `code: 'ABORT_ERR'`, `cause: signal.reason`), plus `state`:
 * `'queued'` when the call never started, `'running'` when it was stopped while running.
 *
 * @example
 * ```ts
 * import { AbortError } from '@unblock/core';
 * const ac = new AbortController();
 * const p = session.call('sleep', [5000], { signal: ac.signal });
 * ac.abort(new Error('user left'));
 * await p.catch((err) => err instanceof AbortError && err.state); // 'running'
 * ```
 */
export class AbortError extends Error {
  readonly code = 'ABORT_ERR' as const;
  /** Whether the call was still queued or already running when it was cancelled. */
  readonly state: AbortState;

  constructor(state: AbortState, reason: unknown) {
    super(`The operation was aborted while ${state}`, { cause: reason });
    this.state = state;
  }
}

Object.defineProperty(AbortError.prototype, 'name', {
  value: 'AbortError',
  writable: true,
  configurable: true,
});
