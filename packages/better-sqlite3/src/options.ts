import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * Options of `new Database()`: the driver's own, plus a few that only make sense across threads.
 *
 * @example
 * ```ts
 * const db = new Database('app.db', { timeout: 2000, readers: 4, defaultQueryTimeout: 10_000 });
 * ```
 */
export interface DatabaseOptions {
  /** Open the database read-only. Default: false. */
  readonly?: boolean;
  /** Fail with `SQLITE_CANTOPEN` instead of creating a missing file. Default: false. */
  fileMustExist?: boolean;
  /** SQLite's busy timeout, in milliseconds. Default: 5000. */
  timeout?: number;
  /** Called (on the caller's thread) with the SQL of each statement run. */
  verbose?: ((message?: unknown, ...additional: unknown[]) => void) | null;
  /** Path of a better-sqlite3 addon file to load in the workers. */
  nativeBinding?: string | null;
  /** Reader connections for a file database in WAL mode (each on its own thread). Default: 2. */
  readers?: number;
  /** A timeout, in milliseconds, applied to every call. Default: none. */
  defaultQueryTimeout?: number;
  /**
   * Stop running statements with @unblock/sqlite-interrupt when a call is aborted. With false
   * (or when the addon is not built), an aborted running statement terminates its worker thread.
   * Default: true.
   */
  interrupt?: boolean;
  /**
   * Calls that may be in flight at once (core's `PoolOptions.maxQueue`); one more rejects with
   * `UNBLOCK_ERR_QUEUE_FULL`. Default: Infinity.
   */
  maxQueue?: number;
  /**
   * Warn (`UNBLOCK_WARN_LEAK`) about an iterator left open longer than this many milliseconds
   * (core's `PoolOptions.leakDetectionThreshold`). Default: 0 (off).
   */
  leakDetectionThreshold?: number;
  /**
   * How long `close()` lets calls in flight finish before rejecting them, in milliseconds
   * (core's `PoolOptions.closeTimeout`). Default: 5000.
   */
  closeTimeout?: number;
  /**
   * How much lower than the caller's thread the worker threads run, as a nice increment (core's
   * `PoolOptions.workerNice`; Linux): a busy worker then gives way to the event loop. 0 leaves
   * them alone. Default: 5.
   */
  workerNice?: number;
}

/** Options after validation. */
export interface ParsedOptions {
  filenameGiven: string;
  /** What the workers open: the trimmed filename, absolute unless anonymous or a URI. */
  filename: string;
  buffer: Buffer | undefined;
  anonymous: boolean;
  readonly: boolean;
  fileMustExist: boolean;
  timeout: number;
  verbose: ((message?: unknown, ...additional: unknown[]) => void) | undefined;
  nativeBinding: string | undefined;
  readers: number;
  defaultQueryTimeout: number | undefined;
  interrupt: boolean;
  /** Passed to core's pool as they are (core validates them). */
  pool: {
    maxQueue?: number;
    leakDetectionThreshold?: number;
    closeTimeout?: number;
    workerNice?: number;
  };
}

/**
 * @internal The boolean option `key` of `options`: false when absent, else it must be a boolean
 * (the driver's message otherwise).
 */
export function booleanOption(options: object, key: string): boolean {
  if (!(key in options)) return false;
  const value = (options as Record<string, unknown>)[key];
  if (typeof value !== 'boolean')
    throw new TypeError(`Expected the "${key}" option to be a boolean`);
  return value;
}

