import { setImmediate as nextTurn } from 'node:timers/promises';
import { MessagePort, receiveMessageOnPort, type Transferable } from 'node:worker_threads';
import { DataCloneError } from '../errors.js';
import type { Refusal, SessionPort } from '../port-mux.js';
import { sendApart } from '../send-apart.js';
import {
  Outcome,
  Slot,
  type CallMessage,
  type FromWorker,
  type OutcomeCode,
  type ResultMessage,
  type ToWorker,
} from '../protocol.js';
import { callReached, countAhead, nextCount } from '../session-counts.js';
import {
  RowSet,
  chunkRowCount,
  packColumnValues,
  packRows,
  plainRows,
  type PackedRows,
} from '../row-set.js';
import { SharedLane } from '../shared-lane.js';
import { takeSkipMark } from '../skip-marks.js';
import { RowStream } from './row-stream.js';
import { decodeValue, encodeValue, tagged } from '../value-codec.js';
import type { Driver } from './driver.js';
import { handlesOfSession } from './handle-table.js';
import {
  argsDecodeContext,
  invoke,
  operationContext,
  releaseHandles,
  type SessionOperationContext,
  resultEncodeContext,
} from './invoke.js';

/** Results go out in partial replies of this many, so the caller decodes while we run the rest. */
const PARTIAL_REPLY = 16;
/**
 * Rows of a result that may go back through the lane unpacked, to a caller waiting there: it then
 * skips the port's two wake-ups (measured here, better-sqlite3's 9-row `all()` awaited in turn:
 * 42.5 µs by port, 30.8 µs by lane). By 30 rows both took the same time, and packed columns
 * cost the caller's thread less: larger results go by port, as do those the lane cannot hold.
 */
const LANE_ROWS = 32;
/** Chunks of one large result that may be in flight before the caller's credit comes back. */
const CHUNK_WINDOW = 2;
/** How long a finished call waits for the caller to deliver an interrupt it has begun. */
const INTERRUPT_ACK_WAIT_MS = 5_000;
/** How long an idle session waits for the caller's next message before yielding (50 µs). */
const SPIN_WAIT_MS = 0.05;
/**
 * How long it waits after answering by port instead: the caller sees that answer only once its
 * event loop wakes up (50-150 µs on this machine), and with the shorter wait the next call
 * often found the worker gone, paying a wake-up on each side again.
 */
const PORT_ANSWER_WAIT_MS = 0.2;
/**
 * The worker waits for a caller's next message only if the last one came within this long of
 * its going idle: a caller awaiting calls in turn sends the next within a few µs (or one
 * event-loop wake-up, ~50 µs), while waiting after isolated calls only slows their answers
 * (measured here: one call a millisecond, 125-149 µs waiting, 79-120 µs not).
 */
const FOLLOW_UP_MS = 0.25;
/** The pseudo-operation that frees handles in queue order. */
const RELEASE = '$release';

/**
 * The worker side of one session: runs its calls in order against one connection, answers in
 * batches, streams large row sets under flow control, and follows the interrupt protocol of
 * the shared `state` slots.
 */
export class SessionHost {
  private readonly queue: CallMessage[] = [];
  private head = 0;
  private readonly cancelled = new Set<number>();
  private outbox: ResultMessage[] = [];
  private transfer: Transferable[] = [];
  private draining = false;
  /** Messages received from the caller (counts go round: see session-counts.ts). */
  private seenPosted: number;
  /** Cancels received (see Slot.cancelsPosted). */
  private cancelsSeen: number;
  /** Whether the port is a mux end (shared with other sessions, so never pulled). */
  private readonly muxed: boolean;
  private closing = false;
  private closed = false;
  private credits = CHUNK_WINDOW;
  private creditWaiter: (() => void) | undefined;
  private pendingCancel: Promise<void> | undefined;
  /** The id of the call whose operation is executing now (0 when none). */
  private executing = 0;
  /** The running call the driver was asked to stop (see Outcome.cancelled). */
  private stopping = 0;
  private readonly ctx: SessionOperationContext;
  /** The lanes from and to the caller (a session with its own port), see shared-lane.ts. */
  private readonly lanes: [fromCaller: SharedLane, toCaller: SharedLane] | undefined;
  /** Id of the call that came by lane: its answer may go back the same way. */
  private laneCall = 0;
  /** Messages posted to the caller (by port and by lane): a lane answer carries its number. */
  private sent: number;
  /** When the session last went idle, and whether the caller's calls follow each other closely. */
  private idleSince = -Infinity;
  private callsFollowUp = false;
  /** Whether the last answer went by lane (the caller was waiting for it, not asleep). */
  private lastAnswerByLane = false;
  /** When the running call's operation started (its answer says how long it ran). */
  private startedAt = 0;
  /**
   * A call ran since the driver's `endBatch` last did, and the `seenPosted` of when the first
   * of them ran (undefined: none ran): a call received after that starts a new batch.
   */
  private batchSince: number | undefined;

