import { inspect, types } from 'node:util';
import type { Transferable } from 'node:worker_threads';
import { DataCloneError } from './errors.js';
import { decodeError, encodeError } from './error-codec.js';

// Structured clone turns a Buffer into a Uint8Array (and copies the whole 8 KiB pool of a small
// pooled Buffer), drops an error's class and own properties, and refuses functions. So values
// are walked once on each side: Buffers, errors, handles and registered classes travel as tagged
// plain objects, and everything else is left to structured clone.

/**
 * The key that marks a tagged value: a plain object with this key is decoded, not copied. A
 * user's object that has the key itself travels wrapped (tag 'O'), so it comes back as it was.
 *
 * @internal
 * @example
 * ```ts
 * if (key === TAG_KEY) return false; // a plain-value writer that cannot wrap it declines
 * ```
 */
export const TAG_KEY = '__unblock';
const TAG = TAG_KEY;

/**
 * How a class of values crosses a thread: adapters register one for each class of the driver
 * that users pass as arguments (for instance mysql2's `raw()` objects), on both sides.
 *
 * @example
 * ```ts
 * registerValueCodec<URL>({
 *   name: 'URL',
 *   is: (v): v is URL => v instanceof URL,
 *   encode: (url) => url.href,
 *   decode: (href) => new URL(href as string),
 * });
 * ```
 */
export interface ValueCodec<T> {
  /** A unique name; it travels with the value. */
  name: string;
  is(value: unknown): value is T;
  encode(value: T): unknown;
  decode(data: unknown): T;
}

const codecs = new Map<string, ValueCodec<unknown>>();

/**
 * Registers a {@link ValueCodec}. Call it in the caller's thread and in the worker module.
 *
 * @example
 * ```ts
 * registerValueCodec(myCodec);
 * ```
 */
export function registerValueCodec<T>(codec: ValueCodec<T>): void {
  codecs.set(codec.name, codec as ValueCodec<unknown>);
}

/** What encoding does with objects it meets that only one side knows about. */
export interface EncodeContext {
  /** Where transferable memory may be moved instead of copied (worker results). */
  transfer?: Transferable[];
  /** Turns an object the codec does not know into something cloneable, or returns undefined. */
  encodeObject?(value: object): unknown;
  /**
   * Copy, now, the memory its owner could still change: Buffers, typed arrays, DataViews,
   * ArrayBuffers and Dates. For a call's arguments, which are cloned when the call is sent (at
   * the end of the tick, or later when it waits for something), not when it is made.
   */
  snapshot?: boolean;
}

/** What decoding does with tagged values that only one side can rebuild. */
export interface DecodeContext {
  decodeTagged?(tag: string, data: Record<string, unknown>): unknown;
  /** Joined to the front of a decoded error's stack (the caller's call site). */
  callerStack?: () => string | undefined;
}

/**
 * Throws the {@link DataCloneError} (`UNBLOCK_ERR_DATA_CLONE`) that a call would reject with if
 * `value` were among its arguments; `path` names it in the message. For adapters that keep a
 * value to send later (a setting replayed to every connection a worker opens), so that it is
 * refused when given rather than by a later call. A RemoteHandle is refused here: it belongs to
 * a session, and only that session's calls carry it.
 *
 * @example
 * ```ts
 * assertSendable(options.start, 'options.start'); // throws for a class instance
 * ```
 */
export function assertSendable(value: unknown, path: string): void {
  encodeValue(value, {}, path);
}

/** Thrown inside the walk; the public entry turns it into a DataCloneError with a path. */
class Unsendable {
  constructor(
    readonly value: unknown,
    readonly what: string,
  ) {}
}

/**
 * Makes a value ready for `postMessage`: walks arrays and plain objects, tags Buffers, errors
 * and registered classes, and throws {@link DataCloneError} naming the path of a value that
 * cannot cross. The path is worked out only when something fails, so a walk over many values
 * builds no strings.
 *
 * @example
 * ```ts
 * port.postMessage(encodeValue([Buffer.from('a'), 1n], {}, 'args'));
 * ```
 */
