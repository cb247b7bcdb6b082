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
   * Calls made in the scope not answered yet: when `fn` returns, those it did not await are
   * waited for, and one that fails then fails the transaction (see {@link lateFailure}).
   */
  unanswered: number;
  /**
   * The promises of those calls (emptied whenever none is left): their failures reach the
   * caller through the transaction, so they are not also reported as unhandled rejections.
   */
  readonly calls: Promise<unknown>[];
  /** Whether `fn` has returned: a call of the scope failing from then on fails the transaction. */
  returned: boolean;
  /** The first failure of a call of the scope after `fn` returned. */
  lateError: { error: unknown } | undefined;
  /** Called when `unanswered` drops to 0 while {@link lateFailure} waits. */
  onAnswered: (() => void) | undefined;
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
    unanswered: 0,
    calls: [],
    returned: false,
    lateError: undefined,
    onAnswered: undefined,
  };
}

/** Counts `call`, made in `scope` (see {@link callAnswered}). */
export function callMade(scope: TxScope, call: Promise<unknown>): void {
  scope.unanswered++;
  scope.calls.push(call);
}

/** Counts the answer of a call made in `scope`: `failure` when it failed. */
export function callAnswered(scope: TxScope, failure?: { error: unknown }): void {
  if (failure !== undefined && scope.returned) scope.lateError ??= failure;
  if (--scope.unanswered > 0) return;
  scope.calls.length = 0;
  scope.onAnswered?.();
}

const ignore = (): void => undefined;

/**
 * Marks the calls of `scope` in flight as handled: once `fn` has returned or thrown, their
 * failures are the transaction's (it rejects with the first of them, or with `fn`'s error), not
 * unhandled rejections of promises `fn` dropped (as a synchronous `fn` does with all of them).
 */
export function adoptCalls(scope: TxScope): void {
  for (const call of scope.calls) call.catch(ignore);
}

/**
 * Waits for the calls of `scope` still in flight once its function returned (made without
 * `await`, as a synchronous `fn` makes them) and throws the first failure among them. In the
 * driver such a call runs inside `fn` and its error is thrown from it, rolling the transaction
 * back; here `fn` never saw it, and COMMIT would keep the calls around it that succeeded.
 * Calls that failed before `fn` returned are `fn`'s to handle, as a caught error is.
 */
export async function lateFailure(scope: TxScope): Promise<void> {
  scope.returned = true;
  // Their failures are the transaction's from now on (it rejects with the first).
  adoptCalls(scope);
  // Again until none is left: a call still waiting for its connection is counted again as it
  // is sent, just after the wait that counted it ends.
  while (scope.unanswered > 0) {
    await new Promise<void>((resolve) => (scope.onAnswered = resolve));
  }
  scope.onAnswered = undefined;
  if (scope.lateError !== undefined) throw scope.lateError.error;
}

/** Waits for the nested transactions before this one; resolves to the function that lets the next go. */
export async function lockScope(scope: TxScope): Promise<() => void> {
  const previous = scope.tail;
  let release!: () => void;
  scope.tail = new Promise<void>((resolve) => (release = resolve));
  await previous;
  return release;
}
