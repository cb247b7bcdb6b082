import { RowSet, type RowShape } from '../row-set.js';

/**
 * Rows still being produced when an operation returns them: the host sends them to the caller
 * in chunks as they come, so sending overlaps producing (a network driver still parsing a large
 * result, say). The driver appends to `rows`, calls `grew()` when it has, and `end()` or
 * `fail(error)` once. The call counts as running until then: cancelling it reaches the
 * driver's `cancel`. Rows are packed as they come and then let go: the host sets their slots
 * in `rows` to `undefined` (a large result is not held whole in the worker, and not copied by
 * its garbage collector), so the driver must not read them back.
 *
 * @example
 * ```ts
 * // in a driver operation
 * const stream = new RowStream(['id'], [], 'object');
 * source.on('row', (row) => { stream.rows.push(row); stream.grew(); });
 * source.on('end', () => stream.end());
 * source.on('error', (err) => stream.fail(err));
 * return stream;
 * ```
 */
export class RowStream extends RowSet {
  private finished = false;
  private failure: { error: unknown } | undefined;
  private wake: (() => void) | undefined;

  constructor(columns: string[], rows: unknown[][], shape: RowShape = 'object', extra?: unknown) {
    super(columns, rows, shape, extra);
  }

  /** More rows were appended to `rows`. */
  grew(): void {
    this.notify();
  }

  /** `rows` is complete. */
  end(): void {
    this.finished = true;
    this.notify();
  }

  /** The rows cannot be completed: the call fails with `error` (rows already sent are dropped). */
  fail(error: unknown): void {
    this.failure ??= { error };
    this.end();
  }

  /** @internal True once `end()` or `fail()` was called. */
  get ended(): boolean {
    return this.finished;
  }

  /** @internal What `fail()` was given. */
  get error(): { error: unknown } | undefined {
    return this.failure;
  }

  /** @internal Resolves at the next `grew()`, `end()` or `fail()`. */
  changed(): Promise<void> {
    if (this.finished) return Promise.resolve();
    return new Promise((resolve) => (this.wake = resolve));
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = undefined;
    wake?.();
  }
}
