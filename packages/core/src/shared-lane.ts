import { LaneCodec } from './lane-codec.js';
import { LANES_OFFSET, LANE_BYTES } from './protocol.js';

// A session whose caller awaits each call in turn pays a postMessage each way per call, and
// most of that is structured clone's fixed cost (measured here: 5-7 µs per round trip for a
// call and its answer, 0.1 µs for the same hand-off through shared memory). So while both sides
// are awake, a single call and its answer go through a lane instead: a one-message mailbox in
// the session's SharedArrayBuffer. A message is published by storing its sequence number, after
// its bytes; the receiver takes it in order with the port's messages by that number.

/** Header slots of a lane (Int32). */
const SEQ = 0;
const LENGTH = 1;
const HEADER_BYTES = 8;

/**
 * One direction of a session's lanes.
 *
 * @example
 * ```ts
 * const lane = new SharedLane(stateBuffer, 0);
 * const length = lane.prepare([id, 0, 'get', args]);
 * if (length >= 0) lane.publish(seq, length);
 * // the other side:
 * if (lane.seq === expected) handle(lane.take());
 * ```
 */
export class SharedLane {
  private readonly header: Int32Array;
  private readonly codec: LaneCodec;

  /** Lane `index` (0: caller to worker, 1: worker to caller) of a session's state buffer. */
  constructor(buffer: SharedArrayBuffer, index: 0 | 1) {
    const offset = LANES_OFFSET + index * LANE_BYTES;
    this.header = new Int32Array(buffer, offset, HEADER_BYTES >> 2);
    this.codec = new LaneCodec(buffer, offset + HEADER_BYTES, LANE_BYTES - HEADER_BYTES);
  }

  /** The lanes of a session's state, or undefined when it has none (a muxed session). */
  static of(state: Int32Array): [SharedLane, SharedLane] | undefined {
    const buffer = state.buffer;
    if (!(buffer instanceof SharedArrayBuffer)) return undefined;
    if (buffer.byteLength < LANES_OFFSET + 2 * LANE_BYTES) return undefined;
    return [new SharedLane(buffer, 0), new SharedLane(buffer, 1)];
  }

  /** Sequence number of the last message published (the session's start count before the first). */
  get seq(): number {
    return Atomics.load(this.header, SEQ);
  }

  /**
   * Writes `value` without publishing it; its length, or -1 when it cannot go this way (too
   * big, or not a plain value). The receiver must have taken the previous message. `rawData`:
   * it holds a user's values as they are, not encoded (a driver's plain result).
   */
  prepare(value: unknown, rawData = false): number {
    return this.codec.write(value, rawData);
  }

  /** Numbers a new lane's messages from `seq` on: the first published is the one after it. */
  startAt(seq: number): void {
    Atomics.store(this.header, SEQ, seq);
  }

  /** Publishes what `prepare` wrote, under `seq`. */
  publish(seq: number, length: number): void {
    Atomics.store(this.header, LENGTH, length);
    Atomics.store(this.header, SEQ, seq);
  }

  /** Reads the last published message. */
  take(): unknown {
    return this.codec.read(Atomics.load(this.header, LENGTH));
  }
}