export function encodeValue(value: unknown, ctx: EncodeContext, path: string): unknown {
  return encodeFrom(value, ctx, path, 0);
}

/**
 * Levels of arrays, objects, Maps, Sets and errors a value may nest. Structured clone recurses
 * on the stack of the thread that posts and of the thread that receives: a message some 3,000
 * levels deep overflowed it, in `postMessage` (a throw no caller could catch) or on receipt
 * (the message was dropped, and its calls never answered). Encoded values nest up to three
 * times deeper than the value (a Map's entry is a tag, an array and a pair).
 */
const MAX_DEPTH = 500;

/** Thrown inside the walk at MAX_DEPTH. */
const TOO_DEEP = Symbol('too deep');

/** {@link encodeValue} of a value found `depth` levels down (an error's cause). */
function encodeFrom(value: unknown, ctx: EncodeContext, path: string, depth: number): unknown {
  try {
    return encodeAny(value, ctx, depth);
  } catch (err) {
    // The walk keeps no record of what it saw: a cycle ends it at MAX_DEPTH (or, begun on a
    // stack already deep, with an overflow).
    if (
      err === TOO_DEEP ||
      (err instanceof RangeError && err.message === 'Maximum call stack size exceeded')
    )
      throw new DataCloneError(path, 'a cyclic or too deeply nested value');
    if (!(err instanceof Unsendable)) throw err;
    throw new DataCloneError(pathTo(value, err.value, path) ?? path, err.what);
  }
}

/** How a key is defined that cannot be assigned. */
const OWN_KEY = { writable: true, enumerable: true, configurable: true } as const;

function encodeAny(value: unknown, ctx: EncodeContext, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
    case 'undefined':
      return value;
    case 'function':
      throw new Unsendable(value, 'a function');
    case 'symbol':
      throw new Unsendable(value, 'a symbol');
  }
  if (value === null) return null;
  const obj = value as object;
  if (depth === MAX_DEPTH) throw TOO_DEEP;
  const down = depth + 1;
  if (Array.isArray(obj)) {
    const out = new Array<unknown>(obj.length);
    for (let i = 0; i < obj.length; i++) {
      const item = obj[i] as unknown;
      out[i] =
        typeof item === 'object' || typeof item === 'function' || typeof item === 'symbol'
          ? encodeAny(item, ctx, down)
          : item;
    }
    return out;
  }
  const proto = Object.getPrototypeOf(obj) as object | null;
  if (proto === Object.prototype || proto === null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(obj)) {
      const item = encodeAny((obj as Record<string, unknown>)[key], ctx, down);
      // Defined, not assigned: an own `__proto__` key (JSON.parse makes them) stays a key.
      if (key === '__proto__') Object.defineProperty(out, key, { value: item, ...OWN_KEY });
      else out[key] = item;
    }
    // Structured clone would give it Object.prototype (querystring.parse() results, and values
    // a driver treats apart from plain objects): tagged, and rebuilt without a prototype.
    if (proto === null) return { [TAG]: 'N', d: out };
    // Data that happens to have the tag's key: wrapped, so that it is not read as a tagged value.
    return Object.hasOwn(obj, TAG) ? { [TAG]: 'O', d: out } : out;
  }
  // A view, not only an object that inherits from a Buffer (better-sqlite3 makes a blob column
  // named `__proto__` its row's prototype).
  if (ArrayBuffer.isView(obj) && Buffer.isBuffer(obj)) {
    const bytes =
      ctx.snapshot === true && !types.isSharedArrayBuffer(obj.buffer)
        ? viewBytes(obj)
        : bufferBytes(obj, ctx.transfer);
    return { [TAG]: 'B', d: bytes };
  }
  if (types.isNativeError(obj) || obj instanceof Error) {
    return { [TAG]: 'E', e: encodeError(obj as Error, (v, p) => encodeFrom(v, ctx, p, down)) };
  }
  if (ArrayBuffer.isView(obj) || types.isDate(obj) || types.isArrayBuffer(obj))
    return ctx.snapshot === true ? copyOf(obj) : obj;
  // Shared on purpose: structured clone shares it with the other thread.
  if (types.isSharedArrayBuffer(obj)) return obj;
  if (types.isRegExp(obj)) return obj;
  // Walked like arrays, not left to structured clone: what they hold keeps its type (a Buffer
  // stays a Buffer), and a value that cannot cross is refused here, naming it, rather than by
  // postMessage, whose DataCloneError no caller could catch.
  if (obj instanceof Map) {
    const d = Array.from(obj, ([k, v]) => [encodeAny(k, ctx, down), encodeAny(v, ctx, down)]);
    return { [TAG]: 'M', d };
  }
  if (obj instanceof Set) return { [TAG]: 'S', d: Array.from(obj, (v) => encodeAny(v, ctx, down)) };
  for (const codec of codecs.values()) {
    if (codec.is(obj)) return { [TAG]: 'C', n: codec.name, d: codec.encode(obj) };
  }
  const custom = ctx.encodeObject?.(obj);
  if (custom !== undefined) return custom;
  throw new Unsendable(obj, `an instance of ${obj.constructor?.name ?? 'an unknown class'}`);
}

