import type { MessagePort } from 'node:worker_threads';

// Node delivers every message already queued on a port in one go, and a worker that answers
// quickly keeps the queue full: a caller slower than its worker (with 64 calls in flight and
// stack capture on, say) then handled messages for 50-100 ms with no timer firing (measured
// here). So after TURN_MS of messages in one turn of the event loop, the rest wait for the next
// turn: the listener comes off the port (Node stops delivering, and keeps what is queued) and
// goes back on once timers and I/O have had their turn.

/** The most time the messages of one turn of the event loop take before the rest wait (ms). */
const TURN_MS = 2;

/** When the current turn began delivering messages; shared by every port of this thread. */
const turn = {
  startedAt: -1,
  /** Marks the start of the turn's first message (its own time counts too). */
  begin(): void {
    if (this.startedAt >= 0) return;
    this.startedAt = performance.now();
    setImmediate(() => (this.startedAt = -1));
  },
  over(now: number): boolean {
    return now - this.startedAt > TURN_MS;
  },
};

/**
 * Listens for `port`'s messages, at most TURN_MS of them per turn of the event loop.
 * `resumed` runs each time the listener goes back on (adding a 'message' listener refs the
 * port, which the owner may not want).
 *
 * @example
 * ```ts
 * onMessagesPaced(port, (message) => handle(message), () => idle && port.unref());
 * ```
 */
export function onMessagesPaced(
  port: MessagePort,
  listener: (message: unknown) => void,
  resumed?: () => void,
): void {
  const handler = (message: unknown): void => {
    turn.begin();
    listener(message);
    if (!turn.over(performance.now())) return;
    port.off('message', handler);
    setImmediate(() => {
      port.on('message', handler);
      resumed?.();
    });
  };
  port.on('message', handler);
}
