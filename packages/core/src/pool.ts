import { availableParallelism, getPriority } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import {
  MessageChannel,
  type MessagePort,
  type ResourceLimits,
  type Worker,
} from 'node:worker_threads';
import { Piscina } from 'piscina';
import { AbortError } from './abort-error.js';
import { currentCallOptions, type CallOptions } from './call-options.js';
import { CallStats, type DurationSummary } from './call-stats.js';
import { PoolClosedError, QueueFullError, WorkerExitedError, WorkerInitError } from './errors.js';
import { assertKnownKeys } from './known-keys.js';
import { LeakDetector } from './leak-detector.js';
import {
  CONNECTION_TARGET,
  EXIT_EVENT_WAIT_MS,
  type FromWorker,
  type HostData,
  type OpenSessionMessage,
  type WorkerHello,
} from './protocol.js';
import { newSessionState } from './session-counts.js';
import { PortMux, type SessionPort } from './port-mux.js';
import { waitQueued } from './queued-wait.js';
import { Session, type SessionEnvironment } from './session.js';
import { decodeValue, encodeValue } from './value-codec.js';

const hostModule = new URL('./worker/host.js', import.meta.url);

/**
 * Options of {@link createPool}.
 *
 * @example
 * ```ts
 * createPool({ driver: new URL('./driver.worker.js', import.meta.url), threads: 2, maxQueue: 1000 });
 * ```
 */
export interface PoolOptions<O = unknown> {
  /** The worker module whose default export is made with `defineDriver()` (a file URL or path). */
  driver: URL | string;
  /** Worker threads, at most 256. Default: `os.availableParallelism()`. */
  threads?: number;
  /** Connection options of the per-worker sessions that {@link Pool.run} uses. */
  defaultOptions?: O;
  /** Calls that may be in flight at once; one more rejects with `UNBLOCK_ERR_QUEUE_FULL`. Default: Infinity. */
  maxQueue?: number;
  /**
   * Runs on the caller's thread to stop a running call of a blocking driver, given the
   * session's `interruptToken`. Return false when it could not, and the worker is terminated.
   */
  interrupt?: (token: unknown) => boolean | void;
  /** Capture the caller's stack on every call (for errors and leak reports). Default: on unless NODE_ENV is 'production'. */
  captureStacks?: boolean;
  /** Warn about a lease held longer than this many milliseconds (at most 2147483647). Default: 0 (off). */
  leakDetectionThreshold?: number;
  /**
   * Handle kinds that count as leases for `leakDetectionThreshold` and close-time reports (an
   * adapter leaves out objects meant to live long, such as cached statements). Default: every kind.
   */
  leaseKinds?: readonly string[];
  /**
   * How long `close()` lets calls in flight finish (and calls aborted while running that their
   * driver has not stopped yet) before it stops and rejects them; then, as long again at most,
   * sessions still opening open and the driver close each connection, before it drops what is
   * left and terminates the workers. At most 2147483647. Default: 5000 ms.
   */
  closeTimeout?: number;
  /**
   * How much lower than the pool creator's thread the worker threads run, as a nice increment
   * (0-19; Linux, where each thread has its own nice value; ignored elsewhere). When the event
   * loop's thread and a worker both want a core, the kernel then runs the event loop's first, so
   * a worker busy with a large result or a long query delays timers and I/O less. A worker alone
   * on a core runs at full speed whatever its nice value. 0 leaves it alone. Default: 5 (10
   * freed the event loop a little more, but starved the workers when other processes kept the
   * cores busy).
   */
  workerNice?: number;
  /** Passed to each worker thread. */
  resourceLimits?: ResourceLimits;
  /** Passed to each worker thread. */
  execArgv?: string[];
  /** Names the pool in warnings and diagnostics events. */
  name?: string;
  /**
   * Sessions on one worker share one port: what they send in one tick travels as one message,
   * and their answers come back together once per turn of the worker's event loop. For
   * asynchronous drivers with many sessions per worker (a pool of network connections), where
   * each session has one call in flight at a time. Sequential callers lose the fast path of a
   * port of their own (the brief wait for the answer). Default: false.
   */
  multiplexSessions?: boolean;
}

