import type { ColumnValues } from '@unblock/core/worker';
import { mysql2Internal } from './mysql2-internals.js';

// A large result's rows, read from mysql2's row packets straight into packed columns. mysql2's
// own parser builds an array per row and a string per value, which the worker then packs by
// column and lets go: for a 50k-row select that was most of the worker's time (string
// decoding alone ~12 ms of ~55). Every value is read with the same packet method mysql2's text
// parser would call, so numbers and dates are exactly mysql2's; a string is copied as its bytes
// when they are all ASCII (they decode to the same characters under utf8, latin1 and ascii, as
// mysql2's own shortcut assumes), and decoded by mysql2's string parser otherwise.

/** The parts of mysql2's Packet read here. */
interface Packet {
  buffer: Buffer;
  offset: number;
  readLengthCodedNumber(): number | null;
  parseLengthCodedIntNoBigCheck(): number | null;
  parseLengthCodedInt(supportBigNumbers: boolean): number | null;
  parseLengthCodedFloat(): number | null;
  parseDate(timezone: unknown): Date | null;
  parseDateTime(timezone: unknown): Date | null;
}

/** The parts of mysql2's ColumnDefinition read here. */
interface Field {
  columnType: number;
  characterSet: number;
  encoding: string;
  extendedFormat?: string;
}

interface StringParser {
  SHORT_STRING_MAX_LENGTH: number;
  decode(buffer: Buffer, encoding: string, start: number, end: number): string;
  decodeShort(buffer: Buffer, encoding: string, start: number, end: number): string;
}

const Types = mysql2Internal<Record<string, number>>('lib/constants/types.js');
const { BINARY } = mysql2Internal<{ BINARY: number }>('lib/constants/charsets.js');
const strings = mysql2Internal<StringParser>('lib/parsers/string.js');

/** Which packet method reads a column, as mysql2's text parser chooses it. */
const Read = {
  /** `parseLengthCodedIntNoBigCheck()` */
  int: 0,
  /** `parseLengthCodedInt(false)` */
  longlong: 1,
  /** `parseLengthCodedFloat()` */
  float: 2,
  /** `readLengthCodedNumber()` (a NULL-typed column) */
  lengthCoded: 3,
  /** `parseDate(timezone)`, as its time value */
  date: 4,
  /** `parseDateTime(timezone)`, as its time value */
  dateTime: 5,
  /** `readLengthCodedString(encoding)` */
  text: 6,
} as const;
type Read = (typeof Read)[keyof typeof Read];

/** Encodings in which every ASCII byte is its own character. */
const ASCII_SAFE = new Set(['utf8', 'utf-8', 'latin1', 'ascii']);

/** The options of mysql2's text parser that decide how a value is read. */
export interface TextParserOptions {
  typeCast?: unknown;
  supportBigNumbers?: unknown;
  bigNumberStrings?: unknown;
  decimalNumbers?: unknown;
  dateStrings?: unknown;
  timezone?: unknown;
}

/** How mysql2's text parser reads `field`, when this parser can do the same. */
function readOf(field: Field, decimalNumbers: boolean): [Read, string] | undefined {
  if (field.extendedFormat === 'json') return undefined;
  switch (field.columnType) {
    case Types.TINY:
    case Types.SHORT:
    case Types.LONG:
    case Types.INT24:
    case Types.YEAR:
      return [Read.int, ''];
    case Types.LONGLONG:
      return [Read.longlong, ''];
    case Types.FLOAT:
    case Types.DOUBLE:
      return [Read.float, ''];
    case Types.NULL:
      return [Read.lengthCoded, ''];
    case Types.DECIMAL:
    case Types.NEWDECIMAL:
      return decimalNumbers ? [Read.float, ''] : [Read.text, 'ascii'];
    case Types.DATE:
      return [Read.date, ''];
    case Types.DATETIME:
    case Types.TIMESTAMP:
      return [Read.dateTime, ''];
    case Types.TIME:
      return [Read.text, 'ascii'];
    case Types.GEOMETRY:
    case Types.VECTOR:
    case Types.JSON:
      return undefined;
    default:
      if (field.characterSet === BINARY || !ASCII_SAFE.has(field.encoding)) return undefined;
      return [Read.text, field.encoding];
  }
}

/** `array` itself when it holds `length` values, else a copy of its first `length`. */
function cut<
  T extends Float64Array<ArrayBuffer> | Uint32Array<ArrayBuffer> | Uint8Array<ArrayBuffer>,
>(array: T, length: number): T {
  return array.length === length ? array : (array.slice(0, length) as T);
}

/** One column being filled: numbers (and time values), or text as bytes and decoded parts. */
class ColumnBuilder {
  values: Float64Array<ArrayBuffer> | undefined;
  nulls: Uint8Array<ArrayBuffer> | undefined;
  offsets: Uint32Array<ArrayBuffer> | undefined;
  /** Text: the ASCII bytes since the last decoded part. */
  bytes: Buffer | undefined;
  length = 0;
  parts: string[] = [];
  units = 0;

  constructor(
    readonly read: Read,
    readonly encoding: string,
    readonly rows: number,
  ) {
    this.reset();
  }

  reset(): void {
    this.nulls = undefined;
    this.parts = [];
    this.units = 0;
    this.length = 0;
    if (this.read === Read.text) {
      this.offsets = new Uint32Array(this.rows + 1);
      this.bytes ??= Buffer.allocUnsafe(16 * this.rows);
    } else {
      this.values = new Float64Array(this.rows);
    }
  }

  setNull(i: number): void {
    (this.nulls ??= new Uint8Array(this.rows))[i] = 1;
  }