  constructor(
    private readonly driver: Driver<unknown, unknown>,
    private readonly connection: unknown,
    private readonly port: SessionPort,
    private readonly state: Int32Array,
    private readonly sessionId: number,
    private readonly onClosed: () => void,
    private readonly soleSession: () => boolean,
  ) {
    this.ctx = operationContext(sessionId);
    this.seenPosted = Atomics.load(state, Slot.posted);
    this.cancelsSeen = Atomics.load(state, Slot.cancelsPosted);
    this.sent = Atomics.load(state, Slot.sent);
    this.muxed = !(port instanceof MessagePort);
    this.lanes = this.muxed ? undefined : SharedLane.of(state);
    port.on('message', (message) => this.receive(message as ToWorker));
    port.on('refused', (data) => {
      const { message, error } = data as Refusal;
      const refused = message as FromWorker;
      if (refused.k === 'results') this.postApart(refused.results, error);
    });
  }

  /** Sends a notice of the driver's, after the answers already queued (they happened first). */
  notify(event: string, data: unknown): void {
    if (this.closed) return;
    this.flush();
    const transfer: Transferable[] = [];
    this.post(
      { k: 'notice', event, data: encodeValue(data, resultEncodeContext(transfer), 'notice') },
      transfer,
    );
  }

  private receive(message: ToWorker): void {
    // A lane message numbered before this one is taken first.
    this.takeLane();
    if (message.k === 'wake') return;
    this.seenPosted = nextCount(this.seenPosted);
    switch (message.k) {
      case 'calls':
        for (const call of message.calls) this.queue.push(call);
        this.kick();
        break;
      case 'cancel':
        this.cancelsSeen = nextCount(this.cancelsSeen);
        this.cancel(message.id);
        break;
      case 'release':
        // In order with the calls: a call queued before the release may still use the handle.
        this.queue.push([0, 0, RELEASE, message.ids]);
        this.kick();
        break;
      case 'credit':
        this.credits++;
        this.creditWaiter?.();
        break;
      case 'close':
        this.closing = true;
        this.kick();
        break;
    }
    // And a lane message numbered just after it: the caller sent that call while we were awake,
    // so no wake-up follows, and a message that starts no drain (a cancel, a credit) would
    // otherwise leave it there for good.
    if (!this.closed) this.takeLane();
  }

  /**
   * Pulls messages already posted without waiting for a turn of the event loop; true when it
   * got any. (`posted` can also trail `seenPosted` for a moment: the caller counts a message
   * just after posting it, and it may have arrived through the event loop already; there is
   * nothing to pull then, as the caller posts its next message only after counting this one.)
   */
  private pullPosted(): boolean {
    // A mux end is not pulled: the mux port carries other sessions' messages too.
    if (this.muxed) return false;
    if (!countAhead(Atomics.load(this.state, Slot.posted), this.seenPosted)) return false;
    let got = false;
    for (;;) {
      if (this.takeLane()) {
        got = true;
        continue;
      }
      const entry = receiveMessageOnPort(this.port as MessagePort);
      if (entry === undefined) return got;
      got = true;
      this.receive(entry.message as ToWorker);
    }
  }

  /** Takes the caller's lane message if it is the next one; true when it did. */
  private takeLane(): boolean {
    const lane = this.lanes?.[0];
    // The lane keeps the last message taken: once counts have gone round (2^32 messages by
    // port since), its number comes up again, and it must not be taken twice.
    if (lane === undefined || lane.seq !== nextCount(this.seenPosted)) return false;
    if (lane.seq === Atomics.load(this.state, Slot.laneTaken)) return false;
    const call = lane.take() as CallMessage;
    this.seenPosted = nextCount(this.seenPosted);
    Atomics.store(this.state, Slot.laneTaken, this.seenPosted);
    this.laneCall = call[0];
    this.queue.push(call);
    this.kick();
    return true;
  }

  /**
   * Only a worker serving this session alone, over a port of its own, may hold its event loop for
   * it, and only while the caller's calls follow each other closely.
   */
  private mayWait(): boolean {
    return this.callsFollowUp && !this.muxed && this.soleSession();
  }

