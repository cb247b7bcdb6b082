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
  return swapMark(state, 0, id);
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
  return swapMark(state, id, 0);
}

/**
 * Replaces the first mark slot holding `from` by `to`. A slot is read before it is swapped: the
 * worker scans the slots at every call start, and they are nearly always empty (a load is
 * cheaper than a compare-and-swap, and as sequentially consistent).
 */
function swapMark(state: Int32Array, from: number, to: number): boolean {
  for (let i = SKIP_MARKS.first; i < SKIP_MARKS.first + SKIP_MARKS.count; i++) {
    if (Atomics.load(state, i) === from && Atomics.compareExchange(state, i, from, to) === from)
      return true;
  }
  return false;
}
