/**
 * Counts an adapter's calls in flight, so that closing can wait for them: the uniform clients'
 * `close()` lets running calls finish, for up to a grace period, before ending their pool.
 *
 * @example
 * ```ts
 * const calls = new CallsInFlight();
 * calls.enter();
 * const result = pool.run('query', [sql]).finally(() => calls.leave());
 * await calls.settled(5_000); // at close: resolves once none is left, or after 5 s
 * ```
 */
export class CallsInFlight {
  #count = 0;
  #waiters: (() => void)[] = [];

  /** Calls entered and not yet left. */
  get count(): number {
    return this.#count;
  }

  /** A call starts. */
  enter(): void {
    this.#count++;
  }

  /** A call has settled; the last one out lets `settled()` resolve. */
  leave(): void {
    if (this.#count === 0 || --this.#count > 0) return;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }

  /**
   * Resolves once no call is in flight, or after `timeoutMs` (whichever comes first; the timer
   * does not keep the process alive). Never rejects.
   */
  settled(timeoutMs: number): Promise<void> {
    if (this.#count === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      timer.unref();
      this.#waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }
}