  /** Appends bytes `[start, end)` of `buffer` as value `i`. */
  text(i: number, buffer: Buffer, start: number, end: number): void {
    let bytes = this.bytes!;
    const length = this.length;
    const len = end - start;
    if (length + len > bytes.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * bytes.length, length + len));
      bytes.copy(grown, 0, 0, length);
      this.bytes = bytes = grown;
    }
    let seen = 0;
    for (let k = 0; k < len; k++) {
      const b = buffer[start + k];
      seen |= b;
      bytes[length + k] = b;
    }
    if (seen < 0x80) {
      this.length = length + len;
      this.units += len;
    } else {
      // Decoded as mysql2 would, after the ASCII bytes before it.
      this.flushBytes();
      const value =
        len <= strings.SHORT_STRING_MAX_LENGTH
          ? strings.decodeShort(buffer, this.encoding, start, end)
          : strings.decode(buffer, this.encoding, start, end);
      this.parts.push(value);
      this.units += value.length;
    }
    this.offsets![i + 1] = this.units;
  }

  /** Value `i` is null (text keeps its offset). */
  nullText(i: number): void {
    this.setNull(i);
    this.offsets![i + 1] = this.units;
  }

  private flushBytes(): void {
    if (this.length === 0) return;
    this.parts.push(this.bytes!.toString('latin1', 0, this.length));
    this.length = 0;
  }

  /** The column of the first `n` values. */
  take(n: number): ColumnValues {
    // A full chunk hands its arrays over (reset() makes new ones); the last, shorter one is cut.
    const nulls = this.nulls === undefined ? undefined : cut(this.nulls, n);
    if (this.read === Read.text) {
      this.flushBytes();
      const text = this.parts.length === 1 ? this.parts[0] : this.parts.join('');
      const offsets = cut(this.offsets!, n + 1);
      return nulls === undefined
        ? { kind: 'text', text, offsets }
        : { kind: 'text', text, offsets, nulls };
    }
    const kind = this.read === Read.date || this.read === Read.dateTime ? 'date' : 'number';
    const values = cut(this.values!, n);
    return nulls === undefined ? { kind, values } : { kind, values, nulls };
  }
}

/**
 * Reads a text-protocol result's rows into packed columns, a chunk of `rows` rows at a time.
 * `of` returns undefined when a column or an option needs mysql2's own parser (a `typeCast`
 * function, `dateStrings`, big-number options, JSON, binary and geometry columns, other
 * encodings).
 *
 * @example
 * ```ts
 * const columns = ColumnarRows.of(fields, cmd.options, conn.config, 1024);
 * columns?.add(packet);
 * if (columns?.full) stream.pushColumns(columns.count, columns.take());
 * ```
 */
export class ColumnarRows {
  private n = 0;

  private constructor(
    private readonly builders: ColumnBuilder[],
    private readonly timezone: unknown,
    private readonly rows: number,
  ) {}

  static of(
    fields: readonly Field[],
    options: TextParserOptions,
    config: TextParserOptions,
    rows: number,
  ): ColumnarRows | undefined {
    // A config's typeCast function applies even where the query sets typeCast: true.
    const typeCast = options.typeCast ?? config.typeCast;
    if (
      typeCast === false ||
      typeof typeCast === 'function' ||
      typeof config.typeCast === 'function'
    )
      return undefined;
    if (options.dateStrings || config.dateStrings) return undefined;
    const bigNumbers =
      options.supportBigNumbers ||
      config.supportBigNumbers ||
      options.bigNumberStrings ||
      config.bigNumberStrings;
    if (bigNumbers) return undefined;
    const builders: ColumnBuilder[] = [];
    for (const field of fields) {
      const read = readOf(field, Boolean(config.decimalNumbers));
      if (read === undefined) return undefined;
      builders.push(new ColumnBuilder(read[0], read[1], rows));
    }
    return new ColumnarRows(builders, options.timezone || config.timezone, rows);
  }

  /** Rows read since the last `take()`. */
  get count(): number {
    return this.n;
  }

  /** A whole chunk is there. */
  get full(): boolean {
    return this.n === this.rows;
  }

  /** Reads one row packet. */
  add(packet: Packet): void {
    const i = this.n;
    const { builders, timezone } = this;
    for (let c = 0; c < builders.length; c++) {
      const col = builders[c];
      let v: number | null;
      switch (col.read) {
        case Read.int:
          v = packet.parseLengthCodedIntNoBigCheck();
          break;
        case Read.longlong:
          v = packet.parseLengthCodedInt(false);
          break;
        case Read.float:
          v = packet.parseLengthCodedFloat();
          break;
        case Read.lengthCoded:
          v = packet.readLengthCodedNumber();
          break;
        case Read.date:
          v = packet.parseDate(timezone)?.getTime() ?? null;
          break;
        case Read.dateTime:
          v = packet.parseDateTime(timezone)?.getTime() ?? null;
          break;
        case Read.text: {
          const len = packet.readLengthCodedNumber();
          if (len === null) col.nullText(i);
          else {
            const start = packet.offset;
            packet.offset += len;
            col.text(i, packet.buffer, start, start + len);
          }
          continue;
        }
      }
      if (v === null) col.setNull(i);
      else col.values![i] = v;
    }
    this.n = i + 1;
  }

  /** The columns of the rows read since the last `take()`; the next rows start a new chunk. */
  take(): ColumnValues[] {
    const n = this.n;
    const columns = this.builders.map((col) => col.take(n));
    for (const col of this.builders) col.reset();
    this.n = 0;
    return columns;
  }
}
