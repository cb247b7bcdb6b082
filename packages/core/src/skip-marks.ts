import { SKIP_MARKS } from './protocol.js';

/**
 * Marks call `id` in a session's shared state for its worker to skip (see SKIP_MARKS); false
 * when no mark is free.
 *
 * @example
 * ```ts
 * if (!markSkip(state, id)) lookAgainLater();
 * ```
 */
export function markSkip(state: Int32Array, id: number): boolean {
  for (let i = SKIP_MARKS.first; i < SKIP_MARKS.first + SKIP_MARKS.count; i++) {
    if (Atomics.compareExchange(state, i, 0, id) === 0) return true;
  }
  return false;
}

/**
 * Takes call `id`'s mark, if there is one: the worker, as it starts the call; the caller, when
 * the call started all the same. True when there was one.
 *
 * @example
 * ```ts
 * if (takeSkipMark(state, id)) skip(id);
 * ```
 */
export function takeSkipMark(state: Int32Array, id: number): boolean {
  for (let i = SKIP_MARKS.first; i < SKIP_MARKS.first + SKIP_MARKS.count; i++) {
    if (Atomics.compareExchange(state, i, id, 0) === id) return true;
  }
  return false;
}
