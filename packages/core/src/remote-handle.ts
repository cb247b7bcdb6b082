import type { CallOptions } from './call-options.js';
import { HandleClosedError } from './errors.js';
import type { TrackedHandle } from './leak-detector.js';
import type { Session } from './session.js';

/**
 * The caller's side of an object that lives in a worker (a statement, a cursor, a class
 * instance). Calls on it run in its worker, in order with its session's other calls. Close it
 * when done; one that is garbage-collected unclosed is released in its worker and reported as
 * a leak with the stack where it was taken.
 *
 * @example
 * ```ts
 * const cursor = (await session.call('openCursor', ['select * from t'])) as RemoteHandle;
 * const rows = await cursor.call('next', [100]);
 * await cursor.close();
 * ```
 */
export class RemoteHandle<Meta = unknown> {
  #closed = false;
  readonly #record: TrackedHandle;
  /** @internal The worker-side object's id in its session. */
  readonly id: number;
  /** @internal The session whose worker holds the object. */
  readonly session: Session;

  /** Made by core for a driver's handle (a session call's result), not by the caller. */
  constructor(
    /** The handle's kind, as the driver named it. */
    readonly kind: string,
    /** What the driver sent along with the handle, readable at once. */
    readonly meta: Meta,
    id: number,
    session: Session,
    origin: Error | undefined,
  ) {
    this.id = id;
    this.session = session;
    // The release callback holds the session and id, never the handle, so the handle can be
    // collected and its finalizer can still free the worker-side object.
    this.#record = session.leaks.track(
      this,
      kind,
      session.threadId,
      origin,
      () => session.releaseHandle(id),
      session.id,
    );
  }

  /** True once {@link RemoteHandle.close} was called or the session ended. */
  get closed(): boolean {
    return this.#closed || this.session.ended;
  }

  /**
   * Calls a method of the remote object.
   *
   * @example
   * ```ts
   * await handle.call('next', [256], { timeout: 1000 });
   * ```
   */
  call(method: string, args: unknown[] = [], options?: CallOptions): Promise<unknown> {
    if (this.#closed) return Promise.reject(new HandleClosedError(this.kind));
    return this.session.callTarget(this.id, method, args, options);
  }

  /**
   * Releases the remote object (after the calls already made on it). Idempotent.
   *
   * @example
   * ```ts
   * await handle.close();
   * ```
   */
  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    this.session.leaks.closed(this.#record);
    return this.session.releaseHandle(this.id);
  }

  /**
   * `await using handle = ...` closes the handle at the end of the block.
   *
   * @example
   * ```ts
   * await using counter = (await session.call('makeCounter')) as RemoteHandle;
   * ```
   */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
