import type { Transferable } from 'node:worker_threads';
import { decodeValue, encodeValue, type DecodeContext } from './value-codec.js';

// Rows cross the thread boundary packed by column: numbers in a Float64Array, strings joined
// into one string with offsets, and only the other columns as arrays. Measured here for 10k rows
// x 10 columns arriving on the main thread: row objects 15.9 ms, row arrays 6.0 ms, packed
// columns 2.3 ms. Column names travel once, and the driver's row shape is rebuilt on arrival.

/**
 * How rows are handed to the caller: objects keyed by column, arrays, or the first column's values.
 *
 * @example
 * ```ts
 * // in a driver operation, for a caller that asked for arrays (better-sqlite3's stmt.raw())
 * const shape: RowShape = raw ? 'array' : 'object';
 * return new RowSet(['id', 'name'], [[1, 'a']], shape); // 'pluck' would hand the caller [1]
 * ```
 */
export type RowShape = 'object' | 'array' | 'pluck';

/**
 * Rows produced in a worker, returned from a driver operation. The host packs them by column and
 * splits large sets into chunks sent with flow control.
 *
 * @example
 * ```ts
 * // in a driver operation
 * return new RowSet(['id', 'name'], [[1, 'a'], [2, 'b']], 'object');
 * ```
 */
export class RowSet {
  constructor(
    readonly columns: string[],
    readonly rows: unknown[][],
    readonly shape: RowShape = 'object',
    /** Anything else the adapter wants to pass along (for instance mysql2's fields). */
    readonly extra?: unknown,
  ) {}
}

type PackedColumn =
  | { t: 'n'; v: Float64Array; z?: Uint8Array }
  | { t: 'd'; v: Float64Array; z?: Uint8Array }
  | { t: 's'; v: string; o: Uint32Array; z?: Uint8Array }
  | { t: 'a'; v: unknown[] };

/** One packed chunk of a row set: by column, or (a few rows) as the rows themselves. */
export type PackedRows = { n: number; cols: PackedColumn[] } | { n: number; rows: unknown[] };

/**
 * One column of rows that a driver packed itself, while parsing them (see
 * `RowStream.pushColumns`): numbers, or dates as their time values, in a Float64Array; or
 * strings joined into one `text`, value `i` being `text.slice(offsets[i], offsets[i + 1])`.
 * `nulls[i] === 1` makes value `i` null.
 *
 * @example
 * ```ts
 * const ids: ColumnValues = { kind: 'number', values: Float64Array.of(1, 2) };
 * const names: ColumnValues = { kind: 'text', text: 'ab', offsets: Uint32Array.of(0, 1, 2) };
 * ```
 */
export type ColumnValues =
  | {
      kind: 'number' | 'date';
      values: Float64Array<ArrayBuffer>;
      nulls?: Uint8Array<ArrayBuffer>;
    }
  | {
      kind: 'text';
      text: string;
      offsets: Uint32Array<ArrayBuffer>;
      nulls?: Uint8Array<ArrayBuffer>;
    };

/** @internal A driver's own columns of `n` rows as a chunk; their buffers go into `transfer`. */
export function packColumnValues(
  n: number,
  columns: readonly ColumnValues[],
  transfer: Transferable[],
): PackedRows {
  const cols = columns.map((col): PackedColumn => {
    if (col.nulls !== undefined) transfer.push(col.nulls.buffer);
    if (col.kind === 'text') {
      transfer.push(col.offsets.buffer);
      return { t: 's', v: col.text, o: col.offsets, z: col.nulls };
    }
    transfer.push(col.values.buffer);
    return { t: col.kind === 'date' ? 'd' : 'n', v: col.values, z: col.nulls };
  });
  return { n, cols };
}

/**
 * Up to this many rows travel as plain rows: packing columns into transferred typed arrays has
 * a fixed cost that only pays off from about ten rows on (measured here: a one-row result cost
 * about twice as much packed).
 */
const FEW_ROWS = 8;

/**
 * Rows per chunk so that decoding one chunk on the caller's thread stays near a millisecond.
 * Results with more rows than this travel in chunks; a driver can use it to tell whether a
 * result is worth a {@link RowStream}.
 *
 * @example
 * ```ts
 * if (rows.length >= chunkRowCount(columns.length)) return new RowStream(columns, rows);
 * ```
 */
export function chunkRowCount(columnCount: number): number {
  return Math.max(64, Math.floor(8_192 / Math.max(1, columnCount)));
}

