import type { LeakDetector } from '@unblock/core';
import { Connection } from './connection.js';
import type { PoolEntry } from './pool.js';

/** @internal What a PoolConnection needs from its pool. */
export interface PoolHooks {
  release(entry: PoolEntry): void;
  remove(entry: PoolEntry): void;
  leaks(): LeakDetector;
}

/** @internal One checkout of an entry; the leak detector's record is released with it. */
export interface Lease {
  entry: PoolEntry;
  released: boolean;
  record: ReturnType<LeakDetector['track']> | undefined;
}

/**
 * A connection checked out of a {@link Pool} with `getConnection()`: every Connection member,
 * plus `release()`. It stays pinned to the worker thread that owns its socket. One that is
 * garbage-collected without `release()` is reported (with the stack of `getConnection()`) and
 * goes back to the pool, so the pool cannot run dry.
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
  readonly #lease: Lease | undefined;

  /** @internal */
  constructor(entry: PoolEntry, hooks: PoolHooks, lease: Lease | undefined) {
    super(entry.session, entry.config, undefined, false);
    this.#entry = entry;
    this.#hooks = hooks;
    this.#lease = lease;
  }

  /**
   * Gives the connection back to the pool. Idempotent.
   *
   * @example
   * ```ts
   * conn.release();
   * ```
   */
  override release(): void {
    const lease = this.#lease;
    if (lease === undefined || lease.released) return;
    lease.released = true;
    if (lease.record !== undefined) this.#hooks.leaks().closed(lease.record);
    this.#hooks.release(this.#entry);
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
    if (this.#lease !== undefined && !this.#lease.released) {
      this.#lease.released = true;
      if (this.#lease.record !== undefined) this.#hooks.leaks().closed(this.#lease.record);
    }
    this.#hooks.remove(this.#entry);
    return super.finish();
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
