import { EventEmitter } from 'node:events';
import { trimInternalFrames } from './internal-frames.js';

/**
 * Why a leak event was raised: a handle `collected` unclosed, held past the `threshold`,
 * `returned` after a threshold report, or still open when the pool closed (`open-at-close`).
 *
 * @example
 * ```ts
 * pool.leaks.on('leak', (e) => {
 *   if (e.reason === 'collected' || e.reason === 'open-at-close') log.error(e.stack);
 * });
 * ```
 */
export type LeakReason = 'collected' | 'threshold' | 'returned' | 'open-at-close';

/**
 * One leak report. Subscribe with `pool.leaks.on('leak', (event) => ...)`.
 *
 * @example
 * ```ts
 * pool.leaks.on('leak', (e) => log.warn({ kind: e.kind, reason: e.reason }, e.stack));
 * ```
 */
export interface LeakEvent {
  kind: string;
  reason: LeakReason;
  /** Where the handle was taken (the caller's stack), when stack capture is on. */
  stack: string | undefined;
  /** How long it had been held, in milliseconds. */
  heldFor: number;
  threadId: number;
}

/** What the detector keeps of a handle; it never references the handle itself. */
export interface TrackedHandle {
  readonly kind: string;
  readonly threadId: number;
  /** The session whose end releases the object, if one does. */
  readonly sessionId: number | undefined;
  readonly origin: Error | undefined;
  readonly since: number;
  /** Frees the object in its worker; called when the handle is collected unclosed. */
  readonly release: () => void;
  timer?: NodeJS.Timeout;
  warned: boolean;
  closed: boolean;
  /** Reported as still open at close already (see {@link LeakDetector.reportOpenAtClose}). */
  reportedOpen?: boolean;
}

/** Options of a {@link LeakDetector}. */
export interface LeakDetectorOptions {
  /** Warn about a lease held longer than this many ms (0 turns it off). */
  leakDetectionThreshold: number;
  /**
   * Handle kinds that are leases, held for a while and given back (connections, cursors): the
   * threshold watches them and close reports them; undefined: every kind.
   */
  leaseKinds: readonly string[] | undefined;
  /** A name for warnings. */
  name: string;
}

/** The stack that took a handle, from the user's call on (see hideInternalFrames). */
function stackOf(record: TrackedHandle): string | undefined {
  const stack = record.origin?.stack;
  return stack === undefined ? undefined : trimInternalFrames(stack);
}

function originOf(record: TrackedHandle): string {
  const stack = stackOf(record);
  if (stack === undefined) return '    (stack capture is off: set captureStacks)';
  return stack.slice(stack.indexOf('\n') + 1);
}

/** `kind` with its article: "a cursor", "an instance" (offload()'s handles). */
function article(kind: string, a: 'a' | 'A'): string {
  return `${/^[aeiou]/i.test(kind) ? `${a}n` : a} ${kind}`;
}

/**
 * HikariCP's idea for every kind of remote handle: a handle collected without being closed
 * is reported with the stack that took it, and a lease held past `leakDetectionThreshold`
 * is reported, and reported again when it is finally returned.
 *
 * @example
 * ```ts
 * const detector = new LeakDetector({ leakDetectionThreshold: 5000, leaseKinds: ['connection'], name: 'db' });
 * detector.on('leak', (event) => console.error(event.reason, event.stack));
 * ```
 */
export class LeakDetector extends EventEmitter<{ leak: [LeakEvent] }> {
  private readonly live = new Set<TrackedHandle>();
  private readonly registry = new FinalizationRegistry<TrackedHandle>((record) =>
    this.collected(record),
  );

  constructor(private readonly options: LeakDetectorOptions) {
    super();
  }

