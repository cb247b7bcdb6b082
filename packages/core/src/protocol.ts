// The messages that cross between the caller's thread and a worker. Both sides import this file,
// so the wire format is written down once.

/** Index of each Int32 slot in a session's SharedArrayBuffer. */
export const Slot = {
  /** Id of the call the worker is running; negated by the caller while it interrupts that call. */
  running: 0,
  /** Id of the last call the worker finished; calls run in order (ids go round: see session-counts.ts). */
  done: 1,
  /** Id of the last call whose interrupt the caller has delivered (the worker waits for it). */
  interruptAck: 2,
  /** Messages the caller has sent (by port and by lane); the worker pulls them early when this moves. */
  posted: 3,
  /** 1 while the worker is running or briefly waiting for this session's calls. */
  awake: 4,
  /** Sequence number of the last caller's lane message the worker has taken. */
  laneTaken: 5,
  /** Id of the call the caller is waiting for on its lane; the worker negates it to answer there. */
  waiting: 6,
  /** Messages the worker has sent to the caller (by port and by lane); polling skips the port until it moves. */
  sent: 7,
  /**
   * Cancels the caller has posted, on a session whose worker cannot pull them (a mux end): the
   * worker starts no call while it has received fewer, so a call aborted while queued never
   * starts, even when no mark was free for it.
   */
  cancelsPosted: 8,
} as const;

/**
 * Slots after the named ones holding ids of calls the caller aborted before they started, for
 * a session whose worker cannot pull its cancel the moment it starts a call (a mux end shares
 * its port with other sessions). The caller writes a mark before it looks whether the call
 * runs; the worker takes the mark after it says it runs the call: one of them sees the other.
 */
export const SKIP_MARKS = { first: 9, count: 55 } as const;
export const SLOT_COUNT = SKIP_MARKS.first + SKIP_MARKS.count;

/** Bytes of one lane (a one-message mailbox in the session's shared state, see shared-lane.ts). */
export const LANE_BYTES = 8192;
/** Where the slots end and the caller's lane (to the worker) begins; the worker's lane follows. */
export const LANES_OFFSET = SLOT_COUNT * Int32Array.BYTES_PER_ELEMENT;
/** Size of a session's shared state: its slots, and the two lanes of a session with its own port. */
export const stateBytes = (lanes: boolean): number =>
  lanes ? LANES_OFFSET + 2 * LANE_BYTES : LANES_OFFSET;

/** The `target` of a call on the session's own connection (anything else is a handle id). */
export const CONNECTION_TARGET = 0;

/**
 * One call: [id, target (0 = the connection, else a handle id), operation, encoded args, and 1
 * when an abort of it would terminate the worker (it has a signal or timeout, and the session
 * has no other way to stop it): the worker then sends the answers it holds before starting it,
 * so that a termination cannot take them along].
 */
export type CallMessage = [id: number, target: number, op: string, args: unknown[], terminable?: 1];

/**
 * How a call ended. `cancelled`: it failed after the caller's cancel had the driver stop it (the
 * caller answers with an AbortError, whatever error the driver's stop produced).
 */
export const Outcome = { ok: 0, error: 1, skipped: 2, cancelled: 3 } as const;
export type OutcomeCode = (typeof Outcome)[keyof typeof Outcome];

/**
 * One answer: [id, outcome, encoded value or serialised error, how long the worker ran it (µs;
 * absent for a call that never ran)].
 */
export type ResultMessage = [id: number, outcome: OutcomeCode, value: unknown, ranUs?: number];

export type ToWorker =
  | { k: 'calls'; calls: CallMessage[] }
  | { k: 'cancel'; id: number }
  | { k: 'release'; ids: number[] }
  | { k: 'credit' }
  | { k: 'close' }
  /** Not counted in `posted`: a lane message may be waiting (the worker went idle as it came). */
  | { k: 'wake' };

export type FromWorker =
  | { k: 'opened'; info: unknown; interruptToken: unknown; threadId: number; hasCancel: boolean }
  | { k: 'openFailed'; error: unknown }
  | { k: 'results'; results: ResultMessage[] }
  /** Part of a large result of call `id`; the caller answers each with a credit. */
  | { k: 'chunk'; id: number; part: unknown }
  | { k: 'closed'; error?: unknown }
  /** Something the driver reported about the connection on its own (see `OpenContext.notify`). */
  | { k: 'notice'; event: string; data: unknown };

/** Sent from a worker to the pool once, when it starts: its inbox for new sessions. */
export interface WorkerHello {
  unblockHello: string;
  threadId: number;
  inbox: import('node:worker_threads').MessagePort;
}

/** Sent to a worker's inbox to open a session on that worker. */
export interface OpenSessionMessage {
  k: 'open';
  sessionId: number;
  /** The session's own port; undefined when it shares its worker's mux. */
  port: import('node:worker_threads').MessagePort | undefined;
  /** The worker's mux port, sent with its first muxed session. */
  muxPort: import('node:worker_threads').MessagePort | undefined;
  state: SharedArrayBuffer;
  options: unknown;
}

/** What the pool passes to every worker through piscina's workerData. */
export interface HostData {
  poolKey: string;
  driver: string;
  /** The nice value each worker thread lowers itself to (see PoolOptions.workerNice). */
  nice: number | undefined;
}

/**
 * How long a session or an open whose port closed waits for its worker's exit event, which
 * brings the exit code, before failing without it (ms): the two come milliseconds apart, in
 * either order, but 200 ms was seen to pass on a loaded machine.
 */
export const EXIT_EVENT_WAIT_MS = 2_000;