/**
 * What {@link Pool.stats} reports.
 *
 * @example
 * ```ts
 * const { running, queued, runTime, handles } = pool.stats();
 * ```
 */
export interface PoolStats {
  threads: number;
  sessions: number;
  /** Calls in flight that have not started. */
  queued: number;
  /** Calls running in a worker (one aborted that its driver has not stopped yet too). */
  running: number;
  /**
   * Calls that ended, by how: each counts once (a stateless call sent again to another worker
   * counts by how it ended there). Calls refused when made (queue full, pool closed, an
   * argument that cannot be sent, a signal already aborted) are not counted.
   */
  completed: number;
  failed: number;
  aborted: number;
  /** Per answered call: the time it was not running (queued on either side, and its trips). */
  waitTime: DurationSummary;
  /** Per answered call: how long its operation ran in the worker. */
  runTime: DurationSummary;
  handles: { total: number; byKind: Record<string, number>; byThread: Record<number, number> };
}

interface WorkerSlot {
  threadId: number;
  inbox: MessagePort;
  worker: Worker | undefined;
  sessions: Set<Session>;
  defaultSession: Promise<Session> | undefined;
  /** Calls of `run()` given to this worker and not yet settled. */
  runs: number;
  /** The port its sessions share, with `multiplexSessions`. */
  mux: PortMux | undefined;
  /** How its worker exited, once it has. */
  exitCode: number | undefined;
}

let poolCount = 0;

/** How often close() looks whether calls nobody awaits still run (ms). */
const BUSY_POLL_MS = 5;

/** The longest delay a Node timer keeps (2^31 - 1 ms, about 24.8 days). */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Where a session opens and how its calls behave: `threadId` picks the worker, `captureStacks`
 * overrides the pool's setting for this session's calls.
 *
 * @example
 * ```ts
 * const placement: SessionPlacement = { threadId: pool.threadIds()[0], captureStacks: false };
 * ```
 */
export interface SessionPlacement {
  threadId?: number;
  captureStacks?: boolean;
}

/** The nice value for worker threads `increment` below this thread's; undefined to leave them. */
function workerNiceValue(increment: number): number | undefined {
  if (increment === 0) return undefined;
  let base = 0;
  try {
    base = getPriority();
  } catch {
    // Unknown: count from the default.
  }
  return Math.min(19, base + increment);
}

/** Every option {@link PoolOptions} has: any other key is a misspelling. */
const POOL_OPTION_NAMES = Object.keys({
  driver: true,
  threads: true,
  defaultOptions: true,
  maxQueue: true,
  interrupt: true,
  captureStacks: true,
  leakDetectionThreshold: true,
  leaseKinds: true,
  closeTimeout: true,
  workerNice: true,
  resourceLimits: true,
  execArgv: true,
  name: true,
  multiplexSessions: true,
} satisfies Record<keyof PoolOptions, true>);

/**
 * The most worker threads a pool starts. Neither Node nor piscina has a limit, and piscina starts
 * every thread at once, synchronously, in the pool's constructor: `threads: 1e10` held the event
 * loop for good while memory grew by about 200 MB a second, and 256 threads took 14 s and
 * 1.5 GB here (about 6 MB and 50 ms each). Threads beyond the cores only help calls that wait
 * (a blocking network driver); at this many, an asynchronous driver with `multiplexSessions`
 * serves better. @unblock/better-sqlite3 asks for up to 65 (64 readers). Adapters whose own
 * option sets the thread count check it against this, to name their option in the error.
 *
 * @example
 * ```ts
 * if (workers > MAX_POOL_THREADS) throw new RangeError(`options.workers must be at most ${MAX_POOL_THREADS}`);
 * ```
 */
export const MAX_POOL_THREADS = 256;

function validatePoolOptions(options: PoolOptions): void {
  if (typeof options !== 'object' || options === null)
    throw new TypeError('options must be an object');
  assertKnownKeys(options, POOL_OPTION_NAMES, 'pool option');
  const { driver } = options;
  if (!(driver instanceof URL) && typeof driver !== 'string') {
    throw new TypeError('options.driver must be a URL or a string');
  }
  validatePoolSettings(options);
}

