import { DataCloneError } from './errors.js';
import { createPool, type Pool, type PoolOptions } from './pool.js';
import { workerSpecifier } from './portable-function.js';
import { RemoteHandle } from './remote-handle.js';
import { SAME_OBJECT } from './same-object.js';
import { assertSendable } from './value-codec.js';

/** A function made asynchronous: same parameters, a Promise of the result. */
type AsyncFunction<F> = F extends (...args: infer A) => infer R
  ? (...args: A) => Promise<Remote<Awaited<R>>>
  : never;

/**
 * What a call returns: plain data as is; a class instance as a proxy of its methods.
 *
 * @example
 * ```ts
 * const crypto = offload<typeof import('node:crypto')>('node:crypto');
 * const hash = await crypto.createHash('sha256'); // Remote<Hash>: stays in the worker
 * await hash.update('hello', 'utf8'); // gives back `hash` itself, as Hash#update does
 * const hex = await hash.digest('hex'); // a string: plain data comes back as is
 * await hash[Symbol.asyncDispose]();
 * ```
 */
export type Remote<T> = T extends
  string | number | boolean | bigint | null | undefined | Buffer | Uint8Array | Date | unknown[]
  ? T
  : T extends object
    ? {
        [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: AsyncFunction<
          T[K]
        >;
      } & AsyncDisposable
    : T;

/**
 * The async twin of a module: each function export returns a Promise and runs in a worker.
 *
 * @example
 * ```ts
 * const zlib: Offloaded<typeof import('node:zlib')> = offload('node:zlib');
 * ```
 */
export type Offloaded<T> = {
  [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: AsyncFunction<T[K]>;
} & AsyncDisposable;

/**
 * Options of {@link offload}: the pool options, without the driver.
 *
 * @example
 * ```ts
 * const options: OffloadOptions = { threads: 2, maxQueue: 1000, name: 'zlib' };
 * const zlib = offload<typeof import('node:zlib')>('node:zlib', options);
 * ```
 */
export type OffloadOptions = Omit<PoolOptions, 'driver' | 'defaultOptions'>;

const offloadDriver = new URL('./worker/offload-driver.js', import.meta.url);
const pools = new WeakMap<object, Pool>();

/**
 * What the proxies of an offloaded module and of the objects it returns stand on. Not a plain
 * object, so that one given as an argument is refused, naming it, instead of crossing as `{}`:
 * its object stays in its worker.
 */
class OffloadedObject {}

/**
 * Names a proxy has no remote function for: `then` (a proxy is not a promise), and `toJSON`,
 * which `JSON.stringify` calls without awaiting: a remote call's rejection would go unhandled.
 */
function notRemote(key: string | symbol): boolean {
  return key === 'then' || key === 'toJSON' || typeof key === 'symbol';
}

function remoteProxy(handle: RemoteHandle): object {
  const proxy: object = new Proxy(new OffloadedObject(), {
    get(_target, key) {
      if (key === 'constructor') return OffloadedObject;
      if (key === Symbol.asyncDispose) return () => handle.close();
      if (notRemote(key)) return undefined;
      return (...args: unknown[]) =>
        handle
          .call(key as string, args)
          .then((value) => (value === SAME_OBJECT ? proxy : wrap(value)));
    },
  });
  return proxy;
}

function wrap(value: unknown): unknown {
  return value instanceof RemoteHandle ? remoteProxy(value) : value;
}

/**
 * gevent's greenify for Node: runs any blocking module in worker threads and returns a typed
 * async proxy of its exports. Functions become Promise-returning; a class instance that a call
 * returns stays in its worker, and you get a proxy whose methods are async too.
 *
 * `specifier` is resolved in the worker: a bare name, `node:` builtin, file URL, or a path to
 * a native addon (`.node`).
 *
 * @example
 * ```ts
 * import { offload } from '@unblock/core';
 * const zlib = offload<typeof import('node:zlib')>('node:zlib');
 * const packed = await zlib.gzipSync(Buffer.from('hello')); // the event loop stays free
 * await zlib[Symbol.asyncDispose]();
 * ```
 */
export function offload<T>(specifier: string | URL, options: OffloadOptions = {}): Offloaded<T> {
  if (typeof specifier !== 'string' && !(specifier instanceof URL)) {
    throw new TypeError('specifier must be a string or a URL');
  }
  const pool = createPool({
    ...options,
    driver: offloadDriver,
    defaultOptions: { specifier: workerSpecifier(specifier) },
  });
  const proxy = new Proxy(new OffloadedObject(), {
    get(_target, key) {
      if (key === 'constructor') return OffloadedObject;
      if (key === Symbol.asyncDispose) return () => pool.close();
      if (notRemote(key)) return undefined;
      return (...args: unknown[]) =>
        pool.run('call', [key, args]).then(wrap, (err: unknown) => {
          // An argument refused is named again as the caller wrote it (`args[0]`), not where
          // the call's message holds it (`args[1][0]`): on this path only, as walking the
          // arguments for it on every call would encode them twice.
          if (err instanceof DataCloneError)
            args.forEach((arg, i) => assertSendable(arg, `args[${i}]`));
          throw err;
        });
    },
  });
  pools.set(proxy, pool);
  return proxy as Offloaded<T>;
}

/**
 * The pool behind an offloaded module (for `stats()` or `close()`).
 *
 * @example
 * ```ts
 * console.log(poolOf(zlib).stats().completed);
 * ```
 */
export function poolOf(offloaded: object): Pool {
  const pool = pools.get(offloaded);
  if (pool === undefined) throw new TypeError('Not a module returned by offload()');
  return pool;
}
