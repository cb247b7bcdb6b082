// A byte encoding for the small plain values most calls and answers are made of (numbers,
// strings, booleans, null, undefined, BigInts, and arrays and plain objects of them), written
// straight into shared memory. Structured clone through a MessagePort costs a few µs per
// message in fixed overhead and per nested object; this costs a few hundred ns for a call.
// Anything else (typed arrays, Dates, Maps, ...) is refused, and the value goes by the port.

const Tag = {
  undefined: 0,
  null: 1,
  true: 2,
  false: 3,
  int: 4,
  double: 5,
  string: 6,
  array: 7,
  object: 8,
  bigint: 9,
} as const;

/** The values that are their tag alone, indexed by it. */
const ONE_BYTE_VALUES = [undefined, null, true, false];

/** Longest string written here (code units); longer ones go by the port. */
const MAX_STRING = 4096;
/** Deepest nesting written here; deeper values go by the port. */
const MAX_DEPTH = 16;

/**
 * Writes and reads plain values in one region of a SharedArrayBuffer.
 *
 * @example
 * ```ts
 * const codec = new LaneCodec(new SharedArrayBuffer(4096), 0, 4096);
 * const length = codec.write([1, 'a', { b: null }]); // -1 if it does not fit or cannot be written
 * codec.read(length); // [1, 'a', { b: null }]
 * ```
 */
export class LaneCodec {
  private readonly view: DataView;
  private readonly units: Uint16Array;
  private pos = 0;

  constructor(
    buffer: SharedArrayBuffer,
    offset: number,
    private readonly capacity: number,
  ) {
    if (offset % 8 !== 0) throw new RangeError('a lane must start at a multiple of 8 bytes');
    this.view = new DataView(buffer, offset, capacity);
    this.units = new Uint16Array(buffer, offset, capacity >> 1);
  }

  /** Writes `value` from the start of the region; its length in bytes, or -1 if refused. */
  write(value: unknown): number {
    this.pos = 0;
    return this.put(value, 0) ? this.pos : -1;
  }

  /** Reads the value the last `write` on either side put there (`length` bytes). */
  read(length: number): unknown {
    this.pos = 0;
    const value = this.take();
    if (this.pos !== length) throw new RangeError('lane message length mismatch');
    return value;
  }

  private room(bytes: number): boolean {
    return this.pos + bytes <= this.capacity;
  }

  private put(value: unknown, depth: number): boolean {
    const { view } = this;
    switch (typeof value) {
      case 'number':
        if ((value | 0) === value && !Object.is(value, -0)) {
          if (!this.room(5)) return false;
          view.setUint8(this.pos, Tag.int);
          view.setInt32(this.pos + 1, value, true);
          this.pos += 5;
        } else {
          if (!this.room(9)) return false;
          view.setUint8(this.pos, Tag.double);
          view.setFloat64(this.pos + 1, value, true);
          this.pos += 9;
        }
        return true;
      case 'string':
        return this.putString(Tag.string, value);
      case 'boolean':
        return this.putTag(value ? Tag.true : Tag.false);
      case 'undefined':
        return this.putTag(Tag.undefined);
      case 'bigint':
        return this.putString(Tag.bigint, value.toString());
      case 'object':
        break;
      default:
        return false;
    }
    if (value === null) return this.putTag(Tag.null);
    if (depth === MAX_DEPTH) return false;
    if (Array.isArray(value)) {
      if (!this.room(5)) return false;
      view.setUint8(this.pos, Tag.array);
      view.setUint32(this.pos + 1, value.length, true);
      this.pos += 5;
      for (let i = 0; i < value.length; i++) {
        // A hole would come back as undefined: leave sparse arrays to structured clone.
        if (!(i in value) || !this.put(value[i], depth + 1)) return false;
      }
      return true;
    }
    const proto = Object.getPrototypeOf(value) as object | null;
    if (proto !== Object.prototype && proto !== null) return false;
    const keys = Object.keys(value);
    if (!this.room(5)) return false;
    view.setUint8(this.pos, Tag.object);
    view.setUint32(this.pos + 1, keys.length, true);
    this.pos += 5;
    for (const key of keys) {
      if (!this.putString(Tag.string, key)) return false;
      if (!this.put((value as Record<string, unknown>)[key], depth + 1)) return false;
    }
    return true;
  }

  private putTag(tag: number): boolean {
    if (!this.room(1)) return false;
    this.view.setUint8(this.pos++, tag);
    return true;
  }

  /** Tag, length (u32), padding to an even offset, then UTF-16 code units. */
  private putString(tag: number, text: string): boolean {
    const { length } = text;
    if (length > MAX_STRING) return false;
    const start = (this.pos + 6) & ~1;
    if (start + length * 2 > this.capacity) return false;
    this.view.setUint8(this.pos, tag);
    this.view.setUint32(this.pos + 1, length, true);
    const { units } = this;
    const first = start >> 1;
    for (let i = 0; i < length; i++) units[first + i] = text.charCodeAt(i);
    this.pos = start + length * 2;
    return true;
  }

  private take(): unknown {
    const { view } = this;
    const tag = view.getUint8(this.pos);
    switch (tag) {
      case Tag.int:
        this.pos += 5;
        return view.getInt32(this.pos - 4, true);
      case Tag.double:
        this.pos += 9;
        return view.getFloat64(this.pos - 8, true);
      case Tag.string:
        return this.takeString();
      case Tag.undefined:
      case Tag.null:
      case Tag.true:
      case Tag.false:
        this.pos++;
        return ONE_BYTE_VALUES[tag];
      case Tag.bigint:
        return BigInt(this.takeString());
      case Tag.array: {
        const length = view.getUint32(this.pos + 1, true);
        this.pos += 5;
        const out = new Array<unknown>(length);
        for (let i = 0; i < length; i++) out[i] = this.take();
        return out;
      }
      case Tag.object: {
        const count = view.getUint32(this.pos + 1, true);
        this.pos += 5;
        const out: Record<string, unknown> = {};
        for (let i = 0; i < count; i++) {
          const key = this.takeString();
          const item = this.take();
          // An own "__proto__" key stays a key, as structured clone keeps it.
          if (key === '__proto__') {
            Object.defineProperty(out, key, {
              value: item,
              enumerable: true,
              writable: true,
              configurable: true,
            });
          } else out[key] = item;
        }
        return out;
      }
      default:
        throw new RangeError(`unknown lane tag ${tag}`);
    }
  }

  private takeString(): string {
    const length = this.view.getUint32(this.pos + 1, true);
    const start = (this.pos + 6) & ~1;
    this.pos = start + length * 2;
    if (length === 0) return '';
    const first = start >> 1;
    return String.fromCharCode.apply(
      null,
      this.units.subarray(first, first + length) as unknown as number[],
    );
  }
}
