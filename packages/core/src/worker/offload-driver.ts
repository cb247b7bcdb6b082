// The driver behind offload(): the "connection" is the module itself, the one operation calls
// one of its exports, and class instances a call returns stay in this worker as handles.
import { createRequire, isBuiltin } from 'node:module';
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

/**
 * The `module.exports` of the module `specifier` names, when it is CommonJS (or builtin),
 * imported as `namespace`; else undefined. Its named exports are copies of `module.exports`'s
 * properties: its functions are called on `module.exports`, as `require(x).fn()` calls them, so
 * that one that keeps state on `this` sees it (on the namespace, its writes would be lost). An
 * ES module stays its namespace, even one whose default export is a CommonJS module's exports.
 */
function commonJsExports(
  specifier: string,
  namespace: Record<string, unknown>,
): object | undefined {
  const exports = namespace.default;
  if ((typeof exports !== 'object' && typeof exports !== 'function') || exports === null)
    return undefined;
  if (isBuiltin(specifier)) return exports;
  const url = import.meta.resolve(specifier);
  if (!url.startsWith('file:')) return undefined;
  return require.cache[fileURLToPath(url)]?.exports === exports ? exports : undefined;
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
    const namespace = (await import(specifier)) as Record<string, unknown>;
    return (commonJsExports(specifier, namespace) as Record<string, unknown>) ?? namespace;
  },
  operations: {
    call: async (mod, [name, args], ctx) => {
      // The module (an ES module's namespace, a CommonJS module's exports), or its default
      // export when the name is one of its members: called on it, as `mod.fn()` is, so a
      // function that uses `this` finds the rest of the module.
      const own = mod[name as string];
      const holder = own === undefined || own === null ? (mod.default as typeof mod) : mod;
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