/** Where `target` sits inside `root`, as `args[0].fn`; undefined if it is not found. */
function pathTo(root: unknown, target: unknown, path: string): string | undefined {
  if (root === target) return path;
  if (typeof root !== 'object' || root === null) return undefined;
  if (Array.isArray(root)) {
    for (let i = 0; i < root.length; i++) {
      const found = pathTo(root[i], target, `${path}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (root instanceof Map || root instanceof Set) {
    let i = 0;
    for (const [key, item] of root.entries()) {
      const at = root instanceof Map ? `.get(${inspect(key)})` : `.values()[${i}]`;
      const found =
        pathTo(item, target, `${path}${at}`) ??
        (root instanceof Map ? pathTo(key, target, `${path}.keys()[${i}]`) : undefined);
      if (found !== undefined) return found;
      i++;
    }
    return undefined;
  }
  const proto = Object.getPrototypeOf(root) as object | null;
  if (proto !== Object.prototype && proto !== null) return undefined;
  for (const [key, item] of Object.entries(root)) {
    const found = pathTo(item, target, `${path}.${key}`);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * A copy of a view (see {@link copyView}), an ArrayBuffer or a Date. Shared memory is left
 * shared, as it is on purpose.
 */
function copyOf(value: ArrayBufferView | ArrayBuffer | Date): unknown {
  if (types.isDate(value)) return new Date(value.getTime());
  // A transferred (detached) buffer has no bytes, and copying one throws: it is sent empty.
  if (types.isArrayBuffer(value))
    return value.byteLength === 0 ? new ArrayBuffer(0) : value.slice(0);
  return copyView(value);
}

/**
 * A copy of exactly the bytes `view` shows (not the rest of its buffer), as the same kind of
 * view: a Buffer stays a Buffer, a DataView a DataView, a typed array is its base type (no
 * subclass constructor runs). A view of a transferred (detached) buffer shows no bytes: its
 * copy is empty. A view of shared memory is returned as it is, shared on purpose. For an
 * adapter that keeps values to send later (better-sqlite3's `bind()`).
 *
 * @example
 * ```ts
 * const kept = copyView(bytes); // later writes to `bytes` do not reach `kept`
 * ```
 */
export function copyView<T extends ArrayBufferView>(view: T): T {
  if (types.isSharedArrayBuffer(view.buffer)) return view;
  const bytes = viewBytes(view);
  if (Buffer.isBuffer(view)) return Buffer.from(bytes.buffer) as unknown as T;
  if (types.isDataView(view)) return new DataView(bytes.buffer) as unknown as T;
  const Base = (globalThis as Record<string, unknown>)[
    (view as unknown as Uint8Array)[Symbol.toStringTag]
  ] as new (buffer: ArrayBuffer) => T;
  return new Base(bytes.buffer);
}

/**
 * A copy of exactly the bytes a view shows. A view of a transferred (detached) buffer shows
 * none (better-sqlite3 binds it as an empty blob), though reading its offset can throw.
 */
function viewBytes(view: ArrayBufferView): Uint8Array<ArrayBuffer> {
  if (view.buffer.byteLength === 0) return new Uint8Array(0);
  return new Uint8Array(view.buffer, view.byteOffset, view.byteLength).slice();
}

/**
 * The bytes of a Buffer as a Uint8Array that clones without dragging extra memory along: a
 * Buffer that owns all of its ArrayBuffer is sent as is (moved when `transfer` is given, else
 * copied once by structured clone); a slice of a shared pool is copied to an exact-size array.
 */
function bufferBytes(buf: Buffer, transfer: Transferable[] | undefined): Uint8Array {
  const whole = buf.byteOffset === 0 && buf.byteLength === buf.buffer.byteLength;
  if (!whole) return new Uint8Array(buf);
  if (transfer !== undefined && buf.byteLength > 4096 && buf.buffer instanceof ArrayBuffer) {
    transfer.push(buf.buffer);
  }
  return buf;
}

/**
 * The inverse of {@link encodeValue}, run on the receiving side.
 *
 * @example
 * ```ts
 * port.on('message', (m) => console.log(decodeValue(m, {})));
 * ```
 */
export function decodeValue(value: unknown, ctx: DecodeContext): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item = value[i] as unknown;
      if (typeof item === 'object' && item !== null) value[i] = decodeValue(item, ctx);
    }
    return value;
  }
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto !== Object.prototype && proto !== null) return value;
  const rec = value as Record<string, unknown>;
  const tag = rec[TAG];
  if (typeof tag === 'string') return decodeTag(tag, rec, ctx);
  for (const key of Object.keys(rec)) {
    const item = rec[key];
    if (typeof item === 'object' && item !== null) rec[key] = decodeValue(item, ctx);
  }
  return rec;
}

function decodeTag(tag: string, rec: Record<string, unknown>, ctx: DecodeContext): unknown {
  switch (tag) {
    case 'B': {
      const bytes = rec.d as Uint8Array;
      return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    case 'E':
      return decodeError(rec.e, ctx.callerStack?.(), (v) =>
        decodeValue(v, { ...ctx, callerStack: undefined }),
      );
    case 'M':
      return new Map(
        (rec.d as [unknown, unknown][]).map(([k, v]) => [decodeValue(k, ctx), decodeValue(v, ctx)]),
      );
    case 'S':
      return new Set((rec.d as unknown[]).map((v) => decodeValue(v, ctx)));
    case 'O': {
      // A plain object with the tag's key of its own: its values are decoded, its keys kept.
      const data = rec.d as Record<string, unknown>;
      for (const key of Object.keys(data)) data[key] = decodeValue(data[key], ctx);
      return data;
    }
    case 'N': {
      // An object without a prototype: its keys as they were (`__proto__` among them).
      const data = rec.d as Record<string, unknown>;
      const out = Object.create(null) as Record<string, unknown>;
      for (const key of Object.keys(data)) out[key] = decodeValue(data[key], ctx);
      return out;
    }
    case 'C': {
      const codec = codecs.get(rec.n as string);
      if (codec === undefined) throw new TypeError(`No value codec named "${String(rec.n)}"`);
      return codec.decode(rec.d);
    }
    default: {
      const decoded = ctx.decodeTagged?.(tag, rec);
      if (decoded === undefined) throw new TypeError(`Unknown tagged value "${tag}"`);
      return decoded;
    }
  }
}

/**
 * Builds a tagged value for a tag that {@link DecodeContext.decodeTagged} understands.
 *
 * @example
 * ```ts
 * const wire = tagged('H', { id: 3 }); // { __unblock: 'H', id: 3 }
 * ```
 */
export function tagged(tag: string, fields: Record<string, unknown>): Record<string, unknown> {
  return { [TAG]: tag, ...fields };
}
