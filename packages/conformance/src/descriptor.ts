import type { Client, Pool } from '@unblock/core';
import type { DialectSql } from './dialects.js';

/**
 * The SQL dialects the suite knows; an adapter picks the one its database speaks.
 *
 * @example
 * ```ts
 * const dialect: Dialect = 'sqlite'; // the descriptor's `dialect`: picks `dialects.sqlite`
 * ```
 */
export type Dialect = 'sqlite' | 'mysql';

/**
 * One optional capability: `true` when the adapter claims it, or an opt-out that says why.
 * Cases that need a capability the adapter opted out of are skipped, and the reason is shown.
 *
 * @example
 * ```ts
 * const named: Capability = { unsupported: 'mysql2 named placeholders are off in this client' };
 * ```
 */
export type Capability = true | { unsupported: string };

/**
 * Every optional capability the suite tests. Each must be stated: a claim or an opt-out with
 * a reason, so a skipped case always says why.
 *
 * @example
 * ```ts
 * const capabilities: Capabilities = {
 *   namedParameters: true, exactBigIntResults: true, strictParameterCount: true,
 *   serializedWrites: true, concurrentReaders: { unsupported: 'one in-memory connection' },
 *   cancelRunning: true, leakReports: true, crashRecovery: true,
 * };
 * ```
 */
export interface Capabilities {
  /** `:name` placeholders with an object of values. */
  namedParameters: Capability;
  /** Integers past 2^53 read back exactly, as a BigInt or a decimal string. */
  exactBigIntResults: Capability;
  /** Too many positional values reject (too few always must). */
  strictParameterCount: Capability;
  /** A write from outside an open transaction waits until it ends (one writer connection). */
  serializedWrites: Capability;
  /** A read from outside an open transaction answers while it is still open. */
  concurrentReaders: Capability;
  /** A running query can be stopped by an abort or a timeout (interrupt, cancel or terminate). */
  cancelRunning: Capability;
  /** `iterate()` holds a remote cursor handle: leaks of it are reported (needs `leaks`). */
  leakReports: Capability;
  /** A worker can be crashed on purpose (needs `crash`) and the client recovers. */
  crashRecovery: Capability;
}

/**
 * The name of one capability.
 *
 * @example
 * ```ts
 * const requires: CapabilityName[] = ['cancelRunning']; // a case's `requires`
 * ```
 */
export type CapabilityName = keyof Capabilities;

/**
 * Pool options some cases need; the adapter passes them on to `createPool`.
 *
 * @example
 * ```ts
 * open: (options) => createClient({ filename: ':memory:', maxQueue: options.maxQueue }),
 * ```
 */
export interface OpenOptions {
  /** `PoolOptions.maxQueue`. */
  maxQueue?: number;
  /** `PoolOptions.leakDetectionThreshold` (ms). */
  leakDetectionThreshold?: number;
  /** `PoolOptions.closeTimeout` (ms). */
  closeTimeout?: number;
}

/**
 * How the suite reaches an adapter: kysely's DIALECTS idea, one descriptor per configuration.
 *
 * @example
 * ```ts
 * import { createClient } from 'my-adapter';
 * export const descriptor: AdapterDescriptor = {
 *   name: 'my-adapter (memory)',
 *   dialect: 'sqlite',
 *   capabilities: { ... },
 *   available: () => true,
 *   open: (options) => createClient({ filename: ':memory:', ...options }),
 * };
 * ```
 */
export interface AdapterDescriptor {
  /** Shown in test titles and matched by the `ADAPTERS` filter. */
  name: string;
  dialect: Dialect;
  capabilities: Capabilities;
  /**
   * True when the adapter can run here, or the reason it cannot (a database that does not
   * answer, a package that is not built). Unavailable adapters are reported loudly; under
   * `CI=true` an unavailable adapter that is `required` fails the run.
   */
  available(): boolean | string | Promise<boolean | string>;
  /** Whether CI must have this adapter. Default: true. */
  required?: boolean;
  /**
   * A new client on an empty database, or one whose tables the suite does not know: every case
   * creates its own uniquely named tables.
   */
  open(options: OpenOptions): Client | Promise<Client>;
  /** Overrides of the dialect's SQL (for instance a slow query this adapter can interrupt). */
  sql?: Partial<DialectSql>;
  /** For `crashRecovery`: makes a worker of `client` die while it runs a call; returns that call. */
  crash?(client: Client): Promise<unknown>;
  /** For `leakReports`: the pool behind a client, and the handle kind of its cursors. */
  leaks?: { pool(client: Client): Pool; cursorKind: string };
}
