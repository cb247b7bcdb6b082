import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

import type { SqliteInterrupt } from './sqlite-interrupt.js';

/** What `build/Release/sqlite_interrupt.node` exports (src/addon.cc). */
interface NativeBinding {
  interrupt(id: number): boolean;
  isRegistered(id: number): boolean;
  registeredCount(): number;
  loadedConnectionId(): number | undefined;
  entryPoint: string;
}

/** The outcome of one load attempt, kept for the life of the thread. */
type LoadResult = { ok: true; value: SqliteInterrupt } | { ok: false; error: Error };

/**
 * Loads one addon file at most once and remembers the outcome. Internal; tests use it directly.
 *
 * @example
 * ```ts
 * const loader: AddonLoader = createAddonLoader(path);
 * const sqliteInterrupt = loader.load() ?? console.warn(loader.error()?.message);
 * ```
 */
export interface AddonLoader {
  load(): SqliteInterrupt | undefined;
  error(): Error | undefined;
}

const require = createRequire(import.meta.url);

// Resolved from this file, so they hold for dist/ (what users run) and src/ alike.
const PACKAGE_DIR = fileURLToPath(new URL('..', import.meta.url));
const DEFAULT_ADDON_PATH = fileURLToPath(
  new URL('../build/Release/sqlite_interrupt.node', import.meta.url),
);

function isNativeBinding(value: unknown): value is NativeBinding {
  if (typeof value !== 'object' || value === null) return false;
  const binding = value as Record<string, unknown>;
  return (
    typeof binding.interrupt === 'function' &&
    typeof binding.isRegistered === 'function' &&
    typeof binding.registeredCount === 'function' &&
    typeof binding.loadedConnectionId === 'function' &&
    typeof binding.entryPoint === 'string'
  );
}

function open(addonPath: string): SqliteInterrupt {
  const binding: unknown = require(addonPath);
  if (!isNativeBinding(binding)) {
    throw new Error('the file is not the @unblock/sqlite-interrupt addon');
  }
  // The methods read their state from the Node environment, not from `this`, so they can be
  // handed out unbound.
  return Object.freeze({
    extensionPath: addonPath,
    entryPoint: binding.entryPoint,
    interrupt: binding.interrupt,
    isRegistered: binding.isRegistered,
    registeredCount: binding.registeredCount,
    loadedConnectionId: binding.loadedConnectionId,
  });
}

/**
 * A loader for the addon at `addonPath`. Not part of the public API: the package's own functions
 * use the built addon next to it; tests use this to point at a missing file.
 *
 * @example
 * ```ts
 * const loader = createAddonLoader('/nonexistent/sqlite_interrupt.node');
 * loader.load(); // undefined
 * loader.error()?.message; // '@unblock/sqlite-interrupt: native addon not loaded from ...'
 * ```
 */
export function createAddonLoader(addonPath: string): AddonLoader {
  let result: LoadResult | undefined;
  // The outcome is kept, failure included: a missing file will not appear by itself, and handing
  // back the same Error lets a caller warn once rather than on every call.
  const settle = (): LoadResult => {
    if (result === undefined) {
      try {
        result = { ok: true, value: open(addonPath) };
      } catch (cause) {
        const reason = cause instanceof Error ? cause.message : String(cause);
        result = {
          ok: false,
          error: new Error(
            `@unblock/sqlite-interrupt: native addon not loaded from ${addonPath} (${reason}); ` +
              'running SQLite statements cannot be interrupted. To build it, run `npx node-gyp rebuild` ' +
              `in ${PACKAGE_DIR} (needs Python 3, make and a C++17 compiler).`,
            { cause },
          ),
        };
      }
    }
    return result;
  };
  return {
    load: () => {
      const settled = settle();
      return settled.ok ? settled.value : undefined;
    },
    error: () => {
      const settled = settle();
      return settled.ok ? undefined : settled.error;
    },
  };
}

const defaultLoader = createAddonLoader(DEFAULT_ADDON_PATH);

/**
 * Loads the addon built with this package, or returns `undefined` when it is missing or cannot be
 * loaded (typically: no compiler where the package was installed). The first call decides; later
 * calls in the same thread return the same object. {@link sqliteInterruptLoadError} says why it
 * is missing.
 *
 * Safe to call in the main thread and in any number of workers at once.
 *
 * @example
 * ```ts
 * import Database from 'better-sqlite3';
 * import { CONNECTION_ID_SQL, loadSqliteInterrupt } from '@unblock/sqlite-interrupt';
 *
 * const sqliteInterrupt = loadSqliteInterrupt();
 * const db = new Database('app.db');
 * if (sqliteInterrupt) {
 *   db.loadExtension(sqliteInterrupt.extensionPath, sqliteInterrupt.entryPoint);
 *   const id = db.prepare(CONNECTION_ID_SQL).pluck().get() as number; // send to the main thread
 * }
 * ```
 */
export function loadSqliteInterrupt(): SqliteInterrupt | undefined {
  return defaultLoader.load();
}

/**
 * Why {@link loadSqliteInterrupt} returned `undefined`, or `undefined` when it loaded. The error
 * is created once, says where the addon was looked for and how to build it, and has the error
 * from `require()` as its `cause`, so a caller can print one clear warning.
 *
 * @example
 * ```ts
 * const sqliteInterrupt = loadSqliteInterrupt();
 * if (!sqliteInterrupt) {
 *   process.emitWarning(sqliteInterruptLoadError()!.message);
 * }
 * ```
 */
export function sqliteInterruptLoadError(): Error | undefined {
  return defaultLoader.error();
}
