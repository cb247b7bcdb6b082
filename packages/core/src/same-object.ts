import { registerValueCodec } from './value-codec.js';

// A method of an offloaded object that returns the object itself (a Hash's `update()` returns
// the Hash, for chaining) answers with a marker instead of a new handle to the same object, and
// the caller gives back the proxy it called: a new handle per call would each have to be closed.
// Registered wherever it is imported: offload() on the caller's side, its driver in workers.

/**
 * What a method that returned its own object answers with.
 *
 * @internal
 * @example
 * ```ts
 * if (result === object) return SAME_OBJECT; // in the worker; the caller gets its own proxy
 * ```
 */
export const SAME_OBJECT: object = Object.freeze(new (class SameObject {})());

registerValueCodec<object>({
  name: 'SameObject',
  // A class instance, so that it reaches the codecs (a plain object would be copied as data).
  is: (value): value is object => value === SAME_OBJECT,
  encode: () => null,
  decode: () => SAME_OBJECT,
});
