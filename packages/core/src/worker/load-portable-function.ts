import type { PortableFunction } from '../portable-function.js';

type AnyFunction = (...args: unknown[]) => unknown;

function compile(source: string, name: string): AnyFunction {
  // Arrow functions, function expressions and classes compile as an expression; a method
  // written in shorthand (`step(acc, x) { ... }`) only inside an object literal.
  for (const text of [`(${source})`, `({ ${source} })[Object.keys({ ${source} })[0]]`]) {
    try {
      const fn = new Function(`"use strict"; return ${text};`)() as unknown;
      if (typeof fn === 'function') return fn as AnyFunction;
    } catch (err) {
      if (!(err instanceof SyntaxError)) throw err;
    }
  }
  throw new TypeError(`${name}: its source could not be compiled in the worker thread`);
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
      if (err instanceof ReferenceError) {
        const variable = /^(\S+) is not defined/.exec(err.message)?.[1] ?? 'a variable';
        throw new TypeError(
          `${name} uses ${variable} from its closure, which does not exist in the worker thread; make the function self-contained or pass { module, export }`,
          { cause: err },
        );
      }
      throw err;
    }
  };
}
