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
  return { db, parent: storage.getStore(), tail: Promise.resolve(), done: false, writer };
}

/** Waits for the nested transactions before this one; resolves to the function that lets the next go. */
export async function lockScope(scope: TxScope): Promise<() => void> {
  const previous = scope.tail;
  let release!: () => void;
  scope.tail = new Promise<void>((resolve) => (release = resolve));
  await previous;
  return release;
}