/** The {@link PoolOptions} besides the driver and its options: what an adapter sets from its own. */
type PoolSettingName = Exclude<keyof PoolOptions, 'driver' | 'defaultOptions'>;

/**
 * Checks the {@link PoolOptions} other than `driver` and `defaultOptions` as {@link createPool}
 * does, with its messages: a TypeError for a wrong type, a RangeError for a value out of range.
 * For an adapter that starts its core pool later than its own pool is made (at the first call)
 * and must refuse a wrong option at once, as the conventions ask. `names` gives the adapter's
 * name of an option where it has its own, for the messages (`options.workers must be an integer`).
 * Undefined values are skipped; keys are not checked (an adapter has options of its own).
 *
 * @example
 * ```ts
 * import { validatePoolSettings } from '@unblock/core';
 * // Throws RangeError('options.workers must be at least 1').
 * validatePoolSettings({ threads: 0, closeTimeout: 1000 }, { threads: 'workers' });
 * ```
 */
export function validatePoolSettings(
  settings: { readonly [K in PoolSettingName]?: unknown },
  names: { readonly [K in PoolSettingName]?: string } = {},
): void {
  const label = (name: PoolSettingName): string => `options.${names[name] ?? name}`;
  const integer = (name: PoolSettingName, min: number, max: number): void => {
    const value = settings[name];
    if (value === undefined) return;
    if (typeof value !== 'number' || !(Number.isInteger(value) || value === Infinity)) {
      throw new TypeError(`${label(name)} must be an integer`);
    }
    if (value < min) throw new RangeError(`${label(name)} must be at least ${min}`);
    if (value > max) throw new RangeError(`${label(name)} must be at most ${max}`);
  };
  integer('threads', 1, MAX_POOL_THREADS);
  integer('maxQueue', 1, Infinity);
  // Timer delays: Node runs a longer one (Infinity too) after 1 ms, which would report every
  // lease at once, or end close()'s grace period at once.
  integer('leakDetectionThreshold', 0, MAX_TIMER_MS);
  integer('closeTimeout', 0, MAX_TIMER_MS);
  integer('workerNice', 0, 19);
  if (settings.interrupt !== undefined && typeof settings.interrupt !== 'function') {
    throw new TypeError(`${label('interrupt')} must be a function`);
  }
  for (const name of ['captureStacks', 'multiplexSessions'] as const) {
    const value = settings[name];
    if (value !== undefined && typeof value !== 'boolean') {
      throw new TypeError(`${label(name)} must be a boolean`);
    }
  }
  const strings = (name: PoolSettingName): void => {
    const value = settings[name];
    if (value === undefined) return;
    if (!(Array.isArray(value) && value.every((item) => typeof item === 'string'))) {
      throw new TypeError(`${label(name)} must be an array of strings`);
    }
  };
  strings('leaseKinds');
  strings('execArgv');
  if (settings.name !== undefined && typeof settings.name !== 'string') {
    throw new TypeError(`${label('name')} must be a string`);
  }
  validateResourceLimits(settings.resourceLimits, label('resourceLimits'));
}

const RESOURCE_LIMITS = [
  'maxYoungGenerationSizeMb',
  'maxOldGenerationSizeMb',
  'codeRangeSizeMb',
  'stackSizeMb',
] as const satisfies readonly (keyof ResourceLimits)[];

/** Node takes any value here without a word: a wrong one leaves a worker that cannot start. */
function validateResourceLimits(limits: unknown, label: string): void {
  if (limits === undefined) return;
  if (typeof limits !== 'object' || limits === null || Array.isArray(limits)) {
    throw new TypeError(`${label} must be an object`);
  }
  for (const [key, value] of Object.entries(limits)) {
    const name = `${label}.${key}`;
    if (!(RESOURCE_LIMITS as readonly string[]).includes(key)) {
      throw new TypeError(`${name} is not a resource limit: ${RESOURCE_LIMITS.join(', ')}`);
    }
    if (typeof value !== 'number' || Number.isNaN(value)) {
      throw new TypeError(`${name} must be a number of megabytes`);
    }
    if (value < 0 || value === Infinity) throw new RangeError(`${name} must be 0 or more, finite`);
  }
}