/**
 * Packs rows `[from, to)` of a set by column; transferable buffers go into `transfer`.
 *
 * @example
 * ```ts
 * const transfer = [];
 * port.postMessage(packRows(set.rows, 2, 0, set.rows.length, transfer), transfer);
 * ```
 */
export function packRows(
  rows: unknown[][],
  columnCount: number,
  from: number,
  to: number,
  transfer: Transferable[],
): PackedRows {
  const n = to - from;
  if (n <= FEW_ROWS) return plainRows(rows, from, to, transfer);
  const cols: PackedColumn[] = [];
  for (let c = 0; c < columnCount; c++) cols.push(packColumn(rows, c, from, to, transfer));
  return { n, cols };
}

/**
 * Rows `[from, to)` of a set as the rows themselves, not packed: what a session's lane can
 * carry (it takes plain values only), and what a few rows cost least as.
 *
 * @example
 * ```ts
 * const transfer = [];
 * const part = plainRows([[1, 'a']], 0, 1, transfer); // { n: 1, rows: [[1, 'a']] }
 * ```
 */
export function plainRows(
  rows: unknown[][],
  from: number,
  to: number,
  transfer: Transferable[],
): PackedRows {
  return {
    n: to - from,
    rows: encodeValue(rows.slice(from, to), { transfer }, 'rows') as unknown[],
  };
}

/**
 * Packs column `c` of rows `[from, to)`. The first value that is not null decides the kind
 * (number, Date, string); the values are written in that one pass, and a value of another kind
 * sends the column as plain values instead, as does a column of nulls only.
 */
function packColumn(
  rows: unknown[][],
  c: number,
  from: number,
  to: number,
  transfer: Transferable[],
): PackedColumn {
  let first = from;
  while (first < to && rows[first][c] === null) first++;
  const kind = first < to ? rows[first][c] : null;
  const packed =
    typeof kind === 'number'
      ? packNumbers(rows, c, from, to, false, transfer)
      : kind instanceof Date
        ? packNumbers(rows, c, from, to, true, transfer)
        : typeof kind === 'string'
          ? packStrings(rows, c, from, to, transfer)
          : undefined;
  if (packed !== undefined) return packed;
  const v = new Array<unknown>(to - from);
  for (let i = from; i < to; i++) v[i - from] = rows[i][c];
  return { t: 'a', v: encodeValue(v, { transfer }, `column ${c}`) as unknown[] };
}

/** Numbers, or Dates as their time value (cloning 50k Date objects costs the caller far more). */
function packNumbers(
  rows: unknown[][],
  c: number,
  from: number,
  to: number,
  dates: boolean,
  transfer: Transferable[],
): Extract<PackedColumn, { t: 'n' | 'd' }> | undefined {
  const n = to - from;
  const v = new Float64Array(n);
  let z: Uint8Array<ArrayBuffer> | undefined;
  for (let i = 0; i < n; i++) {
    const x = rows[from + i][c];
    if (x === null) (z ??= new Uint8Array(n))[i] = 1;
    else if (dates ? x instanceof Date : typeof x === 'number')
      v[i] = dates ? (x as Date).getTime() : (x as number);
    else return undefined;
  }
  const t = dates ? 'd' : 'n';
  transfer.push(v.buffer);
  if (z === undefined) return { t, v };
  transfer.push(z.buffer);
  return { t, v, z };
}

/** Strings joined into one, with their offsets. */
function packStrings(
  rows: unknown[][],
  c: number,
  from: number,
  to: number,
  transfer: Transferable[],
): Extract<PackedColumn, { t: 's' }> | undefined {
  const n = to - from;
  const o = new Uint32Array(n + 1);
  const parts = new Array<string>(n);
  let z: Uint8Array<ArrayBuffer> | undefined;
  let at = 0;
  for (let i = 0; i < n; i++) {
    const x = rows[from + i][c];
    if (typeof x === 'string') {
      parts[i] = x;
      at += x.length;
    } else if (x === null) {
      (z ??= new Uint8Array(n))[i] = 1;
      parts[i] = '';
    } else return undefined;
    o[i + 1] = at;
  }
  const v = parts.join('');
  transfer.push(o.buffer);
  if (z === undefined) return { t: 's', v, o };
  transfer.push(z.buffer);
  return { t: 's', v, o, z };
}

