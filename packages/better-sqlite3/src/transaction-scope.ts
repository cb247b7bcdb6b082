import { AsyncLocalStorage } from 'node:async_hooks';
import type { Session } from '@unblock/core';

/** One transaction (or savepoint) in progress: calls made inside its async context run in it. */
export interface TxScope {
  readonly db: object;
  readonly parent: TxScope | undefined;
  /** Nested transactions of this one run one after another. */
  tail: Promise<void>;
  /** Set when the transaction ended: late calls from its context then run as outside calls. */
  done: boolean;
  /**
   * The writer session the transaction began on, once BEGIN was sent. The transaction lives
   * in that connection only: if its worker exits, calls of the scope must not reach another.
   */
  writer: Session | undefined;
  /**
   * Calls made in the scope that have not settled: when `fn` returns, those it did not await
   * are waited for, and one that failed fails the transaction (see {@link lateFailure}).
   */
  readonly pending: Set<Promise<unknown>>;
}

const storage = new AsyncLocalStorage<TxScope>();

/**
 * Runs `fn` with no async-local state at all (neither transaction scopes nor the caller's
 * `withCallOptions`): captured when this module loads. ROLLBACK runs this way, so that the
 * aborted signal that made a transaction fail cannot also stop its rollback.
 */
export const runDetached: <R>(fn: () => R) => R = AsyncLocalStorage.snapshot();

/** The innermost open transaction of `db` in the current async context. */
export function currentScope(db: object): TxScope | undefined {
  for (let scope = storage.getStore(); scope !== undefined; scope = scope.parent) {
    if (scope.db === db && !scope.done) return scope;
  }
  return undefined;
}

/** Runs `fn` inside a new scope of `db`. */
export function runInScope<R>(scope: TxScope, fn: () => R): R {
  return storage.run(scope, fn);
}

/** A new scope for `db`, child of whatever scope is current. */
export function newScope(db: object, writer?: Session): TxScope {
  return {
    db,
    parent: storage.getStore(),
    tail: Promise.resolve(),
    done: false,
    writer,
    pending: new Set(),
  };
}

/**
 * Waits for the calls of `scope` still in flight once its function returned (made without
 * `await`, as a synchronous `fn` makes them) and throws the first failure among them. In the
 * driver such a call runs inside `fn` and its error is thrown from it, rolling the transaction
 * back; here `fn` never saw it, and COMMIT would keep the calls around it that succeeded.
 * Calls that settled before `fn` returned are `fn`'s to handle, as a caught error is.
 */
export async function lateFailure(scope: TxScope): Promise<void> {
  // Again until none is left: a call still waiting for its connection joins the set later.
  while (scope.pending.size > 0) {
    const late = [...scope.pending];
    scope.pending.clear();
    for (const outcome of await Promise.allSettled(late)) {
      if (outcome.status === 'rejected') throw outcome.reason;
    }
  }
}

/** Waits for the nested transactions before this one; resolves to the function that lets the next go. */
export async function lockScope(scope: TxScope): Promise<() => void> {
  const previous = scope.tail;
  let release!: () => void;
  scope.tail = new Promise<void>((resolve) => (release = resolve));
  await previous;
  return release;
}