/** Validates `new Database()` arguments with the driver's checks and messages. */
export function parseDatabaseArguments(
  filenameGiven: unknown,
  optionsGiven: unknown,
): ParsedOptions {
  let buffer: Buffer | undefined;
  if (Buffer.isBuffer(filenameGiven)) {
    // The driver reads the Buffer in its constructor; the worker opens it later (and again
    // should it exit), so it opens a copy that later writes to the caller's Buffer cannot reach.
    buffer = Buffer.from(filenameGiven);
    filenameGiven = ':memory:';
  }
  if (filenameGiven == null) filenameGiven = '';
  if (optionsGiven == null) optionsGiven = {};
  if (typeof filenameGiven !== 'string')
    throw new TypeError('Expected first argument to be a string');
  if (typeof optionsGiven !== 'object')
    throw new TypeError('Expected second argument to be an options object');
  const options = optionsGiven as Record<string, unknown>;
  if ('readOnly' in options)
    throw new TypeError('Misspelled option "readOnly" should be "readonly"');
  if ('memory' in options) {
    throw new TypeError('Option "memory" was removed in v7.0.0 (use ":memory:" filename instead)');
  }
  const filename = filenameGiven.trim();
  const anonymous = filename === '' || filename === ':memory:';
  const readonly = booleanOption(options, 'readonly');
  const fileMustExist = booleanOption(options, 'fileMustExist');
  const timeout = 'timeout' in options ? options.timeout : 5000;
  const verbose = 'verbose' in options ? options.verbose : null;
  const nativeBinding = 'nativeBinding' in options ? options.nativeBinding : null;
  if (readonly && anonymous && !buffer)
    throw new TypeError('In-memory/temporary databases cannot be readonly');
  if (!Number.isInteger(timeout) || (timeout as number) < 0) {
    throw new TypeError('Expected the "timeout" option to be a positive integer');
  }
  if ((timeout as number) > 0x7fffffff)
    throw new RangeError('Option "timeout" cannot be greater than 2147483647');
  if (verbose != null && typeof verbose !== 'function') {
    throw new TypeError('Expected the "verbose" option to be a function');
  }
  if (nativeBinding != null && typeof nativeBinding !== 'string') {
    // What the driver refuses, refused with its message; an addon object, which the driver
    // takes, cannot be sent to a worker thread.
    throw new TypeError(
      typeof nativeBinding === 'object'
        ? 'Expected the "nativeBinding" option to be a string (an addon object cannot be sent to a worker thread)'
        : 'Expected the "nativeBinding" option to be a string or addon object',
    );
  }
  if (typeof nativeBinding === 'string') {
    // The driver requires the addon in its constructor: a path where there is none throws its
    // MODULE_NOT_FOUND error here, not once a worker loads it.
    require.resolve(resolve(nativeBinding).replace(/(\.node)?$/, '.node'));
  }
  const readers = options.readers ?? 2;
  if (!Number.isInteger(readers) || (readers as number) < 0 || (readers as number) > 64) {
    throw new TypeError('Expected the "readers" option to be an integer from 0 to 64');
  }
  const defaultQueryTimeout = options.defaultQueryTimeout;
  if (
    defaultQueryTimeout !== undefined &&
    (typeof defaultQueryTimeout !== 'number' ||
      !(defaultQueryTimeout >= 0) ||
      defaultQueryTimeout > 0x7fffffff)
  ) {
    throw new TypeError('Expected the "defaultQueryTimeout" option to be a number of milliseconds');
  }
  const interrupt = 'interrupt' in options ? booleanOption(options, 'interrupt') : true;
  if (!anonymous && !filename.startsWith('file:') && !existsSync(dirname(filename))) {
    throw new TypeError('Cannot open database because the directory does not exist');
  }
  // Passes the checks above, and the driver's addon refuses it (-0 is not an int32 there).
  if (Object.is(timeout, -0))
    throw new TypeError('Expected sixth argument to be a 32-bit signed integer');
  return {
    filenameGiven,
    // The driver opens the file here, relative to the working directory of now; the workers open
    // it later (the readers once in WAL mode, a writer again after its worker exited), when the
    // process may have changed directory. A URI is passed on as it is.
    filename: anonymous || filename.startsWith('file:') ? filename : resolve(filename),
    buffer,
    anonymous,
    readonly,
    fileMustExist,
    timeout: timeout as number,
    verbose: (verbose ?? undefined) as ParsedOptions['verbose'],
    // Resolved here too, as the driver resolves it in its constructor.
    nativeBinding: typeof nativeBinding === 'string' ? resolve(nativeBinding) : undefined,
    readers: readers as number,
    defaultQueryTimeout: defaultQueryTimeout as number | undefined,
    interrupt,
    pool: {
      maxQueue: options.maxQueue as number | undefined,
      leakDetectionThreshold: options.leakDetectionThreshold as number | undefined,
      closeTimeout: options.closeTimeout as number | undefined,
      workerNice: options.workerNice as number | undefined,
    },
  };
}
