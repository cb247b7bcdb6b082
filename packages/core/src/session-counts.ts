// A session's message counts and call ids live in Int32 slots of its shared state, and a session
// can outlive 2^31 calls (a database's writer session at 100k calls a second gets there in six
// hours). So both go round: a count as the Int32 slot it is kept in does (both sides count in
// the same 32 bits), and a call id from MAX_CALL_ID back to 1 (ids stay positive: 0 means no
// call, and -id marks one). Counts and ids are compared by their distance, never by size.
import { Slot, stateBytes } from './protocol.js';
import { SharedLane } from './shared-lane.js';

/** The largest call id; the id after it is 1. */
export const MAX_CALL_ID = 0x7fffffff;

/**
 * The call id after `id` (the first id follows 0).
 *
 * @example
 * ```ts
 * nextCallId(0); // 1
 * nextCallId(MAX_CALL_ID); // 1
 * ```
 */
export function nextCallId(id: number): number {
  return id >= MAX_CALL_ID ? 1 : id + 1;
}

/**
 * Whether call `id` is `last` or came before it (`last` 0: no call yet). Calls in flight are far
 * fewer than half the ids, so the shorter way round says which came first.
 *
 * @example
 * ```ts
 * callReached(Atomics.load(state, Slot.done), id); // call `id` has finished
 * callReached(1, MAX_CALL_ID); // true: the id before 1
 * ```
 */
export function callReached(last: number, id: number): boolean {
  if (last === 0) return false;
  let distance = last - id;
  if (distance > MAX_CALL_ID / 2) distance -= MAX_CALL_ID;
  else if (distance < -MAX_CALL_ID / 2) distance += MAX_CALL_ID;
  return distance >= 0;
}

/**
 * The message count after `count`, going round as an Int32 slot does under `Atomics.add`.
 *
 * @example
 * ```ts
 * this.received = nextCount(this.received);
 * ```
 */
export function nextCount(count: number): number {
  return (count + 1) | 0;
}

/**
 * Whether count `a` is ahead of count `b` (by less than half the round).
 *
 * @example
 * ```ts
 * if (countAhead(Atomics.load(state, Slot.sent), this.received)) pollPort();
 * ```
 */
export function countAhead(a: number, b: number): boolean {
  return ((a - b) | 0) > 0;
}

/**
 * @internal Where the counts and call ids of sessions opened from now on start, so that a test
 * can take a session round the Int32 limit in a few calls: `count` for every message count
 * (and the lanes' sequence numbers), `lastCallId` as if the calls up to it had run.
 */
export const sessionStart = { count: 0, lastCallId: 0 };

/**
 * A new session's shared state (see Slot), with its counts at {@link sessionStart}.
 *
 * @example
 * ```ts
 * const state = newSessionState(true); // a session with a port and lanes of its own
 * ```
 */
export function newSessionState(lanes: boolean): SharedArrayBuffer {
  const buffer = new SharedArrayBuffer(stateBytes(lanes));
  const { count, lastCallId } = sessionStart;
  const slots = new Int32Array(buffer);
  for (const slot of [Slot.posted, Slot.sent, Slot.laneTaken, Slot.cancelsPosted])
    slots[slot] = count;
  slots[Slot.done] = lastCallId;
  for (const lane of SharedLane.of(slots) ?? []) lane.startAt(count);
  return buffer;
}