  /**
   * Polls up to SPIN_WAIT_MS (PORT_ANSWER_WAIT_MS after an answer by port) for the caller's next
   * message; true when one came. A busy poll of the caller's count of posted messages (see
   * `pullPosted`), not Atomics.wait: waking from a futex costs about as much as the round trip
   * it would save.
   */
  private awaitPosted(): boolean {
    const wait = this.lastAnswerByLane ? SPIN_WAIT_MS : PORT_ANSWER_WAIT_MS;
    const deadline = performance.now() + wait;
    do {
      if (this.pullPosted()) return true;
    } while (performance.now() < deadline);
    return false;
  }

  private cancel(id: number): void {
    if (callReached(Atomics.load(this.state, Slot.done), id)) return;
    if (id === this.executing) {
      // A blocking driver is stopped by the caller's thread; only an asynchronous one gets here
      // while its operation runs.
      if (this.driver.cancel === undefined) return;
      // An asynchronous operation is running: let the driver stop it, and hold the next call
      // until it has, so the cancellation cannot reach the next call.
      this.stopping = id;
      this.pendingCancel = Promise.resolve()
        .then(() => this.driver.cancel!(this.connection))
        .catch(() => undefined)
        .finally(() => (this.pendingCancel = undefined));
      return;
    }
    this.cancelled.add(id);
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = true;
    this.callsFollowUp = performance.now() - this.idleSince < FOLLOW_UP_MS;
    Atomics.store(this.state, Slot.awake, 1);
    void this.drain();
  }

  private async drain(): Promise<void> {
    try {
      for (;;) {
        this.pullPosted();
        if (this.head === this.queue.length) {
          this.endBatch();
          // Nothing left: wait briefly for the caller's next message before going back to the
          // event loop. A caller awaiting each call in turn sends its next one within a few µs,
          // and picking it up here skips the event loop's wake-up (most of a round trip's cost).
          this.flush();
          if (this.closing || !this.mayWait() || !this.awaitPosted()) break;
          continue;
        }
        if (this.cancelsInFlight()) {
          // Let the cancels come in before the next call starts (it may be one of theirs).
          this.flush();
          this.port.sendNow?.();
          await nextTurn();
          continue;
        }
        // Answers wait to travel together, but not behind the last call of the queue (it may be
        // slow, and the calls before it are done), nor behind one whose abort would terminate
        // this worker: they would die with it, and their callers' calls fail.
        const call = this.queue[this.head];
        if (this.outbox.length > 0 && (this.head === this.queue.length - 1 || call[4] === 1))
          this.flush();
        // A mux sends once per turn: before a call that may end this worker, send now.
        if (call[4] === 1) this.port.sendNow?.();
        // What the driver shares over a batch (a read transaction) never covers a call sent
        // after the batch began: that call may follow a write the caller saw complete.
        if (this.batchSince !== this.seenPosted) this.endBatch();
        this.queue[this.head++] = undefined as never;
        if (this.head > 1024 && this.head * 2 > this.queue.length) {
          this.queue.splice(0, this.head);
          this.head = 0;
        }
        await this.run(call);
      }
      if (this.closing) await this.close();
    } finally {
      this.endBatch();
      Atomics.store(this.state, Slot.awake, 0);
      this.flush();
      this.draining = false;
      this.idleSince = performance.now();
    }
    // A call sent by lane as we went idle: the caller saw us awake, so it may not wake us.
    if (!this.closed) this.takeLane();
  }

