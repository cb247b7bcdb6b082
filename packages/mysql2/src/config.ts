import { toPortableFunction } from '@unblock/core';
import { localFunction } from './local-function.js';
import type { OpenOptions } from './wire.js';

import { mysql2, mysql2Internal } from './mysql2-internals.js';

/** mysql2's ConnectionConfig class: built locally so `connection.config` is mysql2's own object. */
export const ConnectionConfig = mysql2.ConnectionConfig as {
  new (options: unknown): MysqlConfig;
  parseUrl(url: string): Record<string, unknown>;
  /** The number of a charset or collation name; a TypeError for an unknown one. */
  getCharsetNumber(charset: string): number;
};

/** mysql2's PoolConfig: pool settings plus the connections' ConnectionConfig. */
export interface PoolConfig {
  connectionConfig: MysqlConfig;
  waitForConnections: boolean;
  connectionLimit: number;
  maxIdle: number;
  idleTimeout: number;
  queueLimit: number;
  resetOnRelease: boolean;
}

const PoolConfigClass = mysql2Internal<new (options: unknown) => PoolConfig>('lib/pool_config.js');

/** The parts of mysql2's ConnectionConfig read here (it has many more). */
export interface MysqlConfig {
  host: string;
  port: number;
  user: string | undefined;
  database: string | undefined;
  namedPlaceholders: boolean;
  trace: boolean;
  gracefulEnd: boolean;
  [key: string]: unknown;
}

/** Options of this package that mysql2 does not know; removed before mysql2 sees the options. */
const OWN_OPTIONS = ['workers', 'leakDetectionThreshold', 'closeTimeout', 'workerNice'] as const;
/** Pool options: the pool reads them, connections do not need them. */
export const POOL_OPTIONS = [
  'connectionLimit',
  'maxIdle',
  'idleTimeout',
  'queueLimit',
  'waitForConnections',
  'resetOnRelease',
] as const;
/** Functions or objects that only make sense on the caller's thread, and are ignored. */
const CALLER_ONLY = ['Promise', 'pool'] as const;
/** Function-valued options shipped as portable functions. */
const PORTABLE = ['typeCast', 'queryFormat'] as const;
/** Function or stream options that cannot work across a thread. */
const UNSUPPORTED = ['stream', 'authPlugins', 'authSwitchHandler', 'infileStreamFactory'] as const;

/**
 * mysql2's rule for a `uri` option: a key of the URI (of `keys`, when given) fills in only what
 * the options leave falsy.
 */
function fillFromUri(
  options: Record<string, unknown>,
  fromUri: Record<string, unknown>,
  keys: readonly string[] = Object.keys(fromUri),
): void {
  for (const key of keys) {
    if (Object.hasOwn(fromUri, key) && !options[key]) options[key] = fromUri[key];
  }
}

/** What the caller's side keeps and what goes to the worker. */
export interface SplitOptions {
  /**
   * The user's options, for pool settings and own options: a `uri` option's query string fills
   * in this package's own options only (mysql2's rule), nothing else.
   */
  user: Record<string, unknown>;
  /** mysql2's ConnectionConfig, built here exactly as mysql2 builds it. */
  config: MysqlConfig;
  /** mysql2's PoolConfig, for pools (its `connectionConfig` is `config`). */
  poolConfig: PoolConfig | undefined;
  /** What each worker connection is opened with. */
  open: OpenOptions;
}

/**
 * Normalises `createConnection`/`createPool` options: a URI string becomes mysql2's parsed
 * options, function options become portable functions, and options that cannot cross a thread
 * are refused with a TypeError naming them.
 */
