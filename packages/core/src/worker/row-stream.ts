import { RowSet, type ColumnValues, type RowShape } from '../row-set.js';

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
  /** @internal Columns the driver packed itself, each after the `rows` appended before it. */
  readonly columnChunks: { rowsBefore: number; n: number; columns: ColumnValues[] }[] = [];
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

  /**
   * Appends `n` rows that the driver packed by column itself (a parser that never builds row
   * arrays), after the rows already in `rows`; the caller receives them as any other rows.
   *
   * @example
   * ```ts
   * stream.pushColumns(2, [{ kind: 'number', values: Float64Array.of(1, 2) }]);
   * ```
   */
  pushColumns(n: number, columns: ColumnValues[]): void {
    if (columns.length !== this.columns.length)
      throw new RangeError(`${columns.length} packed columns for ${this.columns.length} columns`);
    for (const col of columns) {
      const length = col.kind === 'text' ? col.offsets.length - 1 : col.values.length;
      if (length !== n || (col.nulls !== undefined && col.nulls.length !== n))
        throw new RangeError(`a packed column holds ${length} values where ${n} rows were given`);
    }
    this.columnChunks.push({ rowsBefore: this.rows.length, n, columns });
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
