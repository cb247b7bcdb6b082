import type { PortableFunction } from '../portable-function.js';

type AnyFunction = (...args: unknown[]) => unknown;

/**
 * The function an object literal's only member holds, a method, a getter or a setter, read from
 * its descriptor (reading a getter's property would call it). Source text, not a function given
 * by name: a sent function that used a free variable of that name would find it.
 */
const MEMBER = `((o, d = Object.getOwnPropertyDescriptor(o, Reflect.ownKeys(o)[0])) =>
  d?.value ?? d?.get ?? d?.set)`;

function compile(source: string, name: string): AnyFunction {
  // Arrow functions and function expressions compile as an expression; a method written in
  // shorthand (`step(acc, x) { ... }`, `get x() { ... }`, `*rows() { ... }`) only inside an
  // object literal.
  for (const text of [`(${source})`, `${MEMBER}({ ${source} })`]) {
    try {
      const fn = new Function(`"use strict"; return ${text};`)() as unknown;
      if (typeof fn === 'function') return fn as AnyFunction;
    } catch (err) {
      // A computed method name (`[key](a) { ... }`) is evaluated here.
      throwIfClosureError(name, err);
      if (!(err instanceof SyntaxError)) throw err;
    }
  }
  throw new TypeError(`${name}: its source could not be compiled in the worker thread`);
}

/**
 * Throws, in place of `err`, the TypeError that names the variable a sent function took from
 * its closure, when `err` is V8's "x is not defined". A ReferenceError of another kind (one the
 * function throws itself) is left as it is, for the caller to get.
 */
function throwIfClosureError(name: string, err: unknown): void {
  if (!(err instanceof ReferenceError)) return;
  const variable = /^(\S+) is not defined$/.exec(err.message)?.[1];
  if (variable === undefined) return;
  throw new TypeError(
    `${name} uses ${variable} from its closure, which does not exist in the worker thread; make the function self-contained or pass { module, export }`,
    { cause: err },
  );
}

/**
 * Turns a {@link PortableFunction} back into a function inside a worker. A sent function that
 * reaches for a variable of its old closure throws a TypeError naming that variable.
 *
 * @example
 * ```ts
 * const add = await loadPortableFunction({ kind: 'source', source: '(a, b) => a + b', name: 'add' });
 * ```
 */
export async function loadPortableFunction(spec: PortableFunction): Promise<AnyFunction> {
  if (spec.kind === 'module') {
    const mod = (await import(spec.module)) as Record<string, unknown>;
    const fn = mod[spec.export];
    if (typeof fn !== 'function') {
      throw new TypeError(`${spec.module} has no function export "${spec.export}"`);
    }
    return fn as AnyFunction;
  }
  const fn = compile(spec.source, spec.name);
  const name = spec.name;
  return function portable(this: unknown, ...args: unknown[]): unknown {
    try {
      return fn.apply(this, args);
    } catch (err) {
      throwIfClosureError(name, err);
      throw err;
    }
  };
}