  private async run([id, target, op, args]: CallMessage): Promise<void> {
    if (id === 0 && op === RELEASE) {
      releaseHandles(this.driver, args as number[]);
      return;
    }
    if (this.pendingCancel !== undefined) {
      this.flush();
      await this.pendingCancel;
    }
    if (this.cancelled.delete(id)) {
      this.markedToSkip(id);
      // Done with, for a cancel or an abort that comes later (a timeout after a signal).
      Atomics.store(this.state, Slot.done, id);
      this.outbox.push([id, Outcome.skipped, undefined]);
      return;
    }
    Atomics.store(this.state, Slot.running, id);
    // A cancel posted just before `running` was set is seen here (pulled from our own port, or
    // marked in the shared state for a mux end), so a call aborted while queued never starts.
    this.pullPosted();
    const marked = this.markedToSkip(id);
    if (this.cancelled.delete(id) || marked) {
      this.finishRunning(id);
      this.outbox.push([id, Outcome.skipped, undefined]);
      return;
    }
    let value: unknown;
    let outcome: typeof Outcome.ok | typeof Outcome.error = Outcome.ok;
    this.executing = id;
    this.batchSince ??= this.seenPosted;
    // Once a message was pulled since the batch began, drain ends the batch before the next
    // call, so no queued call would share what this one starts.
    this.ctx.moreQueued = this.head < this.queue.length && this.batchSince === this.seenPosted;
    this.startedAt = performance.now();
    try {
      value = invoke(
        this.driver,
        this.connection,
        target,
        op,
        decodeValue(args, argsDecodeContext) as unknown[],
        this.ctx,
      );
      if (isThenable(value)) {
        this.endBatch();
        this.flush();
        Atomics.store(this.state, Slot.awake, 0);
        value = await value;
        Atomics.store(this.state, Slot.awake, 1);
      }
    } catch (err) {
      outcome = Outcome.error;
      value = err;
    }
    if (outcome === Outcome.ok && value instanceof RowStream) {
      // Still running while its rows come: a cancel reaches the driver, not the next call.
      await this.streamRows(id, value);
      this.executing = 0;
      this.finishRunning(id);
      return;
    }
    // Taken as the operation returns: a large row set's chunks may then wait for the caller's
    // credit, which is delivery, not running.
    const ran = this.ranUs();
    this.executing = 0;
    this.finishRunning(id);
    if (
      outcome === Outcome.ok &&
      value instanceof RowSet &&
      value.rows.length > chunkRowCount(value.columns.length)
    ) {
      await this.streamRows(id, value, ran);
      return;
    }
    this.push(id, outcome, value, ran);
  }

  /** Answers call `id`, which ran for `ran` µs. */
  private push(id: number, outcome: OutcomeCode, value: unknown, ran: number): void {
    if (id === this.stopping) {
      this.stopping = 0;
      // Failed once the driver was asked to stop it: the caller's abort did that.
      if (outcome === Outcome.error) outcome = Outcome.cancelled;
    }
    const byLane = id === this.laneCall;
    // Only while the caller waits on the lane: a row set is then unpacked for it, and a plain
    // value (all the lane takes) encodes to a copy of itself, so it is written as it is.
    if (byLane) this.laneCall = 0;
    if (byLane && outcome === Outcome.ok && Atomics.load(this.state, Slot.waiting) === id) {
      const rows = value instanceof RowSet;
      const carried = rows ? unpackedForLane(value) : value;
      if (carried !== BY_PORT && this.answerByLane([id, outcome, carried, ran], !rows)) return;
    }
    const ctx = resultEncodeContext(this.transfer);
    let encoded: unknown;
    try {
      encoded =
        value instanceof RowSet
          ? encodeRowSet(value, 0, value.rows.length, this.transfer)
          : encodeValue(value, ctx, outcome === Outcome.ok ? 'result' : 'thrown');
    } catch (err) {
      outcome = Outcome.error;
      encoded = encodeValue(err, ctx, 'error');
    }
    if (byLane && this.answerByLane([id, outcome, encoded, ran], false)) return;
    this.outbox.push([id, outcome, encoded, ran]);
    if (this.outbox.length >= PARTIAL_REPLY) this.flush();
  }

  /** How long the running call has run, in whole µs. */
  private ranUs(): number {
    return Math.round((performance.now() - this.startedAt) * 1000);
  }

  /**
   * Answers a call that came by lane the same way, if the caller is still waiting there.
   * `rawData`: the result is the driver's value as it is, not encoded.
   */
  private answerByLane(result: ResultMessage, rawData: boolean): boolean {
    const lane = this.lanes![1];
    const id = result[0];
    // The caller stopped waiting: skip preparing an answer the CAS below would refuse.
    if (Atomics.load(this.state, Slot.waiting) !== id) return false;
    const length = lane.prepare(result, rawData);
    if (length < 0) return false;
    // Earlier answers (of calls the caller gave up on) go first, so the numbering holds.
    this.flush();
    if (Atomics.compareExchange(this.state, Slot.waiting, id, -id) !== id) return false;
    this.sent = nextCount(this.sent);
    lane.publish(this.sent, length);
    this.lastAnswerByLane = true;
    Atomics.store(this.state, Slot.sent, this.sent);
    return true;
  }

