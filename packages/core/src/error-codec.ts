import { types } from 'node:util';
import { AbortError } from './abort-error.js';
import { DataCloneError, unblockErrorClasses } from './errors.js';
import { trimInternalFrames } from './internal-frames.js';
import { trySetStackTraceLimit } from './stack-trace-limit.js';

// Structured clone keeps neither an error's class nor its own properties (`code`, `errno`, ...),
// so errors travel as plain records and are rebuilt in their own class on the other side.

type ErrorClass = abstract new (...args: never[]) => Error;

const errorClasses = new Map<string, ErrorClass>();
for (const cls of [
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  AggregateError,
  AbortError,
  DOMException,
  ...Object.values(unblockErrorClasses),
]) {
  errorClasses.set(cls.name, cls);
}

/**
 * Registers a driver's error class so that errors of that class thrown in a worker are rebuilt
 * as instances of it (with `instanceof` working) in the caller's thread. Register it on both
 * sides, under the same name.
 *
 * @example
 * ```ts
 * import Database from 'better-sqlite3';
 * registerErrorClass(Database.SqliteError, 'SqliteError');
 * ```
 */
export function registerErrorClass(cls: ErrorClass, name: string = cls.name): void {
  errorClasses.set(name, cls);
}

/** The wire form of an error. */
export interface SerializedError {
  cls: string;
  name: string;
  message: string;
  stack: string | undefined;
  props: Record<string, unknown>;
  cause?: unknown;
  /** An AggregateError's `errors`. */
  errors?: unknown;
  /**
   * Whether it was a native error (made by a built-in error constructor, a class extending one
   * included), which `util.types.isNativeError()` and `Object.prototype.toString` tell apart
   * from an object that only inherits from `Error.prototype` (better-sqlite3's SqliteError).
   */
  native: boolean;
}

function classNameOf(err: Error): string {
  let proto = Object.getPrototypeOf(err) as { constructor?: ErrorClass } | null;
  while (proto !== null) {
    const name = proto.constructor?.name;
    if (name !== undefined && errorClasses.get(name) === proto.constructor) return name;
    proto = Object.getPrototypeOf(proto) as { constructor?: ErrorClass } | null;
  }
  return 'Error';
}

/**
 * A property of a thrown object: its getter, or a Proxy's trap, may throw, and the error the
 * caller is owed is the one thrown, not the getter's. Undefined then.
 */
function read(err: Error, key: string): unknown {
  try {
    return (err as unknown as Record<string, unknown>)[key];
  } catch {
    return undefined;
  }
}

/**
 * A message or a name as it can cross: a primitive as it is; anything else (a function, a
 * symbol, an object) as the text a stack would print for it, since structured clone would
 * refuse it (and the worker could not answer at all) or drop its class.
 */
