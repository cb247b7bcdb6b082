import type { LeakDetector } from '@unblock/core';
import { Connection } from './connection.js';
import type { PoolEntry } from './pool.js';

/** @internal What a PoolConnection needs from its pool. */
export interface PoolHooks {
  /** Ends a checkout (the first time only: then true), without giving its entry back. */
  endLease(lease: Lease): boolean;
  /** Ends a checkout and gives its entry back (the first time only). */
  giveBack(lease: Lease): void;
  remove(entry: PoolEntry): void;
  /** Whether `end()` was called on the pool. */
  closed(): boolean;
}

/**
 * @internal One checkout of an entry, by `getConnection()` (with a leak detector's record,
 * closed with it) or by `pool.query()`/`execute()`. It is under way while it is its entry's
 * `lease`.
 */
export interface Lease {
  entry: PoolEntry;
  record: ReturnType<LeakDetector['track']> | undefined;
}

/** @internal Whether `conn` is the object a pool's events carry (see {@link PoolConnection}). */
export let isEventPayload: (conn: PoolConnection) => boolean;

/**
 * A connection checked out of a {@link Pool} with `getConnection()`: every Connection member,
 * plus `release()`. It stays pinned to the worker thread that owns its socket. One that is
 * garbage-collected without `release()` is reported (with the stack of `getConnection()`) and
 * goes back to the pool, so the pool cannot run dry.
 *
 * The pool's `'connection'`, `'acquire'` and `'release'` events carry another PoolConnection of
 * the same connection, the same one in every event, whose `release()` gives the connection back
 * from whoever holds it.
 *
 * @example
 * ```ts
 * await using conn = await pool.getConnection(); // released at the end of the block
 * await conn.beginTransaction();
 * await conn.query('UPDATE t SET n = n + 1');
 * await conn.commit();
 * ```
 */
export class PoolConnection extends Connection {
  readonly #entry: PoolEntry;
  readonly #hooks: PoolHooks;
  readonly #ownLease: Lease | undefined;

  /**
   * Made by the pool, not by the caller. `lease`: the checkout this object gives back. Without one, this is the object the
   * pool's events carry for the entry (one per entry, made by the pool).
   */
  constructor(entry: PoolEntry, hooks: PoolHooks, lease: Lease | undefined) {
    super(entry.session, entry.config, undefined, false, hooks.closed);
    this.#entry = entry;
    this.#hooks = hooks;
    this.#ownLease = lease;
    // As mysql2/promise's: while it has 'error' or 'end' listeners, it hears its connection's
    // (checked out or not) through one listener per event on the connection's events, which
    // therefore holds it (EventEmitter warns, as mysql2's connection does, past 10 of them).
    const relays: { end?: () => void; error?: (err: unknown) => void } = {};
    this.on('newListener', (event) => {
      if (event === 'end' && relays.end === undefined) {
        entry.events.on('end', (relays.end = () => this.relay('end')));
      } else if (event === 'error' && relays.error === undefined) {
        entry.events.on('error', (relays.error = (err) => this.relay('error', err)));
      }
    });
    this.on('removeListener', (event: string | symbol) => {
      if (event !== 'end' && event !== 'error') return;
      const relay = relays[event];
      if (relay === undefined || this.listenerCount(event) > 0) return;
      entry.events.off(event, relay);
      delete relays[event];
    });
  }

  static {
    isEventPayload = (conn) => conn.#ownLease === undefined;
  }

  /**
   * The checkout `release()` ends: this object's own; on the events' object, whichever checkout
   * the entry is in now. mysql2's events carry its connection itself, whose `release()` gives it
   * back from whoever holds it, and does nothing while it is free.
   */
  get #lease(): Lease | undefined {
    return this.#ownLease ?? this.#entry.lease;
  }

  /**
   * Gives the connection back to the pool. Idempotent: once given back, it does nothing, even
   * when the connection was handed out again (except on the events' object: see the class).
   *
   * @example
   * ```ts
   * conn.release();
   * ```
   */
  override release(): void {
    const lease = this.#lease;
    if (lease !== undefined) this.#hooks.giveBack(lease);
  }

  /**
   * As in mysql2/promise: warns (on the console) and releases, unless `gracefulEnd` is set,
   * which ends the connection and removes it from the pool.
   *
   * @example
   * ```ts
   * await conn.end();
   * ```
   */
  override end(): Promise<void> {
    if (this.config.gracefulEnd) return super.end();
    const message =
      'Calling conn.end() to release a pooled connection is deprecated. In next version calling conn.end() will be restored to default conn.end() behavior. Use conn.release() instead.';
    // mysql2 also emits 'warn' on its core connection, which mysql2/promise does not re-emit.
    console.warn(message);
    this.release();
    return Promise.resolve();
  }

  /** @internal Ends the session and takes the entry out of the pool. */
  protected override finish(): Promise<void> {
    this.#entry.dead = true;
    const lease = this.#lease;
    if (lease !== undefined) this.#hooks.endLease(lease);
    this.#hooks.remove(this.#entry);
    const { events } = this.#entry;
    // mysql2's destroy() or end() closes the connection itself: every PoolConnection listening
    // to it hears 'end' (an earlier checkout's, the events' object), after this one's own.
    return super.finish().finally(() => setTimeout(() => events.emit('end'), 0));
  }

  /**
   * Closes the socket and removes the connection from the pool.
   *
   * @example
   * ```ts
   * conn.destroy();
   * ```
   */
  override destroy(): void {
    super.destroy();
  }

  /**
   * Releases the connection to its pool (as `release()`) when an `await using` block exits.
   *
   * @example
   * ```ts
   * {
   *   await using conn = await pool.getConnection();
   *   await conn.query('SELECT 1');
   * } // back in the pool here
   * ```
   */
  override async [Symbol.asyncDispose](): Promise<void> {
    this.release();
  }
}
