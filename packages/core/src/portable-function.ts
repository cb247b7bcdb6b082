import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * A function that lives in a module, named so that a worker can import it.
 *
 * @example
 * ```ts
 * const ref: FunctionReference = { module: new URL('./udfs.js', import.meta.url), export: 'slugify' };
 * ```
 */
export interface FunctionReference {
  module: string | URL;
  export: string;
}

/**
 * How a user function travels to a worker: a module to import, or its source text. Made with
 * {@link toPortableFunction} on the caller's side, turned back into a function with
 * `loadPortableFunction()` in the worker.
 *
 * @example
 * ```ts
 * // on the caller's thread
 * const spec: PortableFunction = toPortableFunction((a: number, b: number) => a + b, 'add');
 * await session.call('udf', ['add', spec]);
 * // in the worker, the driver's `udf` operation
 * udf: async (db, [name, spec]) =>
 *   void db.function(name as string, await loadPortableFunction(spec as PortableFunction)),
 * ```
 */
export type PortableFunction =
  | { kind: 'module'; module: string; export: string }
  | { kind: 'source'; source: string; name: string };

/**
 * A module specifier as a worker imports it: a URL as its href, and a relative path resolved
 * here, from the working directory, as `new Worker('./file.js')` resolves its own (imported
 * as it is, it would name a file beside core's worker module). Anything else as it is.
 *
 * @internal
 * @example
 * ```ts
 * workerSpecifier('./udfs.js'); // 'file:///app/udfs.js' when run from /app
 * ```
 */
export function workerSpecifier(specifier: string | URL): string {
  if (specifier instanceof URL) return specifier.href;
  return /^\.\.?[\\/]/.test(specifier) ? pathToFileURL(resolve(specifier)).href : specifier;
}

/**
 * Makes a user function (a UDF, a `typeCast`) sendable to workers. A module reference is
 * imported there (a relative path from the working directory); a function is sent as source,
 * so it must be self-contained: one that uses variables from its closure fails, when called,
 * with an error naming the variable. Arrow functions, function expressions, async functions,
 * generators and methods (an object's `f(a) { ... }`, a getter or setter taken from its
 * descriptor) can be sent; a class, a bound function or a native one throws a TypeError here.
 *
 * @example
 * ```ts
 * toPortableFunction((a: number, b: number) => a + b, 'add');
 * toPortableFunction({ module: new URL('./udfs.js', import.meta.url), export: 'add' }, 'add');
 * ```
 */
export function toPortableFunction(fn: unknown, name: string): PortableFunction {
  if (typeof fn === 'function') {
    const source = Function.prototype.toString.call(fn);
    if (/\{\s*\[native code\]\s*\}\s*$/.test(source)) {
      throw new TypeError(
        `${name}: a native or bound function cannot be sent to a worker thread; pass { module, export } instead`,
      );
    }
    // A class would arrive, and then fail at its first call: it cannot be called without
    // `new`. Its source text begins with the keyword, followed by a name or its body: a method
    // named `class` is followed by its parameters (and a frozen function, whose prototype is
    // read-only too, is no class).
    if (/^class(\s*\{|\s+[^\s(])/.test(source)) {
      throw new TypeError(`${name}: a class cannot be called as a function; pass a function`);
    }
    return { kind: 'source', source, name };
  }
  if (typeof fn === 'object' && fn !== null) {
    const ref = fn as Partial<FunctionReference>;
    const mod = ref.module;
    if ((typeof mod === 'string' || mod instanceof URL) && typeof ref.export === 'string') {
      return { kind: 'module', module: workerSpecifier(mod), export: ref.export };
    }
  }
  throw new TypeError(`${name} must be a function or a { module, export } reference`);
}