function cloneableText(value: unknown): unknown {
  const t = typeof value;
  if (value === null || (t !== 'object' && t !== 'function' && t !== 'symbol')) return value;
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/**
 * The errors being encoded, outermost first: one met again inside itself (a `cause` or an
 * AggregateError's `errors` that leads back to it) is a cycle, cut there as a value that cannot
 * cross. Walked until the stack overflowed instead, it made a record so deeply nested that the
 * receiving thread could not deserialize it: the message was dropped, and its calls never
 * settled (or the worker died).
 */
const encoding = new Set<Error>();

/**
 * Turns an error into a cloneable record: class name, name, message, stack, own primitive
 * properties (`code`, `errno`, `sqlState`, `fatal`, ...), cause, and an AggregateError's errors.
 *
 * @example
 * ```ts
 * port.postMessage(encodeError(err, (v) => v));
 * ```
 */
export function encodeError(
  err: Error,
  encodeNested: (value: unknown, path: string) => unknown,
): SerializedError {
  if (encoding.has(err)) throw new DataCloneError('cause', 'a cycle back to an error being sent');
  encoding.add(err);
  try {
    return encodeErrorOnce(err, encodeNested);
  } finally {
    encoding.delete(err);
  }
}

function encodeErrorOnce(
  err: Error,
  encodeNested: (value: unknown, path: string) => unknown,
): SerializedError {
  const props: Record<string, unknown> = {};
  for (const key of Object.keys(err)) {
    let v: unknown;
    try {
      v = (err as unknown as Record<string, unknown>)[key];
    } catch {
      continue; // A getter that throws: left out, as `read` explains.
    }
    const t = typeof v;
    if (v === null || t === 'string' || t === 'number' || t === 'boolean' || t === 'bigint') {
      props[key] = v;
    } else if (t === 'undefined') {
      props[key] = undefined;
    }
  }
  const stack = read(err, 'stack');
  const out: SerializedError = {
    cls: classNameOf(err),
    name: cloneableText(read(err, 'name')) as string,
    message: cloneableText(read(err, 'message')) as string,
    stack: typeof stack === 'string' ? stack : undefined,
    props,
    native: types.isNativeError(err),
  };
  const cause = read(err, 'cause');
  if (cause !== undefined) {
    try {
      out.cause = encodeNested(cause, 'cause');
    } catch {
      out.cause = cloneableText(cause);
    }
  }
  // Not enumerable, so not among the props: the errors an AggregateError gathers.
  const errors = err instanceof AggregateError ? read(err, 'errors') : undefined;
  // Each on its own: one that cannot cross (one that leads back here) leaves the others whole.
  if (Array.isArray(errors)) {
    out.errors = errors.map((item: unknown, i) => {
      try {
        return encodeNested(item, `errors[${i}]`);
      } catch {
        return cloneableText(item);
      }
    });
  }
  return out;
}

/** Frames of a stack, without its first "Name: message" line(s). */
function framesOf(stack: string | undefined): string {
  if (stack === undefined) return '';
  const at = stack.indexOf('\n    at ');
  return at === -1 ? '' : stack.slice(at + 1);
}

/** Frames of a caller's stack, from the user's call on (see hideInternalFrames). */
function callerFramesOf(stack: string | undefined): string {
  return framesOf(stack === undefined ? undefined : trimInternalFrames(stack));
}

/** The line of a rebuilt error's stack after which the worker thread's frames follow. */
const WORKER_FRAMES = '    at <worker thread>';

/** A stack as errors from workers read: header, the caller's frames, the worker's frames. */
function composeStack(header: string, callerFrames: string, workerFrames: string): string {
  return [header, callerFrames, workerFrames ? `${WORKER_FRAMES}\n${workerFrames}` : '']
    .filter((s) => s !== '')
    .join('\n');
}

/**
 * Gives `err` the frames of `callerStack`, a stack captured earlier where a call was made, for
 * an adapter that rejects after the call site's frames are gone (after waiting for a pooled
 * connection, say): its stack becomes its header, those frames, then the worker thread's frames
 * when it came from one, as the errors of a call that was sent at once read. An error that is
 * not an Error, or no frames, leave it as it is. Returns `err`.
 *
 * @example
 * ```ts
 * const caller: { stack?: string } = {};
 * Error.captureStackTrace(caller, query);
 * await waitForConnection().then(send).catch((err) => { throw withCallerStack(err, caller.stack); });
 * ```
 */
export function withCallerStack(err: unknown, callerStack: string | undefined): unknown {
  const frames = callerFramesOf(callerStack);
  if (frames === '' || !(err instanceof Error)) return err;
  const own = typeof err.stack === 'string' ? err.stack : '';
  const at = own.indexOf(`\n${WORKER_FRAMES}\n`);
  const worker = at === -1 ? '' : own.slice(at + WORKER_FRAMES.length + 2);
  try {
    err.stack = composeStack(`${err.name}: ${err.message}`, frames, worker);
  } catch {
    // A frozen or accessor-only stack stays as it is.
  }
  return err;
}

/**
 * A native error (as `util.types.isNativeError()` sees it) of class `cls`, with no message and
 * no stack of its own yet; `cls`'s constructor does not run (it may want arguments).
 */
function nativeInstanceOf(cls: ErrorClass): Error {
  // Its own stack would be thrown away (the rebuilt one is set below): none is captured.
  const limit = Error.stackTraceLimit;
  const set = trySetStackTraceLimit(0);
  try {
    return Reflect.construct(Error, [], cls) as Error;
  } finally {
    if (set) Error.stackTraceLimit = limit;
  }
}

/**
 * Rebuilds an error encoded by {@link encodeError} in its own class. The stack shows the
 * caller's call site first, then the frames of the worker thread.
 *
 * @example
 * ```ts
 * const err = decodeError(record, new Error().stack, (v) => v);
 * ```
 */
export function decodeError(
  data: unknown,
  callerStack: string | undefined,
  decodeNested: (value: unknown) => unknown,
): Error {
  const rec = data as SerializedError;
  const cls = errorClasses.get(rec.cls) ?? Error;
  // A DOMException (an AbortError or TimeoutError of Node's, a DataCloneError) keeps its name,
  // message and `code` where only its constructor can put them: its getters throw on any other
  // object.
  const err =
    cls === DOMException
      ? new DOMException(String(rec.message), String(rec.name))
      : rec.native
        ? nativeInstanceOf(cls)
        : (Object.create(cls.prototype) as Error);
  Object.defineProperty(err, 'message', {
    value: rec.message,
    writable: true,
    configurable: true,
    enumerable: false,
  });
  // An own `name` (`this.name = ...` in a constructor) is among the props, enumerable as it was.
  if (rec.name !== err.name && !Object.hasOwn(rec.props, 'name')) {
    Object.defineProperty(err, 'name', { value: rec.name, writable: true, configurable: true });
  }
  const stack = composeStack(
    `${rec.name}: ${rec.message}`,
    callerFramesOf(callerStack),
    framesOf(rec.stack),
  );
  Object.defineProperty(err, 'stack', {
    value: stack,
    writable: true,
    configurable: true,
    enumerable: false,
  });
  // Defined, not assigned: own data properties as they were, even where the class has an
  // accessor or a read-only property of that name (assigning would throw).
  for (const [key, value] of Object.entries(rec.props)) {
    Object.defineProperty(err, key, {
      value,
      writable: true,
      enumerable: true,
      configurable: true,
    });
  }
  for (const key of ['cause', 'errors'] as const) {
    if (!(key in rec)) continue;
    Object.defineProperty(err, key, {
      value: decodeNested(rec[key]),
      writable: true,
      configurable: true,
      enumerable: false,
    });
  }
  return err;
}
