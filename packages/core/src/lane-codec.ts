// A byte encoding for the small plain values most calls and answers are made of (numbers,
// strings, booleans, null, undefined, BigInts, and arrays and plain objects of them), written
// straight into shared memory. Structured clone through a MessagePort costs a few µs per
// message in fixed overhead and per nested object; this costs a few hundred ns for a call.
// Anything else (typed arrays, Dates, Maps, ...) is refused, and the value goes by the port.
import { TAG_KEY } from './value-codec.js';

const Tag = {
  undefined: 0,
  null: 1,
  true: 2,
  false: 3,
  int: 4,
  double: 5,
  /** UTF-16 code units, for strings with a unit above 0xff. */
  string: 6,
  array: 7,
  object: 8,
  /** Its digits follow, as a one-byte string (Tag.latin1, length, digits). */
  bigint: 9,
  /** One byte per code unit: most strings, written and read at half the cost. */
  latin1: 10,
} as const;

/** The values that are their tag alone, indexed by it. */
const ONE_BYTE_VALUES = [undefined, null, true, false];

/** Longest string written here (code units); longer ones go by the port. */
const MAX_STRING = 4096;
/** Deepest nesting written here; deeper values go by the port. */
const MAX_DEPTH = 16;
/**
 * One-byte strings up to this long are looked up among those read before: object keys, SQL
 * text and other repeated strings then cost a comparison instead of a new string, and keys
 * that V8 has already internalized make faster property stores (reading a 5-column row:
 * ~0.9 -> ~0.3 µs here).
 */
const CACHED_STRING = 64;
/** Slots of that cache (a power of two); a string hashes to one, and replaces what was there. */
const CACHE_SLOTS = 256;

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
  private readonly bytes: Uint8Array;
  private readonly units: Uint16Array;
  /** The same memory, for Buffer's native string decoding. */
  private readonly text: Buffer;
  private readonly strings = new Array<string | undefined>(CACHE_SLOTS).fill(undefined);
  private pos = 0;
  private rawData = false;

  constructor(
    buffer: SharedArrayBuffer,
    offset: number,
    private readonly capacity: number,
  ) {
    if (offset % 8 !== 0) throw new RangeError('a lane must start at a multiple of 8 bytes');
    this.view = new DataView(buffer, offset, capacity);
    this.bytes = new Uint8Array(buffer, offset, capacity);
    this.units = new Uint16Array(buffer, offset, capacity >> 1);
    this.text = Buffer.from(buffer, offset, capacity);
  }

  /**
   * Writes `value` from the start of the region; its length in bytes, or -1 if refused.
   * `rawData`: `value` holds a user's values as they are, not encoded (see put).
   */
  write(value: unknown, rawData = false): number {
    this.pos = 0;
    this.rawData = rawData;
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
        return this.putString(value);
      case 'boolean':
        return this.putTag(value ? Tag.true : Tag.false);
      case 'undefined':
        return this.putTag(Tag.undefined);
      case 'bigint':
        return this.putTag(Tag.bigint) && this.putString(value.toString());
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
    // An object without a prototype would be read back with one: it goes by port, where
    // encoding tags it (encoded values hold none).
    if (Object.getPrototypeOf(value) !== Object.prototype) return false;
    const keys = Object.keys(value);
    if (!this.room(5)) return false;
    view.setUint8(this.pos, Tag.object);
    view.setUint32(this.pos + 1, keys.length, true);
    this.pos += 5;
    for (const key of keys) {
      // A user's object with the tag's key, not encoded, would be read back as a tagged
      // value: it goes by port, where encoding wraps it. Encoded values (a call's arguments,
      // core's tagged values) may pass.
      if ((this.rawData && key === TAG_KEY) || !this.putString(key)) return false;
      if (!this.put((value as Record<string, unknown>)[key], depth + 1)) return false;
    }
    return true;
  }

  private putTag(tag: number): boolean {
    if (!this.room(1)) return false;
    this.view.setUint8(this.pos++, tag);
    return true;
  }

  /**
   * Tag and length (u32), then one byte per code unit when every unit fits in one (Tag.latin1),
   * else padding to an even offset and UTF-16 code units (Tag.string).
   */
  private putString(text: string): boolean {
    const { length } = text;
    if (length > MAX_STRING) return false;
    const { bytes, pos } = this;
    let start = pos + 5;
    if (start + length <= this.capacity) {
      let i = 0;
      while (i < length) {
        const unit = text.charCodeAt(i);
        if (unit > 0xff) break;
        bytes[start + i++] = unit;
      }
      if (i === length) {
        bytes[pos] = Tag.latin1;
        this.view.setUint32(pos + 1, length, true);
        this.pos = start + length;
        return true;
      }
    }
    start = (pos + 6) & ~1;
    if (start + length * 2 > this.capacity) return false;
    bytes[pos] = Tag.string;
    this.view.setUint32(pos + 1, length, true);
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
      case Tag.latin1:
        return this.takeString();
      case Tag.undefined:
      case Tag.null:
      case Tag.true:
      case Tag.false:
        this.pos++;
        return ONE_BYTE_VALUES[tag];
      case Tag.bigint: {
        // Digits are read past the string cache: they seldom repeat, and would push out the keys
        // and SQL text it is for.
        const length = view.getUint32(this.pos + 2, true);
        const start = this.pos + 6;
        this.pos = start + length;
        return BigInt(this.text.toString('latin1', start, this.pos));
      }
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
    const { bytes, pos } = this;
    const length = this.view.getUint32(pos + 1, true);
    if (bytes[pos] === Tag.string) {
      const start = (pos + 6) & ~1;
      this.pos = start + length * 2;
      return this.text.toString('utf16le', start, this.pos);
    }
    const start = pos + 5;
    this.pos = start + length;
    if (length === 0) return '';
    if (length > CACHED_STRING) return this.text.toString('latin1', start, this.pos);
    const slot =
      (length * 131 + bytes[start] * 31 + bytes[start + (length >> 1)] * 7 + bytes[this.pos - 1]) &
      (CACHE_SLOTS - 1);
    const cached = this.strings[slot];
    if (cached !== undefined && cached.length === length) {
      let i = 0;
      while (i < length && cached.charCodeAt(i) === bytes[start + i]) i++;
      if (i === length) return cached;
    }
    const text = this.text.toString('latin1', start, this.pos);
    this.strings[slot] = text;
    return text;
  }
}
