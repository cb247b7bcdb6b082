import { packRows, unpackRows, type PackedRows } from './row-set.js';
import { registerValueCodec } from './value-codec.js';

// Many rows passed as one argument (the parameter lists of a bulk insert, say) cost the caller
// a structured clone of every value, before the worker can start on the first row. Packed by
// column, as result rows are (numbers in a Float64Array, strings joined with offsets), they
// clone as a few buffers and one string each (measured here: 10k rows of 3 values, about 5.5 ms
// of the caller's time as arrays, about 1 ms packed).

/**
 * Rows of `width` values each, sent to a worker packed by column. The worker's operation
 * receives them as an array of row arrays (the RowBatch itself does not cross).
 *
 * @example
 * ```ts
 * await session.call('insertAll', [new RowBatch([[1, 'a'], [2, 'b']], 2)]);
 * // in the worker: insertAll: (conn, [rows]) => rows.forEach((row) => insert.run(...row))
 * ```
 */
export class RowBatch {
  constructor(
    readonly rows: readonly (readonly unknown[])[],
    readonly width: number,
  ) {
    for (const row of rows) {
      if (!Array.isArray(row) || row.length !== width)
        throw new TypeError(`Every row of a RowBatch must be an array of ${width} values`);
    }
  }
}

interface PackedBatch {
  w: number;
  p: PackedRows;
}

// Registered wherever core is loaded (the caller's entry and the worker host import this file).
// It encodes a RowBatch and decodes to the rows themselves.
registerValueCodec<RowBatch | unknown[][]>({
  name: 'RowBatch',
  is: (value): value is RowBatch => value instanceof RowBatch,
  encode: (batch) => {
    const { rows, width } = batch as RowBatch;
    return { w: width, p: packRows(rows as unknown[][], width, 0, rows.length, []) };
  },
  decode: (data) => {
    const { w, p } = data as PackedBatch;
    return unpackRows(p, new Array<string>(w).fill(''), 'array', [], {}) as unknown[][];
  },
});