  /**
   * Starts watching `handle`; returns the record to pass to {@link LeakDetector.closed}.
   * `sessionId`: the session whose end releases the object (see {@link LeakDetector.forgetSession}).
   */
  track(
    handle: object,
    kind: string,
    threadId: number,
    origin: Error | undefined,
    release: () => void,
    sessionId?: number,
  ): TrackedHandle {
    // Format the stack now: until `.stack` is first read, V8 keeps the captured frames, whose
    // receivers include the caller's suspended async functions and generators. A record that
    // held them would keep the very handle it watches alive, so it could never be collected.
    void origin?.stack;
    const record: TrackedHandle = {
      kind,
      threadId,
      sessionId,
      origin,
      since: performance.now(),
      release,
      warned: false,
      closed: false,
    };
    this.live.add(record);
    this.registry.register(handle, record, record);
    const threshold = this.options.leakDetectionThreshold;
    if (threshold > 0 && this.isLease(kind)) {
      record.timer = setTimeout(() => this.overdue(record), threshold).unref();
    }
    return record;
  }

  /** The handle was closed or given back. */
  closed(record: TrackedHandle): void {
    if (record.closed) return;
    record.closed = true;
    clearTimeout(record.timer);
    this.live.delete(record);
    this.registry.unregister(record);
    if (record.warned) {
      this.report(
        record,
        'returned',
        `${article(record.kind, 'A')} reported as a possible leak was returned after ${Math.round(performance.now() - record.since)} ms`,
      );
    }
  }

  /** Forgets every handle of a worker that exited (their objects died with it). */
  forgetThread(threadId: number): void {
    this.forget((record) => record.threadId === threadId);
  }

  /** Forgets every handle of a session that ended (the worker released their objects). */
  forgetSession(sessionId: number): void {
    this.forget((record) => record.sessionId === sessionId);
  }

  private forget(matches: (record: TrackedHandle) => boolean): void {
    for (const record of this.live) {
      if (!matches(record)) continue;
      record.closed = true;
      clearTimeout(record.timer);
      this.live.delete(record);
      this.registry.unregister(record);
    }
  }

  /**
   * Reports every lease still out, as a pool closes, each once: an adapter that closes some of
   * its sessions before the pool (their handles are then forgotten) reports first.
   */
  reportOpenAtClose(): number {
    let count = 0;
    for (const record of this.live) {
      if (!this.isLease(record.kind) || record.reportedOpen === true) continue;
      record.reportedOpen = true;
      count++;
      this.report(
        record,
        'open-at-close',
        `${this.options.name} closed with ${article(record.kind, 'a')} still open`,
      );
    }
    return count;
  }

  /** Live handles by kind and by worker thread. */
  counts(): { byKind: Record<string, number>; byThread: Record<number, number>; total: number } {
    const byKind: Record<string, number> = {};
    const byThread: Record<number, number> = {};
    for (const record of this.live) {
      byKind[record.kind] = (byKind[record.kind] ?? 0) + 1;
      byThread[record.threadId] = (byThread[record.threadId] ?? 0) + 1;
    }
    return { byKind, byThread, total: this.live.size };
  }

  private isLease(kind: string): boolean {
    return this.options.leaseKinds?.includes(kind) ?? true;
  }

  private collected(record: TrackedHandle): void {
    if (record.closed) return;
    record.closed = true;
    clearTimeout(record.timer);
    this.live.delete(record);
    this.report(
      record,
      'collected',
      `${article(record.kind, 'A')} was garbage-collected without being closed`,
    );
    record.release();
  }

  private overdue(record: TrackedHandle): void {
    if (record.closed) return;
    record.warned = true;
    this.report(
      record,
      'threshold',
      `${article(record.kind, 'A')} has been held for more than ${this.options.leakDetectionThreshold} ms (leakDetectionThreshold)`,
    );
  }

  private report(record: TrackedHandle, reason: LeakReason, message: string): void {
    const event: LeakEvent = {
      kind: record.kind,
      reason,
      stack: stackOf(record),
      heldFor: performance.now() - record.since,
      threadId: record.threadId,
    };
    const code = reason === 'returned' ? 'UNBLOCK_WARN_LEAK_RETURNED' : 'UNBLOCK_WARN_LEAK';
    // A report at close names the pool already: "pool 1 closed with ...".
    const pool = reason === 'open-at-close' ? '' : ` (${this.options.name})`;
    process.emitWarning(`${message}${pool}. It was taken at:\n${originOf(record)}`, {
      code,
      type: 'UnblockLeakWarning',
    });
    this.emit('leak', event);
  }
}