  /**
   * Whether the caller has posted cancels this worker has not received: only a mux end's, whose
   * messages come through the event loop (a port of its own is pulled as each call starts).
   */
  private cancelsInFlight(): boolean {
    return this.muxed && Atomics.load(this.state, Slot.cancelsPosted) !== this.cancelsSeen;
  }

  /** Takes the caller's mark telling us to skip call `id` (see SKIP_MARKS); true when there was one. */
  private markedToSkip(id: number): boolean {
    // Only a mux end's caller marks: a session with its own port pulls the cancel instead.
    return this.muxed && takeSkipMark(this.state, id);
  }

  /** Ends the `running` mark; if the caller is interrupting this call, waits until it has. */
  private finishRunning(id: number): void {
    Atomics.store(this.state, Slot.done, id);
    if (Atomics.compareExchange(this.state, Slot.running, id, 0) === id) return;
    // The caller negated `running`: it is delivering an interrupt meant for this call. Until it
    // says it has, the next statement must not start, or the interrupt would stop that one.
    const deadline = Date.now() + INTERRUPT_ACK_WAIT_MS;
    while (Atomics.load(this.state, Slot.interruptAck) !== id && Date.now() < deadline) {
      Atomics.wait(this.state, Slot.interruptAck, Atomics.load(this.state, Slot.interruptAck), 20);
    }
    // Cleared, so that a call with the same id a round of ids later does not find it acknowledged.
    Atomics.store(this.state, Slot.interruptAck, 0);
    Atomics.store(this.state, Slot.running, 0);
  }

  /**
   * Sends a large or growing row set in chunks, each once the caller has credit for it; the
   * last part goes with the answer. A RowStream's chunks are packed as soon as its rows are
   * there, credit or not, and its rows let go: packed columns are a few large objects, while
   * rows held until the caller catches up survive the worker's young-generation collections
   * and are copied by them (mysql2's 50k-row select: see the core README). `ran` is how long
   * a complete set's operation ran; a stream's runs until its end.
   */
  private async streamRows(id: number, set: RowSet, ran?: number): Promise<void> {
    this.endBatch();
    this.flush();
    const stream = set instanceof RowStream ? set : undefined;
    const step = chunkRowCount(set.columns.length);
    const packed: { part: unknown; transfer: Transferable[] }[] = [];
    let from = 0;
    for (;;) {
      // A failed stream's rows are dropped, packed or not: only the error goes.
      if (stream?.error !== undefined) break;
      const complete = stream === undefined || stream.ended;
      // Columns the driver packed itself go after the rows it appended before them.
      const own = stream?.columnChunks[0];
      if (own !== undefined) {
        const transfer: Transferable[] = [];
        if (from < own.rowsBefore) {
          const to = Math.min(from + step, own.rowsBefore);
          packed.push({ part: encodeRowSet(set, from, to, transfer, false), transfer });
          set.rows.fill(undefined as never, from, to);
          from = to;
        } else {
          stream!.columnChunks.shift();
          const part = packColumnValues(own.n, own.columns, transfer);
          packed.push({ part: encodeRows(set, part, transfer, false), transfer });
        }
        continue;
      }
      // A whole chunk is there (the last rows, up to a chunk, go with the answer). A row set
      // that is all there is packed a chunk at a time, as the caller's credit allows.
      const rowsLeft = set.rows.length - from;
      const mayPack =
        (complete ? rowsLeft > step : rowsLeft >= step) &&
        (stream !== undefined || packed.length === 0);
      if (mayPack) {
        const transfer: Transferable[] = [];
        packed.push({ part: encodeRowSet(set, from, from + step, transfer, false), transfer });
        if (stream !== undefined) set.rows.fill(undefined as never, from, from + step);
        from += step;
        continue;
      }
      if (packed.length > 0 && this.credits > 0) {
        this.credits--;
        const { part, transfer } = packed.shift()!;
        this.post({ k: 'chunk', id, part }, transfer);
        continue;
      }
      if (complete && packed.length === 0) break;
      // Wait for credit (chunks are packed and waiting) or for more rows (the stream goes on).
      const waitsForRows = packed.length === 0;
      if (waitsForRows) Atomics.store(this.state, Slot.awake, 0);
      await new Promise<void>((resolve) => {
        if (packed.length > 0) this.creditWaiter = resolve;
        if (!complete) void stream!.changed().then(resolve);
      });
      this.creditWaiter = undefined;
      if (waitsForRows) Atomics.store(this.state, Slot.awake, 1);
    }
    const failure = stream?.error;
    if (failure !== undefined) this.push(id, Outcome.error, failure.error, this.ranUs());
    else
      this.outbox.push([
        id,
        Outcome.ok,
        encodeRowSet(set, from, set.rows.length, this.transfer),
        ran ?? this.ranUs(),
      ]);
    this.flush();
  }

