import { MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { AbortError, type AbortState } from './abort-error.js';
import type { CallStats } from './call-stats.js';
import { currentCallOptions, type CallOptions } from './call-options.js';
import { channels, type CallEvent } from './diagnostics.js';
import {
  DataCloneError,
  SessionBrokenError,
  SessionClosedError,
  TimeoutError,
  WorkerExitedError,
} from './errors.js';
import type { LeakDetector } from './leak-detector.js';
import {
  CONNECTION_TARGET,
  EXIT_EVENT_WAIT_MS,
  Outcome,
  Slot,
  type CallMessage,
  type FromWorker,
  type ResultMessage,
  type ToWorker,
} from './protocol.js';
import { callReached, countAhead, nextCallId, nextCount } from './session-counts.js';
import { onMessagesPaced } from './paced-listener.js';
import type { Refusal, SessionPort } from './port-mux.js';
import { RemoteHandle } from './remote-handle.js';
import { sendApart } from './send-apart.js';
import { SharedLane } from './shared-lane.js';
import { markSkip, takeSkipMark } from './skip-marks.js';
import { trySetStackTraceLimit } from './stack-trace-limit.js';
import { unpackRows, type PackedRows, type RowShape } from './row-set.js';
import { decodeValue, encodeValue, type DecodeContext, type EncodeContext } from './value-codec.js';

/**
 * Rows a driver operation returned as a `RowSet`, rebuilt in the caller's thread.
 *
 * @example
 * ```ts
 * const { rows, columns } = (await session.call('all', ['select 1 as x'])) as ReceivedRows;
 * ```
 */
export interface ReceivedRows {
  columns: string[];
  rows: unknown[];
  extra: unknown;
}

/** What a session needs from its pool. */
export interface SessionEnvironment {
  readonly name: string;
  readonly leaks: LeakDetector;
  readonly stats: CallStats;
  readonly captureStacks: boolean;
  /** Whether to wait for answers on the caller's thread with many calls in flight (see SPIN_FEW). */
  readonly spinsForMany: boolean;
  readonly interrupt: ((token: unknown) => boolean | void) | undefined;
  /** Terminates a worker to stop a call that cannot be interrupted. */
  terminate(threadId: number): void;
  /** A port of this worker closed unbidden: the worker is gone, its exit event yet to come. */
  workerGone(threadId: number): void;
  /** Throws when the pool cannot take one more call (closed, queue full); counts it otherwise. */
  admit(): Error | undefined;
  /** One admitted call ended. */
  release(): void;
}

interface PendingCall {
  id: number;
  op: string;
  resolve(value: unknown): void;
  reject(error: unknown): void;
  origin: Error | undefined;
  sent: boolean;
  settled: boolean;
  queuedAt: number;
  cleanup: (() => void) | undefined;
  rows: unknown[] | undefined;
  /** Set by an abort that came too late to settle the call itself (see `abort`). */
  abortReason: { reason: unknown } | undefined;
  /** What the call rejects with instead of an AbortError (see `cancelQueued`). */
  cancelledWith?: Error;
  /** A stateless call sent again after its first attempt failed unstarted (see `callTarget`). */
  resent: boolean;
}

type InterruptMode = 'caller' | 'worker' | 'terminate';

/** Frames of the caller's stack kept for errors and leak reports. */
const CALLER_STACK_FRAMES = 24;

/** Longest wait for one answer on the caller's thread (µs). */
const SPIN_US = 50;
/** How often an interrupted call that is still running is interrupted again (ms). */
const INTERRUPT_RETRY_MS = 1;
/** Longest wait for an answer the worker has begun to write in the lane (ms). */
const LANE_WRITE_WAIT_MS = 1_000;
/**
 * Calls in flight up to which the caller waits for answers even when its pool has more workers
 * than the machine has cores beside the caller's: waiting on many then takes the core a worker
 * needs (measured here: 64 point selects in flight on two readers went 115k/s waiting, 150k/s
 * not), while a caller awaiting one call at a time waits for a worker that is running anyway.
 */
const SPIN_FEW = 4;
/**
 * Longest a turn of the event loop goes on waiting for answers (ms), counted from its first
 * wait: the calls a caller makes between waits (promise reactions, its own work) count too,
 * so timers and I/O still run about once a millisecond however much the caller does between
 * waits (counting the waits alone bounded only their sum).
 */
const SPIN_BUDGET_MS = 0.5;

/** When this turn of the event loop first waited for an answer; shared by every session. */
const spinBudget = {
  since: -1,
  available(): boolean {
    return this.since < 0 || performance.now() - this.since < SPIN_BUDGET_MS;
  },
  start(now: number): void {
    if (this.since >= 0) return;
    this.since = now;
    setImmediate(() => (this.since = -1));
  },
};

/**
 * A connection pinned to one worker thread, reached over its own MessagePort. Calls are
 * answered in order; calls made in the same tick travel as one message.
 *
 * @example
 * ```ts
 * const session = await pool.openSession({ filename: 'app.db' });
 * const [a, b] = await Promise.all([session.call('get', [1]), session.call('get', [2])]);
 * await session.close();
 * ```
 */
export class Session {
  /** The worker thread this session lives on. */
  readonly threadId: number;
  /** What the driver's `info()` said about the connection. */
  readonly info: unknown;
  private readonly pending = new Map<number, PendingCall>();
  private outbox: CallMessage[] = [];
  private flushQueued = false;
  private nextId: number;
  private broken: Error | undefined;
  private closing: Promise<void> | undefined;
  /** Settles `close()`: with the driver's close error, or none. */
  private closedResolve: ((error?: unknown) => void) | undefined;
  /** The worker confirmed the close. */
  private closedByWorker = false;
  /** Fails the session should its port close without the pool's exit handler doing so. */
  private portGone: NodeJS.Timeout | undefined;
  private readonly interruptMode: InterruptMode;
  private readonly interruptToken: unknown;
  private readonly decodeCtx: DecodeContext;
  private readonly encodeCtx: EncodeContext = {
    encodeObject: (value) =>
      value instanceof RemoteHandle ? { __unblock: 'H', id: value.id } : undefined,
    // Arguments are read when the call is made, as a synchronous driver reads them.
    snapshot: true,
  };
  private noticeListener: ((event: string, data: unknown) => void) | undefined;
  /** The call whose answer is being decoded (its stack joins errors, its rows gather chunks). */
  private decoding: PendingCall | undefined;
  /** The lanes to and from the worker (a session with its own port), see shared-lane.ts. */
  private readonly lanes: [toWorker: SharedLane, toCaller: SharedLane] | undefined;
  /** Sequence number of the last call sent by lane. Counts and ids go round: see session-counts.ts. */
  private laneSent: number;
  /** Messages received from the worker (by port and by lane), to take lane answers in order. */
  private received: number;
  /** Sequence number of the last answer taken from the lane. */
  private laneTaken: number;

  /** Made by `pool.openSession()`, not by the caller. */
  constructor(
    /** A pool-wide id. */
    readonly id: number,
    private readonly port: SessionPort,
    private readonly state: Int32Array,
    private readonly env: SessionEnvironment,
    /** Whether calls capture the caller's stack (the pool's setting unless the session's own). */
    readonly captureStacks: boolean,
    opened: Extract<FromWorker, { k: 'opened' }>,
    /** Called once when the session has ended (closed or failed). */
    private readonly onEnd: () => void,
  ) {
    // Counts and ids start where the new state says (see session-counts.ts), every count at the
    // same value. This side has posted nothing yet, so `posted` still holds it; `sent` may not:
    // the worker posts the notices its driver sent while opening right after 'opened'.
    const start = Atomics.load(state, Slot.posted);
    this.nextId = nextCallId(Atomics.load(state, Slot.done));
    this.laneSent = start;
    this.received = start;
    this.laneTaken = start;
    this.interruptToken = opened.interruptToken;
    const { interruptToken } = this;
    this.threadId = opened.threadId;
    this.interruptMode =
      interruptToken !== undefined && env.interrupt !== undefined
        ? 'caller'
        : opened.hasCancel
          ? 'worker'
          : 'terminate';
    this.decodeCtx = {
      decodeTagged: (tag, data) => this.decodeTagged(tag, data),
      callerStack: () => this.decoding?.origin?.stack,
    };
    this.info = decodeValue(opened.info, this.decodeCtx);
    this.lanes = port instanceof MessagePort ? SharedLane.of(state) : undefined;
    const receive = (message: unknown): void => this.receive(message as FromWorker);
    if (port instanceof MessagePort) {
      onMessagesPaced(port, receive, () => {
        if (this.pending.size === 0 && this.closing === undefined) port.unref();
      });
    } else {
      port.on('message', receive);
      port.on('refused', (data) => {
        const { message, error } = data as Refusal;
        const refused = message as ToWorker;
        if (refused.k === 'calls') this.postApart(refused.calls, error);
      });
    }
    // A port closes when its worker dies; the pool's exit handler then fails the session with
    // the exit code. Should no exit event come, the session still fails instead of hanging.
    port.on('close', () => {
      if (this.broken !== undefined || this.closedByWorker) return;
      this.env.workerGone(this.threadId);
      if (this.closing === undefined) {
        // Referenced: the port no longer keeps the process alive, and piscina unrefs an idle
        // worker, so without it a script awaiting a call that crashed its worker would exit
        // (with unsettled promises) before the exit event could reject the call.
        this.portGone = setTimeout(
          () => this.fail(new WorkerExitedError(undefined, 'its session port closed')),
          EXIT_EVENT_WAIT_MS,
        );
      } else {
        // Closing, and the worker is gone (terminated, or the pool destroyed) before it could
        // confirm: nothing is left to close, and close() must not wait for ever.
        this.fail(new WorkerExitedError(undefined, 'its session port closed'));
      }
    });
    port.unref();
  }

  /** The leak detector of the pool (handles report to it). */
  get leaks(): LeakDetector {
    return this.env.leaks;
  }

  /** True once the session is closed, closing, or broken. */
  get ended(): boolean {
    return this.broken !== undefined || this.closing !== undefined;
  }

  /** True while the worker runs a call of this session. */
  get busy(): boolean {
    return Atomics.load(this.state, Slot.running) !== 0;
  }

  /** Calls still waiting for their answer. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** @internal Calls in flight that have not started: all but the running one. */
  get queued(): number {
    const running = Math.abs(Atomics.load(this.state, Slot.running));
    return this.pending.size - (this.pending.has(running) ? 1 : 0);
  }

  /**
   * Calls a driver operation on this session's connection.
   *
   * @example
   * ```ts
   * await session.call('run', ['insert into t values (?)', [1]], { timeout: 1000 });
   * ```
   */
  call(op: string, args: unknown[] = [], options?: CallOptions): Promise<unknown> {
    return this.callTarget(CONNECTION_TARGET, op, args, options);
  }

  /**
   * @internal Calls `op` on the connection (target 0) or on a handle. `resent`: this is a
   * stateless call sent again (`Pool.run`) after its first attempt failed without starting, which
   * `stats()` counted as failed: it counts once, by how it ends here (when it is refused before
   * it is sent, the first attempt's failure stands). `since`: when the call was made, if before
   * this (`Pool.run` waits for a worker first): its wait and its timeout count from then.
   */
  callTarget(
    target: number,
    op: string,
    args: unknown[],
    options?: CallOptions,
    resent = false,
    since?: number,
  ): Promise<unknown> {
    if (!Array.isArray(args)) throw new TypeError('args must be an array of arguments');
    let origin: Error | undefined;
    if (this.captureStacks) {
      // Adapters put a few frames of their own above the user's call: keep enough to reach it.
      const limit = Error.stackTraceLimit;
      const set = trySetStackTraceLimit(CALLER_STACK_FRAMES);
      origin = {} as Error;
      Error.captureStackTrace(origin, this.callTarget);
      if (set) Error.stackTraceLimit = limit;
    }
    if (this.broken !== undefined) return Promise.reject(new SessionBrokenError(this.broken));
    if (this.closing !== undefined) return Promise.reject(new SessionClosedError());
    let encoded: unknown[];
    let callOptions: CallOptions | undefined;
    try {
      callOptions = currentCallOptions(options);
      encoded = encodeValue(args, this.encodeCtx, 'args') as unknown[];
    } catch (err) {
      return Promise.reject(err);
    }
    const signal = callOptions?.signal;
    if (signal?.aborted) return Promise.reject(new AbortError('queued', signal.reason));
    const refused = this.env.admit();
    if (refused !== undefined) return Promise.reject(refused);
    const id = this.nextId;
    this.nextId = nextCallId(id);
    return new Promise((resolve, reject) => {
      const entry: PendingCall = {
        id,
        op,
        resolve,
        reject,
        origin,
        sent: false,
        settled: false,
        queuedAt: since ?? performance.now(),
        cleanup: undefined,
        rows: undefined,
        abortReason: undefined,
        resent,
      };
      // The port keeps the process alive only while answers are awaited.
      if (this.pending.size === 0) this.port.ref();
      this.pending.set(id, entry);
      const watched = signal !== undefined || callOptions?.timeout !== undefined;
      if (watched) this.watch(entry, signal, callOptions?.timeout, since);
      const terminable = watched && this.interruptMode === 'terminate';
      this.outbox.push(terminable ? [id, target, op, encoded, 1] : [id, target, op, encoded]);
      if (channels.start.hasSubscribers) channels.start.publish(this.event(entry));
      if (!this.flushQueued) {
        this.flushQueued = true;
        queueMicrotask(this.flushTick);
      }
    });
  }

  /**
   * Receives what the driver reports about the connection on its own (`ctx.notify` in the
   * driver's `open`), in order with the answers; one listener per session, `undefined` removes it.
   *
   * @example
   * ```ts
   * session.onNotice((event) => { if (event === 'end') console.log('the server closed it'); });
   * ```
   */
  onNotice(listener: ((event: string, data: unknown) => void) | undefined): void {
    this.noticeListener = listener;
  }

  /** @internal Releases a handle after the calls already made on it. */
  releaseHandle(id: number): Promise<void> {
    if (this.ended) return Promise.resolve();
    // Calls made in this tick (on the handle, perhaps) go first: the release follows them.
    this.flush();
    this.post({ k: 'release', ids: [id] });
    return Promise.resolve();
  }

  /**
   * Closes the session: waits for its calls, then closes the connection in the worker.
   * Idempotent. Rejects with the driver's error if its `close` failed.
   *
   * @example
   * ```ts
   * await session.close();
   * ```
   */
  close(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    if (this.broken !== undefined) return (this.closing = Promise.resolve());
    this.closing = new Promise<void>((resolve, reject) => {
      this.closedResolve = (error) => (error === undefined ? resolve() : reject(error));
      // Keep the process alive until the worker confirms: `await pool.close()` at the end of a
      // script must not let the event loop run dry first.
      this.port.ref();
      this.flush();
      this.post({ k: 'close' });
    });
    return this.closing;
  }

  /**
   * `await using session = await pool.openSession()` closes the session at the end of the block.
   *
   * @example
   * ```ts
   * await using session = await pool.openSession({ filename: 'app.db' });
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal Rejects everything in flight: the worker is gone. */
  fail(error: Error): void {
    if (this.broken !== undefined) return;
    this.broken = error;
    clearTimeout(this.portGone);
    for (const entry of [...this.pending.values()])
      this.settle(entry, false, this.failure(entry, error));
    this.outbox = [];
    this.closedResolve?.();
    this.port.close();
    this.onEnd();
  }

  /**
   * What a call in flight rejects with when the session fails: an exited worker says whether
   * the call had started. Calls run in order, so one past the running (or last finished) call
   * never did.
   */
  private failure(entry: PendingCall, error: Error): Error {
    if (!(error instanceof WorkerExitedError)) return error;
    const running = Math.abs(Atomics.load(this.state, Slot.running));
    const started = entry.sent && (entry.id === running || this.finished(entry.id));
    return new WorkerExitedError(error.exitCode, error.reason, started);
  }

  /**
   * Cancels the calls that have not started: they never run, and each rejects with the error
   * `makeError` gives instead of an AbortError. The running call, if any, goes on. This is what
   * a drop-in needs when its driver drops the commands queued behind the running one (mysql2's
   * `destroy()`). One that starts while it is cancelled is stopped as an aborted call would be.
   *
   * @example
   * ```ts
   * session.cancelQueued(() => Object.assign(new Error('write after end'), { fatal: true }));
   * ```
   */
  cancelQueued(makeError: () => Error): void {
    this.cancelCalls(makeError, false);
  }

  /**
   * Like `cancelQueued`, and the running call is stopped too, as an aborted one is (the
   * driver's interrupt or cancel when it has one, else its worker is terminated): what is left
   * when a grace period ends (`Pool.close()`'s, or an adapter's own).
   *
   * @example
   * ```ts
   * session.cancelAll(() => new PoolClosedError('The database closed before the call finished'));
   * ```
   */
  cancelAll(makeError: () => Error): void {
    this.cancelCalls(makeError, true);
  }

  private cancelCalls(makeError: () => Error, all: boolean): void {
    const { state } = this;
    // Calls run in order: those up to the running one (or the last done) have started.
    const running = Math.abs(Atomics.load(state, Slot.running));
    const done = Atomics.load(state, Slot.done);
    const started = (id: number): boolean => callReached(running, id) || callReached(done, id);
    // One aborted already rejects as aborted; one that started goes on, unless `running`.
    const queued = [...this.pending.values()].filter(
      (entry) =>
        !entry.settled &&
        entry.abortReason === undefined &&
        (all || !(entry.sent && started(entry.id))),
    );
    // All made first: one that throws then leaves every call as it was.
    const errors = queued.map(() => makeError());
    queued.forEach((entry, i) => {
      entry.cancelledWith = errors[i];
      this.abort(entry, errors[i]);
    });
  }

  /** @internal Like fail, for `destroy()`: calls reject with `error`. */
  destroy(error: Error): void {
    this.fail(error);
  }

  private watch(
    entry: PendingCall,
    signal: AbortSignal | undefined,
    timeout: number | undefined,
    since: number | undefined,
  ): void {
    const onAbort = (): void => this.abort(entry, signal!.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const timer =
      timeout === undefined
        ? undefined
        : setTimeout(
            () => this.abort(entry, new TimeoutError(timeout)),
            since === undefined ? timeout : Math.max(0, since + timeout - performance.now()),
          );
    entry.cleanup = () => {
      signal?.removeEventListener('abort', onAbort);
      if (timer !== undefined) clearTimeout(timer);
    };
  }

  private abort(entry: PendingCall, reason: unknown): void {
    if (entry.settled) return;
    const { id } = entry;
    if (!entry.sent) {
      const at = this.outbox.findIndex((call) => call[0] === id);
      if (at !== -1) this.outbox.splice(at, 1);
      this.pending.delete(id);
      this.settle(entry, false, this.abortError(entry, 'queued', reason));
      return;
    }
    // One abort per call (a signal and a timeout may both fire).
    if (entry.abortReason !== undefined) return;
    // Tell the worker first: a call it has not started yet is then skipped. (A mux end's worker
    // waits for the cancels counted here before it starts another call.)
    if (this.lanes === undefined && this.broken === undefined)
      Atomics.add(this.state, Slot.cancelsPosted, 1);
    this.post({ k: 'cancel', id });
    // Finished: its answer is on the way. It may have finished because the driver, asked by
    // the cancel just posted, stopped it: the worker then says so, and it still rejects as
    // aborted, with this reason.
    entry.abortReason = { reason };
    this.stopSent(entry, reason);
  }

  /** What an aborted call rejects with: an AbortError, or the error it was cancelled with. */
  private abortError(entry: PendingCall, when: AbortState, reason: unknown): Error {
    return entry.cancelledWith ?? new AbortError(when, reason);
  }

  /** Whether the worker has finished call `id` (calls run in order). */
  private finished(id: number): boolean {
    return callReached(Atomics.load(this.state, Slot.done), id);
  }

  /** Stops a call the worker has been sent (see abort). */
  private stopSent(entry: PendingCall, reason: unknown): void {
    const { id } = entry;
    const { state } = this;
    if (entry.settled || this.finished(id)) return;
    // Whether the worker is sure to skip the call if it has not started it: with a port of its
    // own it pulls the cancel just posted when it starts a call; a mux end needs a mark. With
    // none free, look again shortly (the worker takes marks as it reaches their calls).
    const marks = this.lanes === undefined;
    const skipped = !marks || markSkip(state, id);
    // Takes back the mark of a call that started (or finished) all the same.
    const unmark = (): void => void (marks && takeSkipMark(state, id));
    const again = (): void => {
      if (this.broken === undefined) setTimeout(() => this.stopSent(entry, reason), 1).unref();
    };
    if (this.interruptMode === 'worker') {
      // The worker's own loop is free: it skips the call or has the driver cancel it. `running`
      // is read before `done` is read again: a call that started and finished between two
      // reads the other way round would look never started, and be called 'queued'.
      const running = Atomics.load(state, Slot.running) === id;
      const done = this.finished(id);
      if (running || done) unmark();
      if (done) return;
      if (!running && !skipped) return again();
      this.settle(entry, false, this.abortError(entry, running ? 'running' : 'queued', reason));
      return;
    }
    if (Atomics.compareExchange(state, Slot.running, id, -id) !== id) {
      if (this.finished(id)) return unmark();
      if (!skipped) return again();
      this.settle(entry, false, this.abortError(entry, 'queued', reason));
      return;
    }
    unmark();
    // `running` now says -id: the worker will not start another call until we acknowledge,
    // so the interrupt below can only reach this call.
    if (this.finished(id)) {
      this.acknowledge(id);
      return;
    }
    this.settle(entry, false, this.abortError(entry, 'running', reason));
    if (this.interruptMode === 'caller') {
      let delivered: boolean | void;
      try {
        delivered = this.env.interrupt!(this.interruptToken);
      } catch (err) {
        // Thrown inside an abort listener, it would be an uncaught exception: the call is
        // stopped the other way instead, and the failure reported.
        process.emitWarning(
          `The driver's interrupt hook threw (${String((err as Error)?.message ?? err)}); the worker is terminated to stop the call instead`,
          { code: 'UNBLOCK_WARN_INTERRUPT_FAILED' },
        );
        delivered = false;
      }
      if (delivered !== false) {
        this.interruptUntilDone(id);
        return;
      }
      this.acknowledge(id);
    }
    this.env.terminate(this.threadId);
  }

  /**
   * A driver that clears a pending interrupt when its next operation starts (SQLite does) loses
   * one that lands after `running` was set but before the operation began: the call would then
   * run to its end. So the interrupt is delivered again every INTERRUPT_RETRY_MS until the call
   * is done, and acknowledged then; `running` says -id all along, so each can only reach it.
   */
  private interruptUntilDone(id: number): void {
    const again = (): void => {
      if (this.broken === undefined && !this.finished(id)) {
        try {
          this.env.interrupt!(this.interruptToken);
        } catch {
          // The first delivery succeeded; a later failure changes nothing for this call.
        }
        setTimeout(again, INTERRUPT_RETRY_MS).unref();
        return;
      }
      this.acknowledge(id);
    };
    setTimeout(again, INTERRUPT_RETRY_MS).unref();
  }

  private acknowledge(id: number): void {
    Atomics.store(this.state, Slot.interruptAck, id);
    Atomics.notify(this.state, Slot.interruptAck);
  }

  /**
   * Sends the calls made in this tick. One call to a worker that is awake, made when this turn's
   * wait budget is spent, waits for the next turn instead (timers and I/O run first): it can then
   * go by lane and be waited for, where sent now it would go by port, and its answer would wait
   * for the worker to post it and this thread to wake (measured here, sequential point selects:
   * about 3% of calls went so, at 50-150 µs each).
   */
  private readonly flushTick = (): void => {
    if (
      this.outbox.length === 1 &&
      this.pending.size === 1 &&
      this.lanes !== undefined &&
      !spinBudget.available() &&
      Atomics.load(this.state, Slot.awake) === 1
    ) {
      setImmediate(() => {
        if (this.flushQueued) this.flush();
      });
      return;
    }
    this.flush();
  };

  private flush(): void {
    this.flushQueued = false;
    if (this.outbox.length === 0 || (this.ended && this.broken !== undefined)) return;
    const calls = this.outbox;
    this.outbox = [];
    for (const call of calls) {
      const entry = this.pending.get(call[0]);
      if (entry !== undefined) entry.sent = true;
    }
    if (calls.length === 1 && this.sendByLane(calls[0])) {
      this.awaitLaneAnswer(calls[0][0]);
      return;
    }
    try {
      this.post({ k: 'calls', calls });
    } catch (err) {
      this.postApart(calls, err);
    }
    this.spinForAnswers();
  }

  /**
   * The port refused a batch (structured clone threw on a value the encoding let through): each
   * call goes alone, and the one the port still refuses rejects with a DataCloneError, rather
   * than the exception leaving this microtask uncaught and every call of the batch unanswered.
   */
  private postApart(calls: CallMessage[], batchError: unknown): void {
    sendApart(
      calls,
      batchError,
      (call) => {
        this.post({ k: 'calls', calls: [call] });
        // A mux end sends later, and reports a refusal as 'refused': now, in order.
        this.port.sendNow?.();
      },
      (call, refused) => {
        const entry = this.pending.get(call[0]);
        if (entry === undefined) return;
        entry.sent = false;
        const error = new DataCloneError('args', 'a value the message port refused');
        error.cause = refused;
        this.settle(entry, false, error);
      },
    );
  }

  /**
   * Sends the only call in flight through the lane when the worker is awake to take it; false
   * when it must go by the port (the lane is busy, the call is not a plain value, ...).
   */
  private sendByLane(call: CallMessage): boolean {
    const { lanes, state } = this;
    if (lanes === undefined || this.pending.size !== 1 || !spinBudget.available()) return false;
    if (Atomics.load(state, Slot.awake) !== 1) return false;
    // The worker has not taken the previous lane message yet (its call was aborted): wait.
    if (Atomics.load(state, Slot.laneTaken) !== this.laneSent) return false;
    const length = lanes[0].prepare(call);
    if (length < 0) return false;
    const seq = nextCount(Atomics.load(state, Slot.posted));
    // The lane still holds the message the worker took last: one numbered the same (2^32
    // messages later) would look taken already.
    if (seq === this.laneSent) return false;
    Atomics.store(state, Slot.waiting, call[0]);
    lanes[0].publish(seq, length);
    this.laneSent = seq;
    Atomics.add(state, Slot.posted, 1);
    // The worker may have gone idle just before it could see the call: wake it up.
    if (Atomics.load(state, Slot.awake) !== 1) this.port.postMessage({ k: 'wake' });
    return true;
  }

  /**
   * Waits (at most SPIN_US) for the answer to the call sent by lane, by lane or by port. When
   * the wait ends first, the answer comes by port, unless the worker has begun to write it in
   * the lane: then it is read from there.
   */
  private awaitLaneAnswer(id: number): void {
    const { state } = this;
    const start = performance.now();
    spinBudget.start(start);
    const deadline = start + SPIN_US / 1000;
    let now = start;
    while (this.pending.has(id) && now < deadline) {
      if (this.pullAnswer()) continue;
      // Gone idle (its operation is asynchronous, or it missed the call and must be woken).
      if (Atomics.load(state, Slot.awake) !== 1) break;
      now = performance.now();
    }
    if (Atomics.compareExchange(state, Slot.waiting, id, 0) === -id) {
      const limit = performance.now() + LANE_WRITE_WAIT_MS;
      while (this.pending.has(id) && performance.now() < limit) this.pullAnswer();
    }
  }

  /** Takes one message from the worker by lane or port; false when there was none. */
  private pullAnswer(): boolean {
    const lane = this.lanes![1];
    const seq = lane.seq;
    if (seq !== this.laneTaken) {
      this.laneTaken = seq;
      // What the worker posted before this answer is on the port already: it comes first.
      while (countAhead(seq - 1, this.received) && this.pollPort());
      this.received = nextCount(this.received);
      this.answer(lane.take() as ResultMessage);
      return true;
    }
    return this.pollPort();
  }

  /**
   * Receives one message that is on the port; false when there is none. The port is polled only
   * when the worker has sent more than was received (polling it is not free). `sent` trails
   * `received` for a moment when an answer was taken before the worker counted it (it counts
   * just after posting): there is nothing to poll then either, and polling throughout that
   * moment cost a caller awaiting calls in turn about 1 µs a poll, a dozen polls a call
   * (measured here: 10k awaited inserts, 1.4-1.9M empty polls in 100k calls).
   */
  private pollPort(): boolean {
    if (!countAhead(Atomics.load(this.state, Slot.sent), this.received)) return false;
    const entry = receiveMessageOnPort(this.port as MessagePort);
    if (entry === undefined) return false;
    this.receive(entry.message as FromWorker);
    return true;
  }

  /**
   * A caller that awaits each call in turn pays two event-loop wake-ups per round trip. While
   * the worker is known to be awake on this session, wait for its answer here instead, for at
   * most SPIN_US, and not past SPIN_BUDGET_MS after the turn of the event loop first waited, so
   * timers and I/O still run about once a millisecond.
   */
  private spinForAnswers(): void {
    const { port } = this;
    // Over a mux, answers of other sessions share the port: only a port of its own is pulled.
    if (!(port instanceof MessagePort)) return;
    if (Atomics.load(this.state, Slot.awake) !== 1 || !spinBudget.available()) return;
    if (this.pending.size > SPIN_FEW && !this.env.spinsForMany) return;
    const start = performance.now();
    spinBudget.start(start);
    const deadline = start + SPIN_US / 1000;
    let now = start;
    while (now < deadline) {
      if (this.pollPort()) break;
      if (Atomics.load(this.state, Slot.awake) !== 1) break;
      now = performance.now();
    }
  }

  private post(message: ToWorker): void {
    if (this.broken !== undefined) return;
    this.port.postMessage(message);
    Atomics.add(this.state, Slot.posted, 1);
  }

  private receive(message: FromWorker): void {
    this.received = nextCount(this.received);
    switch (message.k) {
      case 'results':
        for (const result of message.results) this.answer(result);
        break;
      case 'chunk': {
        const entry = this.pending.get(message.id);
        if (entry !== undefined && !entry.settled) {
          entry.rows ??= [];
          this.decodeRows(message.part as Record<string, unknown>, entry.rows);
        }
        // The credit goes back after this turn of the event loop, so chunks arrive one turn
        // apart instead of all at once (Node delivers every queued message in one go).
        setImmediate(() => this.post({ k: 'credit' }));
        break;
      }
      case 'notice': {
        const listener = this.noticeListener;
        if (listener !== undefined)
          listener(message.event, decodeValue(message.data, this.decodeCtx));
        break;
      }
      case 'closed':
        this.closedByWorker = true;
        this.closedResolve?.(
          message.error === undefined ? undefined : decodeValue(message.error, this.decodeCtx),
        );
        this.port.close();
        this.onEnd();
        break;
      default:
        break;
    }
  }

  private answer([id, outcome, value, ranUs]: ResultMessage): void {
    const entry = this.pending.get(id);
    if (entry === undefined) {
      // Settled before its answer came (aborted, timed out): the value is dropped, and an
      // object it returned as a handle would stay in the worker for the session's life.
      if (outcome === Outcome.ok) this.releaseHandlesIn(value);
      return;
    }
    this.pending.delete(id);
    if (entry.settled || outcome === Outcome.skipped) {
      if (!entry.settled)
        this.settle(entry, false, this.abortError(entry, 'queued', entry.abortReason?.reason));
      return;
    }
    if (outcome === Outcome.cancelled) {
      this.settle(entry, false, this.abortError(entry, 'running', entry.abortReason?.reason));
      return;
    }
    this.decoding = entry;
    let decoded: unknown;
    try {
      decoded = decodeValue(value, this.decodeCtx);
    } catch (err) {
      this.settle(entry, false, err);
      return;
    } finally {
      this.decoding = undefined;
    }
    this.env.stats.record(entry.queuedAt, performance.now(), ranUs ?? 0);
    this.settle(entry, outcome === Outcome.ok, decoded);
  }

  /** Releases, in the worker, the handles an answer nobody will receive holds. */
  private releaseHandlesIn(value: unknown): void {
    const ids: number[] = [];
    const ctx: DecodeContext = {
      decodeTagged: (tag, data) => {
        if (tag === 'NH') ids.push(data.id as number);
        else if (tag === 'R' && data.x !== undefined) decodeValue(data.x, ctx);
        return null;
      },
    };
    try {
      decodeValue(value, ctx);
    } catch {
      // A value that cannot be read holds no handle that could be found.
    }
    if (ids.length > 0 && !this.ended) this.post({ k: 'release', ids });
  }

  private decodeTagged(tag: string, data: Record<string, unknown>): unknown {
    const entry = this.decoding;
    if (tag === 'NH') {
      const id = data.id as number;
      const kind = data.kind as string;
      return new RemoteHandle(kind, data.meta, id, this, this.decoding?.origin);
    }
    if (tag === 'R') {
      const rows = entry?.rows ?? [];
      if (entry !== undefined) entry.rows = undefined;
      return this.decodeRows(data, rows);
    }
    return undefined;
  }

  private decodeRows(data: Record<string, unknown>, rows: unknown[]): ReceivedRows {
    const columns = data.c as string[];
    unpackRows(data.p as PackedRows, columns, data.s as RowShape, rows, this.decodeCtx);
    return {
      columns,
      rows,
      extra: data.x === undefined ? undefined : decodeValue(data.x, this.decodeCtx),
    };
  }

  private settle(entry: PendingCall, ok: boolean, value: unknown): void {
    if (entry.settled) return;
    entry.settled = true;
    this.pending.delete(entry.id);
    // While closing, the port keeps the process alive until the worker says it is closed.
    if (this.pending.size === 0 && this.closing === undefined) this.port.unref();
    entry.cleanup?.();
    this.env.release();
    // A call sent again was counted as failed already (see callTarget): so it stays, or moves.
    const failed = !ok && !(value instanceof AbortError);
    if (entry.resent && !failed) this.env.stats.failed--;
    if (ok) {
      this.env.stats.completed++;
      if (channels.end.hasSubscribers) channels.end.publish(this.event(entry));
      entry.resolve(value);
    } else {
      if (!failed) this.env.stats.aborted++;
      else if (!entry.resent) this.env.stats.failed++;
      if (channels.error.hasSubscribers)
        channels.error.publish({ ...this.event(entry), error: value });
      entry.reject(value);
    }
  }

  private event(entry: PendingCall): CallEvent {
    return { pool: this.env.name, sessionId: this.id, callId: entry.id, op: entry.op };
  }
}