function columnValues(col: PackedColumn, n: number, ctx: DecodeContext): ArrayLike<unknown> {
  switch (col.t) {
    case 'n': {
      if (col.z === undefined) return col.v;
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) out[i] = col.z[i] === 1 ? null : col.v[i];
      return out;
    }
    case 'd': {
      const out = new Array<unknown>(n);
      for (let i = 0; i < n; i++) out[i] = col.z?.[i] === 1 ? null : new Date(col.v[i]);
      return out;
    }
    case 's': {
      const out = new Array<unknown>(n);
      const { v, o, z } = col;
      for (let i = 0; i < n; i++) out[i] = z?.[i] === 1 ? null : v.slice(o[i], o[i + 1]);
      return out;
    }
    case 'a':
      return decodeValue(col.v, ctx) as unknown[];
  }
}

/**
 * Rebuilds the rows of a packed chunk in the requested shape, appending to `out`.
 *
 * @example
 * ```ts
 * const rows = unpackRows(chunk, ['id', 'name'], 'object', [], {});
 * ```
 */
export function unpackRows(
  packed: PackedRows,
  columns: string[],
  shape: RowShape,
  out: unknown[],
  ctx: DecodeContext,
): unknown[] {
  if ('rows' in packed)
    return shapeRowArrays(decodeValue(packed.rows, ctx) as unknown[][], columns, shape, out);
  const { n } = packed;
  const values = packed.cols.map((col) => columnValues(col, n, ctx));
  const width = values.length;
  if (shape === 'pluck') {
    const first = values[0];
    for (let i = 0; i < n; i++) out.push(first === undefined ? undefined : first[i]);
  } else if (shape === 'array') {
    for (let i = 0; i < n; i++) {
      const row = new Array<unknown>(width);
      for (let c = 0; c < width; c++) row[c] = values[c][i];
      out.push(row);
    }
  } else {
    const { fromColumns } = rowBuilders(columns);
    for (let i = 0; i < n; i++) out.push(fromColumns(values, i));
  }
  return out;
}

/**
 * The few rows that travel as themselves (freshly decoded arrays), in the requested shape; an
 * array row has exactly one value per column, as a packed one does.
 */
function shapeRowArrays(
  rows: unknown[][],
  columns: string[],
  shape: RowShape,
  out: unknown[],
): unknown[] {
  const width = columns.length;
  if (shape === 'array')
    for (const row of rows)
      out.push(row.length === width ? row : Array.from({ length: width }, (_, c) => row[c]));
  else if (shape === 'pluck') for (const row of rows) out.push(row[0]);
  else {
    const { fromRow } = rowBuilders(columns);
    for (const row of rows) out.push(fromRow(row));
  }
  return out;
}

/** Builders of row objects for one list of columns: from packed column values, or a row array. */
interface RowBuilders {
  fromColumns: (values: ArrayLike<unknown>[], i: number) => Record<string, unknown>;
  fromRow: (row: unknown[]) => Record<string, unknown>;
}
const builderCache = new Map<string, RowBuilders>();
/** The columns asked for last and their builders: a session's results mostly repeat them. */
let lastBuilt: { columns: string[]; builders: RowBuilders } | undefined;

function sameColumns(a: string[], b: string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Functions that build one row object as an object literal with the columns as its keys.
 * V8 makes such objects from one template, several times faster than adding the keys one by
 * one (measured here: 50k rows of 8 columns). Duplicate names behave as assignment does (the
 * last value wins, at the first name's position); `__proto__` is written as a computed key,
 * so it stays an own property. Keys are JSON-quoted, so no column name can inject code.
 */
function rowBuilders(columns: string[]): RowBuilders {
  if (lastBuilt !== undefined && sameColumns(lastBuilt.columns, columns)) return lastBuilt.builders;
  const key = columns.join('\u0000');
  let builders = builderCache.get(key);
  if (builders === undefined) {
    const literal = (value: (c: number) => string): string =>
      columns
        .map((name, c) => {
          const quoted = JSON.stringify(name);
          return `${name === '__proto__' ? `[${quoted}]` : quoted}: ${value(c)}`;
        })
        .join(', ');
    builders = {
      fromColumns: new Function(
        'v',
        'i',
        `return { ${literal((c) => `v[${c}][i]`)} };`,
      ) as RowBuilders['fromColumns'],
      fromRow: new Function(
        'r',
        `return { ${literal((c) => `r[${c}]`)} };`,
      ) as RowBuilders['fromRow'],
    };
    if (builderCache.size >= 256) builderCache.clear();
    builderCache.set(key, builders);
  }
  lastBuilt = { columns, builders };
  return builders;
}