/**
 * Worker threads (on piscina) hosting a driver. Sessions are pinned to one worker; stateless
 * calls go to whichever worker has the least in flight.
 *
 * @example
 * ```ts
 * import { createPool } from '@unblock/core';
 * const pool = createPool({ driver: new URL('./driver.worker.js', import.meta.url) });
 * const session = await pool.openSession({ filename: 'app.db' });
 * console.log(await session.call('all', ['select 1 as x', []]));
 * await pool.close();
 * ```
 */
export class Pool<O = unknown> {
  /** Leak reports of every handle of this pool: `pool.leaks.on('leak', ...)`. */
  readonly leaks: LeakDetector;
  readonly name: string;
  private readonly piscina: Piscina;
  private readonly key: string;
  private readonly threads: number;
  private readonly slots = new Map<number, WorkerSlot>();
  private slotWaiters: (() => void)[] = [];
  private readonly stats_ = new CallStats();
  private readonly env: SessionEnvironment;
  private nextSessionId = 1;
  /** Sessions being opened: close() waits for them before it stops the workers. */
  private readonly opening = new Set<Promise<Session>>();
  private outstanding = 0;
  private drained: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  private destroyed = false;
  /** What destroy() returns, from its first call on. */
  private destroying: Promise<void> | undefined;
  private readonly startedAt = Date.now();
  /** Workers whose exit is watched, and those of them that reported in. */
  private readonly watched = new WeakSet<Worker>();
  private readonly reportedIn = new WeakSet<Worker>();
  /** Why the last worker that died before it reported in did (its error, or its exit code). */
  private startFailure: Error | undefined;

  constructor(private readonly options: PoolOptions<O>) {
    validatePoolOptions(options as PoolOptions);
    this.threads = options.threads ?? availableParallelism();
    this.key = `unblock-${process.pid}-${++poolCount}`;
    this.name = options.name ?? `pool ${poolCount}`;
    const captureStacks = options.captureStacks ?? process.env.NODE_ENV !== 'production';
    this.leaks = new LeakDetector({
      leakDetectionThreshold: options.leakDetectionThreshold ?? 0,
      leaseKinds: options.leaseKinds,
      name: this.name,
    });
    const maxQueue = options.maxQueue ?? Infinity;
    this.env = {
      name: this.name,
      leaks: this.leaks,
      stats: this.stats_,
      captureStacks,
      // With a core for each worker and one for the caller, waiting for answers costs nobody.
      spinsForMany: this.threads < availableParallelism(),
      interrupt: options.interrupt,
      terminate: (threadId) => void this.slots.get(threadId)?.worker?.terminate(),
      workerGone: (threadId) => this.workerGone(threadId),
      admit: () => {
        if (this.closing !== undefined || this.destroyed) return new PoolClosedError();
        if (this.outstanding >= maxQueue) return new QueueFullError(maxQueue);
        this.outstanding++;
        return undefined;
      },
      release: () => {
        this.outstanding--;
        if (this.outstanding === 0) this.drained?.();
      },
    };
    const data: HostData = {
      poolKey: this.key,
      driver: options.driver instanceof URL ? options.driver.href : options.driver,
      nice: workerNiceValue(options.workerNice ?? 5),
    };
    this.piscina = new Piscina({
      filename: hostModule.href,
      minThreads: this.threads,
      maxThreads: this.threads,
      // The default 'sync' mode blocks an idle worker in Atomics.wait, which would starve the
      // session ports that worker serves.
      atomics: 'disabled',
      workerData: data,
      resourceLimits: options.resourceLimits,
      execArgv: options.execArgv,
    });
    this.piscina.on('message', (message: WorkerHello) => {
      if (message?.unblockHello === this.key) this.addSlot(message);
    });
    this.piscina.on('error', () => {
      // Worker crashes are handled per worker (see addSlot); piscina's own report is redundant.
    });
    this.watchWorkers();
  }

