// The driver behind offload(): the "connection" is the module itself, the one operation calls
// one of its exports, and class instances a call returns stay in this worker as handles.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { types } from 'node:util';
import { SAME_OBJECT } from '../same-object.js';
import { defineDriver, type OperationContext } from './driver.js';

const require = createRequire(import.meta.url);

function isInstance(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value) as object | null;
  if (proto === null || proto === Object.prototype || Array.isArray(value)) return false;
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value) || value instanceof ArrayBuffer)
    return false;
  if (types.isDate(value) || types.isRegExp(value) || value instanceof Error) return false;
  if (value instanceof Map || value instanceof Set) return false;
  return true;
}

/** A class instance stays here as a handle; anything else goes back as data. */
function keep(value: unknown, ctx: OperationContext): unknown {
  return isInstance(value)
    ? ctx.handle(value, 'instance', { className: value.constructor?.name })
    : value;
}

export default defineDriver({
  async open(options: { specifier: string }) {
    const { specifier } = options;
    if (specifier.endsWith('.node')) {
      // require() takes a path, not a URL (offload() turns a URL into its href).
      const path = specifier.startsWith('file:') ? fileURLToPath(specifier) : specifier;
      return require(path) as Record<string, unknown>;
    }
    return (await import(specifier)) as Record<string, unknown>;
  },
  operations: {
    call: async (mod, [name, args], ctx) => {
      // The module, or its default export when the name is one of its members: called on it,
      // as `mod.fn()` is, so a function that uses `this` finds the rest of the module. A
      // CommonJS module's named exports are copies of its `module.exports` properties, and its
      // default export is `module.exports` itself: a function of both is called on the latter,
      // as `require(x).fn()` calls it (on the namespace, its writes to `this` would be lost).
      const own = mod[name as string];
      const byDefault = mod.default as Record<string, unknown> | null | undefined;
      const holder =
        own === undefined || own === null || own === byDefault?.[name as string] ? byDefault : mod;
      const fn = holder?.[name as string];
      if (typeof fn !== 'function')
        throw new TypeError(`The module has no function export "${String(name)}"`);
      return keep(await (fn as (...a: unknown[]) => unknown).apply(holder, args as unknown[]), ctx);
    },
  },
  handles: {
    instance: {
      async invoke(object: Record<string, unknown>, method, args, ctx) {
        const fn = object[method];
        if (typeof fn !== 'function') throw new TypeError(`The object has no method "${method}"`);
        const result = await (fn as (...a: unknown[]) => unknown).apply(object, args);
        // Returned itself (for chaining): no second handle to the same object.
        return result === object ? SAME_OBJECT : keep(result, ctx);
      },
    },
  },
});