export function splitOptions(input: unknown, forPool = false): SplitOptions {
  let user: Record<string, unknown>;
  if (typeof input === 'string') user = ConnectionConfig.parseUrl(input);
  else if (input === undefined || input === null) {
    // mysql2's own TypeError: its ConnectionConfig reads `options.isServer` first.
    throw new TypeError(`Cannot read properties of ${String(input)} (reading 'isServer')`);
  }
  // As mysql2 reads them: another primitive (a number, a boolean) has none of the options.
  else user = { ...(input as Record<string, unknown>) };
  // mysql2 takes an option it does not know with a console warning ("Ignoring invalid
  // configuration option passed to Connection") and ignores it. This one is createClient()'s (it
  // strips it): a pool or connection given it would seem to bound something and would not.
  if (user.maxQueue !== undefined) {
    throw new TypeError(
      'The option "maxQueue" is one of createClient(), not of a mysql2 pool or connection: a pool limits the calls waiting for a connection with queueLimit',
    );
  }
  const connection: Record<string, unknown> = { ...user };
  for (const key of CALLER_ONLY) delete connection[key];
  // What mysql2's ConnectionConfig is built from on this thread, where it warns of each key a
  // connection does not take. This package's own options are a pool's: createPool() reads them
  // and keeps them from mysql2. createConnection() has no use for them (its connections share
  // worker threads with default settings, and have no checkout or pool), so mysql2 sees them and
  // warns that it ignores them, as it warns of any such key: a workerNice or
  // leakDetectionThreshold given there is not dropped silently, and one options object can still
  // serve both (PoolOptions is a ConnectionOptions; mysql2 takes its own pool options there).
  const local: Record<string, unknown> = { ...connection };
  for (const key of OWN_OPTIONS) {
    delete connection[key];
    if (forPool) delete local[key];
  }
  for (const key of UNSUPPORTED) {
    if (connection[key] !== undefined) {
      throw new TypeError(
        `The option "${key}" cannot be used by @unblock/mysql2: mysql2 runs in a worker thread, where a function or stream from this thread cannot go`,
      );
    }
  }
  const open: OpenOptions = { config: {} };
  for (const key of PORTABLE) {
    const value = connection[key];
    if (typeof value === 'function' || (typeof value === 'object' && value !== null)) {
      const spec = toPortableFunction(value, key);
      open[key] = spec;
      delete connection[key];
      // mysql2 calls queryFormat on this thread too (conn.format()): a module reference becomes
      // a function here, which loads the module when it is first called.
      if (key === 'queryFormat' && spec.kind === 'module') local[key] = localFunction(spec, key);
    }
  }
  // mysql2 reads a `uri` option's query string as options: its ConnectionConfig copies each key
  // into the options object where that leaves it falsy, and its PoolConfig then reads the pool
  // options from that object. This package's own options are read from it by the same rule, so
  // that a `uri` option sets up a pool as the same URI given as a string does (and is checked
  // the same way, by the pool). A pool's mysql2 is given the URI expanded here, without them:
  // expanded by mysql2, they would be warned of as options a connection does not take.
  // (mysql2 takes any truthy `uri`: a URL object works, anything else throws its TypeError.)
  const fromUri = connection.uri ? ConnectionConfig.parseUrl(connection.uri as string) : undefined;
  if (fromUri !== undefined) {
    fillFromUri(user, fromUri, OWN_OPTIONS);
    if (forPool) {
      fillFromUri(local, fromUri);
      for (const key of OWN_OPTIONS) delete local[key];
      delete local.uri;
    }
    fillFromUri(connection, fromUri);
  }
  // ConnectionConfig expands `uri` into the object it is given: hand it a copy.
  const poolConfig = forPool ? new PoolConfigClass(local) : undefined;
  const config = poolConfig?.connectionConfig ?? new ConnectionConfig(local);
  const wire: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(connection)) {
    if ((POOL_OPTIONS as readonly string[]).includes(key) || key === 'uri') continue;
    if ((OWN_OPTIONS as readonly string[]).includes(key)) continue;
    wire[key] = value;
  }
  open.config = wire;
  return { user, config, poolConfig, open };
}