  /**
   * Watches every worker piscina has started for a death before it reports in. Piscina replaces
   * a worker of its first set that dies so, but once a replacement dies before it is ready too,
   * it starts no other (its `workerFailsDuringBootstrap`): an open would wait for a worker that
   * never comes. Called again as each watched worker exits, after piscina (whose listener came
   * first) has started its replacement, if any.
   */
  private watchWorkers(): void {
    for (const worker of this.piscina.threads) {
      if (this.watched.has(worker)) continue;
      this.watched.add(worker);
      let error: Error | undefined;
      worker.once('error', (err) => (error = err));
      worker.once('exit', (code) => {
        if (!this.reportedIn.has(worker))
          this.startFailure = error ?? new WorkerExitedError(code, 'as it started');
        this.watchWorkers();
        for (const wake of this.slotWaiters.splice(0)) wake();
      });
    }
  }

  private addSlot({ threadId, inbox }: WorkerHello): void {
    const worker = this.piscina.threads.find((w) => w.threadId === threadId);
    if (worker !== undefined) this.reportedIn.add(worker);
    const slot: WorkerSlot = {
      threadId,
      inbox,
      worker,
      sessions: new Set(),
      defaultSession: undefined,
      runs: 0,
      mux: undefined,
      exitCode: undefined,
    };
    this.slots.set(threadId, slot);
    inbox.unref();
    worker?.once('exit', (code) => this.onWorkerExit(slot, code));
    const waiters = this.slotWaiters;
    this.slotWaiters = [];
    for (const wake of waiters) wake();
  }

  /**
   * Its ports closing is the first sign of a worker's death; its exit event (with the exit code
   * its calls reject with) may come milliseconds later. New sessions must not be sent to it
   * meanwhile: they would fail (the least busy worker, it would get them all).
   */
  private workerGone(threadId: number): void {
    this.slots.delete(threadId);
  }

  private onWorkerExit(slot: WorkerSlot, code: number): void {
    slot.exitCode = code;
    this.slots.delete(slot.threadId);
    this.leaks.forgetThread(slot.threadId);
    const error = new WorkerExitedError(code);
    for (const session of slot.sessions) session.fail(error);
    slot.sessions.clear();
  }

