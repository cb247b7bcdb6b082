// Many sessions over one MessagePort. Every message on a port costs a wake-up and a
// deserialisation on the receiving thread; sessions of an asynchronous driver (a pool of
// network connections on one worker) each answer one call at a time, so with a port each
// nearly every answer would travel alone. Over a mux, what the sessions of one worker send in
// the same tick (caller) or the same turn of the event loop (worker) travels as one message.
import { EventEmitter } from 'node:events';
import type { MessagePort, Transferable } from 'node:worker_threads';
import { onMessagesPaced } from './paced-listener.js';
import { sendApart } from './send-apart.js';

/**
 * What a session and its host need of the port between them: a MessagePort, or one end of a
 * {@link PortMux}.
 */
export interface SessionPort {
  postMessage(message: unknown, transfer?: readonly Transferable[]): void;
  /** Sends what is posted at once (a mux end; a MessagePort sends as it posts). */
  sendNow?(): void;
  /**
   * 'refused' (a mux end): a message of its that the port refused to send (structured clone
   * threw on it), as a {@link Refusal}; its owner answers for it. A MessagePort throws from
   * `postMessage` instead.
   */
  on(event: 'message' | 'close' | 'refused', listener: (data: unknown) => void): unknown;
  once(event: 'message' | 'close', listener: (message: unknown) => void): unknown;
  removeAllListeners(event: 'message' | 'close'): unknown;
  ref(): void;
  unref(): void;
  close(): void;
}

/** What a mux end's 'refused' event carries: its message the port refused, and the error. */
export interface Refusal {
  message: unknown;
  error: unknown;
}

/** One mux message: each session's messages, in the order they were sent. */
export type MuxMessage = [sessionId: number, message: unknown][];

/** When a side sends what its sessions queued: caller, at the end of the tick; worker, once per turn. */
export type MuxSchedule = (send: () => void) => void;

/** Carries the messages of many sessions over one port. */
export class PortMux {
  private readonly ends = new Map<number, MuxEnd>();
  private outbox: MuxMessage = [];
  private transfer: Transferable[] = [];
  private sendQueued = false;
  private refs = 0;
  private closed = false;

  constructor(
    private readonly port: MessagePort,
    private readonly schedule: MuxSchedule,
  ) {
    onMessagesPaced(
      port,
      (items) => {
        for (const [id, message] of items as MuxMessage) this.ends.get(id)?.deliver(message);
      },
      () => {
        if (this.refs === 0) port.unref();
      },
    );
    port.on('close', () => {
      this.closed = true;
      for (const end of [...this.ends.values()]) end.emit('close');
    });
    port.unref();
  }

  /** The end of session `id`; what arrives for it before this call is dropped. */
  open(id: number): MuxEnd {
    const end = new MuxEnd(this, id);
    this.ends.set(id, end);
    return end;
  }

  /** @internal */
  queue(id: number, message: unknown, transfer: readonly Transferable[] | undefined): void {
    if (this.closed) return;
    this.outbox.push([id, message]);
    if (transfer !== undefined) for (const t of transfer) this.transfer.push(t);
    if (!this.sendQueued) {
      this.sendQueued = true;
      this.schedule(this.send);
    }
  }

  /** @internal Sends what is queued now (the scheduled send then finds nothing). */
  sendNow(): void {
    this.send();
  }

  private readonly send = (): void => {
    this.sendQueued = false;
    if (this.outbox.length === 0 || this.closed) return;
    const items = this.outbox;
    const transfer = this.transfer;
    this.outbox = [];
    this.transfer = [];
    try {
      this.port.postMessage(items, transfer);
    } catch (err) {
      this.sendApart(items, err);
    }
  };

  /**
   * The port refused a batch: each session's message goes alone (its memory copied, not
   * moved), and the one the port still refuses goes back to its end as 'refused', rather than
   * the exception leaving the send uncaught and every session's messages lost.
   */
  private sendApart(items: MuxMessage, batchError: unknown): void {
    sendApart(
      items,
      batchError,
      (item) => this.port.postMessage([item]),
      ([id, message], error) =>
        this.ends.get(id)?.emit('refused', { message, error } satisfies Refusal),
    );
  }

  /** @internal An end keeps the process alive while it is ref'd. */
  setRef(end: MuxEnd, ref: boolean): void {
    if (end.refd === ref) return;
    end.refd = ref;
    this.refs += ref ? 1 : -1;
    if (this.refs === 0) this.port.unref();
    else if (this.refs === 1 && ref) this.port.ref();
  }

  /** @internal */
  remove(end: MuxEnd): void {
    if (this.ends.get(end.id) !== end) return;
    this.setRef(end, false);
    this.ends.delete(end.id);
  }
}

/** One session's end of a {@link PortMux}; behaves as the session's own port. */
export class MuxEnd extends EventEmitter implements SessionPort {
  /** @internal */
  refd = false;
  /** Messages that came while no one listened, kept until someone does (as a MessagePort does). */
  private held: unknown[] = [];

  constructor(
    private readonly mux: PortMux,
    readonly id: number,
  ) {
    super();
    // A session's first messages (its 'opened' answer, and notices the driver sent while it
    // opened) come together, before the Session that takes over from the opener listens. Held
    // ones go out a turn later, as a MessagePort's would: the caller of openSession() can set
    // its notice listener first.
    this.on('newListener', (event) => {
      if (event !== 'message' || this.held.length === 0) return;
      setImmediate(() => {
        const held = this.held;
        this.held = [];
        for (const message of held) this.emit('message', message);
      });
    });
  }

  /**
   * @internal Emits a message from the worker, or holds it while there is no listener, or while
   * messages are held (they go first).
   */
  deliver(message: unknown): void {
    if (this.listenerCount('message') === 0 || this.held.length > 0) this.held.push(message);
    else this.emit('message', message);
  }

  postMessage(message: unknown, transfer?: readonly Transferable[]): void {
    this.mux.queue(this.id, message, transfer);
  }

  /** Sends what every session of the mux has posted, now rather than at the end of the turn. */
  sendNow(): void {
    this.mux.sendNow();
  }

  ref(): void {
    this.mux.setRef(this, true);
  }

  unref(): void {
    this.mux.setRef(this, false);
  }

  /** Leaves the mux (what was posted before still goes out); the other sessions carry on. */
  close(): void {
    this.mux.remove(this);
  }
}
