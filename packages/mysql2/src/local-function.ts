import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { PortableFunction } from '@unblock/core';

const require = createRequire(import.meta.url);

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

/** A module reference as core's toPortableFunction() gives it: the module's URL as a string. */
type ModuleSpec = Extract<PortableFunction, { kind: 'module' }>;

function invalid(message: string, cause?: unknown): TypeError {
  const err = new TypeError(message, cause === undefined ? undefined : { cause });
  return Object.assign(err, { code: 'UNBLOCK_ERR_INVALID_ARG' as const });
}

/**
 * A `{ module, export }` reference, as core's toPortableFunction() converted it, as a function
 * of the caller's thread, for what mysql2 calls synchronously there (`conn.format()` calls
 * `queryFormat`). The workers import the module with `import()`; here it has to be loaded in
 * the middle of a synchronous call, so it is `require()`d (Node >= 20.19 loads ES modules that
 * way too), on first use: a connection whose `format()` is never called does not load it on
 * this thread at all. A module that cannot be loaded synchronously (top-level await) or has no
 * such function export throws a TypeError with code `UNBLOCK_ERR_INVALID_ARG` from that call.
 *
 * @example
 * ```ts
 * const href = new URL('./format.js', import.meta.url).href;
 * const queryFormat = localFunction({ kind: 'module', module: href, export: 'colons' }, 'queryFormat');
 * queryFormat.call(conn, 'SELECT :id', { id: 1 });
 * ```
 */
export function localFunction(spec: ModuleSpec, name: string): AnyFunction {
  let fn: AnyFunction | undefined;
  return function local(this: unknown, ...args: unknown[]): unknown {
    fn ??= load(spec.module, spec.export, name);
    return fn.apply(this, args);
  };
}

function load(specifier: string, exportName: string, name: string): AnyFunction {
  let mod: Record<string, unknown>;
  try {
    const path = specifier.startsWith('file:') ? fileURLToPath(specifier) : specifier;
    mod = require(path) as Record<string, unknown>;
  } catch (err) {
    throw invalid(
      `${name}: ${specifier} cannot be loaded on the calling thread (${(err as Error).message.split('\n')[0]}); a module used there must load synchronously (no top-level await)`,
      err,
    );
  }
  const fn = mod[exportName];
  if (typeof fn !== 'function') {
    throw invalid(`${name}: ${specifier} has no function export "${exportName}"`);
  }
  return fn as AnyFunction;
}