  /** Waits for a worker to report in; at start-up, for all of them, so sessions spread out. */
  private async pickSlot(threadId: number | undefined): Promise<WorkerSlot> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (this.closing !== undefined || this.destroyed) throw new PoolClosedError();
      const starting = this.slots.size < this.threads && Date.now() - this.startedAt < 2_000;
      if (threadId !== undefined) {
        const slot = this.slots.get(threadId);
        if (slot !== undefined) return slot;
        if (!starting) throw new WorkerExitedError(undefined, `no worker thread ${threadId}`);
      } else if (this.slots.size > 0 && !starting) {
        let best: WorkerSlot | undefined;
        for (const slot of this.slots.values()) {
          if (best === undefined || slot.sessions.size < best.sessions.size) best = slot;
        }
        return best!;
      }
      // None left, and piscina starts no other after a start failure (see watchWorkers).
      const failure = this.startFailure;
      if (this.slots.size === 0 && failure !== undefined && this.piscina.threads.length === 0) {
        throw new WorkerInitError(`No worker thread could start: ${failure.message}`, {
          cause: failure,
        });
      }
      // A worker that neither reports in nor dies (a driver module that never finishes loading).
      if (Date.now() > deadline) throw new WorkerInitError('No worker thread started within 10 s');
      // Referenced: a worker that dies as it starts (out of memory, a driver module that exits)
      // leaves nothing else to keep the process alive, and this open would never settle.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(wake, 50);
        function wake(): void {
          clearTimeout(timer);
          resolve();
        }
        this.slotWaiters.push(wake);
      });
    }
  }

  /**
   * Opens a session (a connection pinned to one worker). By default it goes to the worker with
   * the fewest sessions; `placement.threadId` chooses one. `placement.captureStacks` overrides
   * the pool's `captureStacks` for this session's calls.
   *
   * @example
   * ```ts
   * const writer = await pool.openSession({ filename: 'app.db' });
   * const reader = await pool.openSession({ filename: 'app.db', readonly: true });
   * const quiet = await pool.openSession({ filename: 'app.db' }, { captureStacks: false });
   * ```
   */
  openSession(options?: O, placement: SessionPlacement = {}): Promise<Session> {
    const opening = this.open(options, placement);
    this.opening.add(opening);
    const forget = (): void => void this.opening.delete(opening);
    opening.then(forget, forget);
    return opening;
  }

  private async open(options: O | undefined, placement: SessionPlacement): Promise<Session> {
    // Dropped once the session is open: an unformatted Error keeps its frames' receivers alive
    // (the caller's suspended async functions), and closures made below would retain it.
    let origin: Error | undefined = new Error();
    const slot = await this.pickSlot(placement.threadId);
    if (this.destroyed) throw new PoolClosedError('The pool was destroyed');
    const sessionId = this.nextSessionId++;
    const { port, message, transfer } = this.sessionPort(slot, sessionId);
    message.options = encodeValue(options, {}, 'options');
    const reply = new Promise<FromWorker>((resolve) => {
      let answered = false;
      port.once('message', (message) => {
        answered = true;
        resolve(message as FromWorker);
      });
      port.once('close', () => {
        // Closed after an answer: by the worker, which had no session to open (openFailed).
        if (answered) return;
        this.workerGone(slot.threadId);
        const fail = (code?: number): void => {
          const error = new WorkerExitedError(code, 'while opening a session');
          resolve({ k: 'openFailed', error: encodeValue(error, {}, 'e') });
        };
        // The worker died: its exit event, which brings the exit code, came already (Node does
        // not order the two) or follows shortly.
        if (slot.exitCode !== undefined) return fail(slot.exitCode);
        const exited = (code?: number): void => {
          clearTimeout(fallback);
          slot.worker?.off('exit', exited);
          fail(code);
        };
        const fallback = setTimeout(exited, EXIT_EVENT_WAIT_MS);
        slot.worker?.once('exit', exited);
      });
    });
    slot.inbox.postMessage(message, transfer);
    const opened = await reply;
    if (opened.k !== 'opened') {
      port.close();
      const error = opened.k === 'openFailed' ? opened.error : undefined;
      const stack = origin.stack;
      const err = decodeValue(error, { callerStack: () => stack });
      // Its worker was terminated by destroy(), or by close() at the end of its grace period.
      if (err instanceof WorkerExitedError && (this.destroyed || this.closing !== undefined))
        throw new PoolClosedError('The pool closed before the session opened');
      throw err;
    }
    origin = undefined;
    port.removeAllListeners('close');
    const state = new Int32Array(message.state);
    const captureStacks = placement.captureStacks ?? this.env.captureStacks;
    const session = new Session(sessionId, port, state, this.env, captureStacks, opened, () => {
      slot.sessions.delete(session);
      // Its handles' objects went with the connection: none is left to report or count.
      this.leaks.forgetSession(sessionId);
    });
    if (this.destroyed) {
      // Its worker is being terminated: no 'closed' answer would come.
      session.destroy(new PoolClosedError('The pool was destroyed'));
      throw new PoolClosedError('The pool was destroyed');
    }
    if (this.closing !== undefined) {
      await session.close().catch(() => undefined);
      throw new PoolClosedError();
    }
    slot.sessions.add(session);
    return session;
  }

  /** The port of a new session (its own, or an end of its worker's mux) and the open message. */
  private sessionPort(
    slot: WorkerSlot,
    sessionId: number,
  ): { port: SessionPort; message: OpenSessionMessage; transfer: MessagePort[] } {
    const message: OpenSessionMessage = {
      k: 'open',
      sessionId,
      port: undefined,
      muxPort: undefined,
      state: newSessionState(this.options.multiplexSessions !== true),
      options: undefined,
    };
    if (this.options.multiplexSessions !== true) {
      const { port1, port2 } = new MessageChannel();
      message.port = port2;
      return { port: port1, message, transfer: [port2] };
    }
    if (slot.mux === undefined) {
      // The worker's first muxed session brings the mux port along.
      const { port1, port2 } = new MessageChannel();
      slot.mux = new PortMux(port1, queueMicrotask);
      message.muxPort = port2;
    }
    const port = slot.mux.open(sessionId);
    // As a port of its own would, the end keeps the process alive until the session is open.
    port.ref();
    return { port, message, transfer: message.muxPort === undefined ? [] : [message.muxPort] };
  }

  /**
   * Runs a stateless operation on any worker (the one with the least in flight), on that
   * worker's default connection (opened with `defaultOptions`).
   *
   * @example
   * ```ts
   * const digest = await pool.run('hash', ['some data'], { timeout: 1000 });
   * ```
   */
  async run(op: string, args: unknown[] = [], options?: CallOptions): Promise<unknown> {
    const since = performance.now();
    const callOptions = currentCallOptions(options);
    let resent = false;
    for (;;) {
      // Waiting for a worker or its connection, the call is queued: an abort or the end of its
      // time rejects it at once.
      let slot: WorkerSlot | undefined;
      let session: Session | undefined;
      const picked = this.runSlot();
      try {
        slot = await waitQueued(picked, callOptions, since);
        session = await waitQueued(this.defaultSession(slot), callOptions, since);
      } catch (err) {
        // Given a worker after all, or now: the call is not its.
        picked.then(
          (given) => given.runs--,
          () => undefined,
        );
        if (err instanceof AbortError) this.stats_.aborted++;
        throw err;
      }
      if (session === undefined) {
        // Its worker exited meanwhile: another one takes the call.
        slot.runs--;
        continue;
      }
      try {
        return await session.callTarget(CONNECTION_TARGET, op, args, options, resent, since);
      } catch (err) {
        // Queued behind a call that ended its worker (a crash, or an abort that had to terminate
        // it): it never ran, and any worker can run it.
        if (resent || !(err instanceof WorkerExitedError && err.started === false)) throw err;
        resent = true;
      } finally {
        slot.runs--;
      }
    }
  }

  /**
   * The worker for a call of `run()`: the one with the fewest such calls unsettled, counted as
   * each is given one, so that calls made together spread over the workers (their sessions'
   * calls in flight are counted only once the calls are sent, at the end of the tick).
   */
  private async runSlot(): Promise<WorkerSlot> {
    let best = await this.pickSlot(undefined);
    for (const slot of this.slots.values()) if (slot.runs < best.runs) best = slot;
    best.runs++;
    return best;
  }

  /**
   * The connection of `slot` for stateless calls, opened with `defaultOptions` when first used;
   * undefined when it has ended (its worker exited).
   */
  private async defaultSession(slot: WorkerSlot): Promise<Session | undefined> {
    if (this.closing !== undefined || this.destroyed) throw new PoolClosedError();
    const opening = (slot.defaultSession ??= this.openSession(this.options.defaultOptions, {
      threadId: slot.threadId,
    }).catch((err: unknown) => {
      slot.defaultSession = undefined;
      throw err;
    }));
    const session = await opening;
    if (!session.ended) return session;
    if (slot.defaultSession === opening) slot.defaultSession = undefined;
    return undefined;
  }

  /** The open sessions of every worker. */
  private sessions(): Session[] {
    return [...this.slots.values()].flatMap((slot) => [...slot.sessions]);
  }

  /** Thread ids of the workers that have reported in. */
  threadIds(): number[] {
    return [...this.slots.keys()];
  }

  /**
   * Counters, percentiles and live handles.
   *
   * @example
   * ```ts
   * setInterval(() => metrics.gauge('db.queued', pool.stats().queued), 10_000);
   * ```
   */
  stats(): PoolStats {
    let sessions = 0;
    let running = 0;
    let queued = 0;
    for (const slot of this.slots.values()) {
      for (const session of slot.sessions) {
        sessions++;
        // Counted per session: one busy with a call nobody awaits any more (aborted, and not
        // stopped yet) has as many queued as are in flight.
        if (session.busy) running++;
        queued += session.queued;
      }
    }
    return {
      threads: this.slots.size,
      sessions,
      queued,
      running,
      completed: this.stats_.completed,
      failed: this.stats_.failed,
      aborted: this.stats_.aborted,
      waitTime: this.stats_.waitTime(),
      runTime: this.stats_.runTime(),
      handles: this.leaks.counts(),
    };
  }

  /**
   * Graceful close: refuses new calls, lets calls in flight finish, reports leases still open,
   * closes every session and stops the workers. Calls not finished `closeTimeout` ms after the
   * call are rejected; opens and the driver's close of each connection not finished
   * `closeTimeout` ms after that are dropped, and the workers are terminated. Idempotent.
   *
   * @example
   * ```ts
   * process.on('SIGTERM', () => pool.close());
   * ```
   */
  close(): Promise<void> {
    // After destroy(), there is nothing left to close gracefully: it resolves as destroy() does.
    this.closing ??= this.destroying ?? this.shutDown();
    return this.closing;
  }

  private async shutDown(): Promise<void> {
    const timeout = this.options.closeTimeout ?? 5_000;
    const deadline = performance.now() + timeout;
    if (this.outstanding > 0) {
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        setTimeout(resolve, timeout).unref();
      });
    }
    // A call aborted while running that its driver has not stopped yet (a cancel that does not
    // reach it) is awaited by nobody, yet its session's close would wait behind it: it gets
    // what is left of the grace period too, and its session is then dropped with the rest.
    while (!this.destroyed && this.sessions().some((s) => s.busy) && performance.now() < deadline)
      await delay(BUSY_POLL_MS);
    this.leaks.reportOpenAtClose();
    // Sessions still opening, and the driver's close of each connection, get a grace period of
    // their own (calls that used all of theirs must not cut short the close of idle sessions),
    // but a bounded one: a driver whose open or close never settles must not hold close() for
    // ever. Past it, the workers are terminated with them, as destroy() would.
    let timer: NodeJS.Timeout | undefined;
    const inTime = await Promise.race([
      this.closeSessions().then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), timeout);
      }),
    ]);
    clearTimeout(timer);
    if (!inTime) {
      for (const session of this.sessions())
        session.fail(new PoolClosedError('The pool closed (closeTimeout) before the session did'));
    }
    // Destroyed meanwhile: the workers are being terminated already.
    await (this.destroying ?? this.piscina.close({ force: true }));
  }

  /** Waits for the sessions still opening, then closes every session. */
  private async closeSessions(): Promise<void> {
    await Promise.allSettled([...this.opening]);
    const sessions = this.sessions();
    // Calls still in flight are stopped as aborted calls are: with the driver's interrupt (or
    // cancel) when it has one, so a long query ends now and its connection closes as usual
    // (terminating a worker waits for the native call it runs), else by terminating the worker.
    // A thread still held by a call aborted earlier that its driver has not stopped answers no
    // session's close: all of its sessions go.
    const closed = (): Error => new PoolClosedError('The pool closed before the call finished');
    const held = new Set(sessions.filter((s) => s.busy && s.inFlight === 0).map((s) => s.threadId));
    for (const session of sessions) {
      if (session.inFlight > 0) session.cancelAll(closed);
      else if (held.has(session.threadId)) session.fail(closed());
    }
    await Promise.all(sessions.map((session) => session.close().catch(() => undefined)));
  }

  /**
   * Immediate stop: every call in flight rejects with `error` (default: `UNBLOCK_ERR_POOL_CLOSED`)
   * and the workers are terminated. Idempotent.
   *
   * @example
   * ```ts
   * await pool.destroy(new Error('shutting down'));
   * ```
   */
  destroy(error?: Error): Promise<void> {
    // Called again, it resolves as the first call does: once the workers are gone.
    this.destroying ??= this.tearDown(error);
    return this.destroying;
  }

  private async tearDown(error: Error | undefined): Promise<void> {
    this.destroyed = true;
    const reason = error ?? new PoolClosedError('The pool was destroyed');
    for (const slot of this.slots.values()) {
      for (const session of slot.sessions) session.fail(reason);
    }
    // Opens still waiting for a worker to report in look again, and find the pool destroyed.
    for (const wake of this.slotWaiters.splice(0)) wake();
    this.drained?.();
    await this.piscina.destroy();
  }

  /**
   * `await using pool = createPool(...)` closes the pool (gracefully) at the end of the block.
   *
   * @example
   * ```ts
   * await using pool = createPool({ driver: new URL('./driver.worker.js', import.meta.url) });
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/**
 * Creates a {@link Pool}.
 *
 * @example
 * ```ts
 * const pool = createPool({ driver: new URL('./driver.worker.js', import.meta.url), threads: 2 });
 * ```
 */
export function createPool<O = unknown>(options: PoolOptions<O>): Pool<O> {
  return new Pool(options);
}