  /** Lets the driver finish what it shared over the calls run since the last batch ended. */
  private endBatch(): void {
    if (this.batchSince === undefined) return;
    this.batchSince = undefined;
    this.driver.endBatch?.(this.connection);
  }

  private flush(): void {
    if (this.outbox.length === 0) return;
    const results = this.outbox;
    const transfer = this.transfer;
    this.outbox = [];
    this.transfer = [];
    this.lastAnswerByLane = false;
    try {
      this.post({ k: 'results', results }, transfer);
    } catch (err) {
      this.postApart(results, err);
    }
  }

  /**
   * The port refused a batch of answers (structured clone threw on a value the encoding let
   * through): each goes alone (its memory copied), and the one the port still refuses is
   * answered with a DataCloneError, rather than the exception ending the worker or its calls
   * never answered.
   */
  private postApart(results: ResultMessage[], batchError: unknown): void {
    sendApart(
      results,
      batchError,
      (result) => {
        this.post({ k: 'results', results: [result] });
        // A mux end sends later, and reports a refusal as 'refused': now, in order.
        this.port.sendNow?.();
      },
      ([id, , , ran], refused) => {
        const error = new DataCloneError('result', 'a value the message port refused');
        error.cause = refused;
        const answer = encodeValue(error, {}, 'error');
        this.post({ k: 'results', results: [[id, Outcome.error, answer, ran]] });
      },
    );
  }

  private post(message: FromWorker, transfer?: Transferable[]): void {
    this.port.postMessage(message, transfer as Transferable[]);
    this.sent = nextCount(this.sent);
    Atomics.store(this.state, Slot.sent, this.sent);
  }

  private async close(): Promise<void> {
    this.flush();
    releaseHandles(this.driver, handlesOfSession(this.sessionId));
    let error: unknown;
    try {
      await this.driver.close?.(this.connection);
    } catch (err) {
      error = encodeValue(err, {}, 'error');
    }
    this.post(error === undefined ? { k: 'closed' } : { k: 'closed', error });
    this.closed = true;
    this.port.close();
    this.onClosed();
  }
}

/** What {@link unpackedForLane} returns for a row set that must go by port. */
const BY_PORT = Symbol('by port');

/**
 * A row set of up to LANE_ROWS rows of primitives encoded with its rows unpacked, for the lane
 * (packed columns are typed arrays, which only the port takes); BY_PORT otherwise, or when a
 * value cannot be sent at all.
 */
function unpackedForLane(set: RowSet): unknown {
  if (set.rows.length > LANE_ROWS || !primitiveRows(set.rows)) return BY_PORT;
  // Nothing is transferred: what would be (a large Buffer in the extra) the lane refuses anyway.
  const transfer: Transferable[] = [];
  try {
    return encodeRows(set, plainRows(set.rows, 0, set.rows.length, transfer), transfer);
  } catch {
    // A value that cannot cross: the port's path encodes it again and answers with the error.
    return BY_PORT;
  }
}

/**
 * Whether every value of `rows` is a primitive: a Buffer, Date or other object would be refused
 * by the lane after the rows were encoded for it, and encoded again for the port.
 */
function primitiveRows(rows: unknown[][]): boolean {
  for (const row of rows)
    for (let c = 0; c < row.length; c++) {
      const value = row[c];
      if (typeof value === 'object' && value !== null) return false;
    }
  return true;
}

function encodeRowSet(
  set: RowSet,
  from: number,
  to: number,
  transfer: Transferable[],
  withExtra = true,
): unknown {
  return encodeRows(
    set,
    packRows(set.rows, set.columns.length, from, to, transfer),
    transfer,
    withExtra,
  );
}

/**
 * A chunk of `set`'s rows, packed, with what the caller needs to shape them; the set's extra goes
 * with the answer only (`withExtra`), not with the chunks before it: it may name a handle (a
 * cursor's first batch names its cursor), which the caller must receive once.
 */
function encodeRows(
  set: RowSet,
  part: PackedRows,
  transfer: Transferable[],
  withExtra = true,
): unknown {
  return tagged('R', {
    c: set.columns,
    s: set.shape,
    x:
      set.extra === undefined || !withExtra
        ? undefined
        : encodeValue(set.extra, resultEncodeContext(transfer), 'extra'),
    p: part,
  });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
