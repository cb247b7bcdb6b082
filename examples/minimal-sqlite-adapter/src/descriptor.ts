import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AdapterDescriptor } from '@unblock/conformance';
import { createClient } from './index.js';

/**
 * How @unblock/conformance reaches this adapter: a new SQLite file per client, and
 * `unblock_sleep()`, the slow query the interrupt hook can stop.
 *
 * @example
 * ```ts
 * import { runConformanceSuite } from '@unblock/conformance';
 * runConformanceSuite(descriptor);
 * ```
 */
export const descriptor: AdapterDescriptor = {
  name: 'minimal-sqlite-adapter (example)',
  dialect: 'sqlite',
  capabilities: {
    namedParameters: true,
    exactBigIntResults: true,
    strictParameterCount: true,
    serializedWrites: true,
    concurrentReaders: {
      unsupported: 'one connection: reads from outside wait for the transaction',
    },
    cancelRunning: true,
    leakReports: true,
    crashRecovery: true,
  },
  available: () => true,
  open(options) {
    const dir = mkdtempSync(join(tmpdir(), 'unblock-example-'));
    const client = createClient({ filename: join(dir, 'db.sqlite'), ...options });
    const close = client.close;
    return Object.assign(client, {
      close: () => close().finally(() => rmSync(dir, { recursive: true, force: true })),
    });
  },
  sql: {
    // A pure-SQL loop cannot be interrupted without sqlite3_interrupt(); this JS function can.
    sleep: (ms) => `select unblock_sleep(${ms}) as n`,
  },
  crash: (client) => client.query('select unblock_crash()'),
  leaks: {
    pool: (client) => (client as ReturnType<typeof createClient>).pool,
    cursorKind: 'cursor',
  },
};
