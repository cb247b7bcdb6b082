import type { Client } from '@unblock/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CaseContext, ColumnSpec, ConformanceCase } from './case.js';
import { conformanceCases } from './case-table.js';
import type { AdapterDescriptor, Capability, CapabilityName, OpenOptions } from './descriptor.js';
import { dialects, type DialectSql } from './dialects.js';
import { selectAdapters } from './select-adapters.js';

/**
 * Options of {@link runConformanceSuite}.
 *
 * @example
 * ```ts
 * runConformanceSuite(descriptor, { only: ['values.', 'errors.'] });
 * ```
 */
export interface SuiteOptions {
  /** Run only the cases whose id starts with one of these prefixes. Default: every case. */
  only?: readonly string[];
  /** The cases to run. Default: the whole suite. */
  cases?: readonly ConformanceCase[];
  /** Overrides `process.env.ADAPTERS` (pass `''` when the list was filtered already). */
  filter?: string;
  /** Overrides `process.env.CI === 'true'`: an unavailable required adapter fails instead of skipping. */
  ci?: boolean;
}

function optedOut(capability: Capability): string | undefined {
  return capability === true ? undefined : capability.unsupported;
}

function missingCapabilities(
  adapter: AdapterDescriptor,
  requires: readonly CapabilityName[] = [],
): string | undefined {
  const reasons: string[] = [];
  for (const name of requires) {
    const cap = adapter.capabilities[name] as Capability | undefined;
    if (cap === undefined) reasons.push(`${name}: not stated by the descriptor`);
    else {
      const why = optedOut(cap);
      if (why !== undefined) reasons.push(`${name}: ${why}`);
    }
  }
  return reasons.length > 0 ? reasons.join('; ') : undefined;
}

let tableCounter = 0;

/**
 * Registers the conformance suite with vitest for one or more adapters: one `describe` per
 * adapter, one test per case, each titled with the case id. Call it at the top level of a
 * vitest test file.
 *
 * @example
 * ```ts
 * // test/conformance.test.ts of your adapter
 * import { runConformanceSuite } from '@unblock/conformance';
 * import { descriptor } from './descriptor.js';
 * runConformanceSuite(descriptor);
 * ```
 */
export function runConformanceSuite(
  adapters: AdapterDescriptor | readonly AdapterDescriptor[],
  options: SuiteOptions = {},
): void {
  const given = Array.isArray(adapters) ? adapters : [adapters as AdapterDescriptor];
  const list =
    given.length === 0 ? [] : selectAdapters(given, options.filter ?? process.env.ADAPTERS);
  const ci = options.ci ?? process.env.CI === 'true';
  const cases = (options.cases ?? conformanceCases).filter(
    (c) => options.only === undefined || options.only.some((prefix) => c.id.startsWith(prefix)),
  );
  if (list.length === 0) {
    // A file whose adapters were all filtered out still registers a test, so vitest does not
    // fail it for being empty, and the skip says why.
    it.skip(`no adapter selected (ADAPTERS=${options.filter ?? process.env.ADAPTERS ?? ''})`, () =>
      undefined);
    return;
  }
  describe.each(list)('$name', (adapter: AdapterDescriptor) => {
    const sql: DialectSql = { ...dialects[adapter.dialect], ...adapter.sql };
    let unavailable: string | undefined;
    let shared: Client | undefined;

    beforeAll(async () => {
      let answer: boolean | string;
      try {
        answer = await adapter.available();
      } catch (err) {
        answer = `available() threw: ${(err as Error).message}`;
      }
      if (answer !== true) {
        unavailable = typeof answer === 'string' ? answer : 'available() returned false';
        const message = `\n*** conformance: adapter "${adapter.name}" is NOT AVAILABLE: ${unavailable} ***\n`;
        if (ci && adapter.required !== false) {
          throw new Error(`${message}It is required, and CI=true: failing instead of skipping.`);
        }
        console.warn(`${message}Its cases are skipped (under CI=true they would fail).\n`);
        return;
      }
      shared = await adapter.open({});
    }, 60_000);

    afterAll(async () => {
      await shared?.close();
    }, 60_000);

    for (const c of cases) {
      const missing = missingCapabilities(adapter, c.requires);
      if (missing !== undefined) {
        it.skip(`${c.id}: ${c.title} [opted out: ${missing}]`, () => undefined);
        continue;
      }
      it(`${c.id}: ${c.title}`, { timeout: c.timeout ?? 30_000 }, async (test) => {
        if (unavailable !== undefined) {
          test.skip(`adapter unavailable: ${unavailable}`);
          return;
        }
        const cleanups: (() => unknown)[] = [];
        const tables: string[] = [];
        const ctx: CaseContext = {
          adapter,
          sql,
          expect,
          client: shared!,
          async open(openOptions: OpenOptions = {}) {
            const client = await adapter.open(openOptions);
            cleanups.push(() => client.close());
            return client;
          },
          async table(columns: Record<string, ColumnSpec>, client: Client = shared!) {
            const name = `cf_${process.pid}_${++tableCounter}`;
            const defs = Object.entries(columns).map(([col, spec]) => {
              const [type, ...rest] = spec.split(' ');
              return [col, sql.types[type as keyof DialectSql['types']], ...rest].join(' ');
            });
            await client.query(`create table ${name} (${defs.join(', ')})`);
            tables.push(name);
            return name;
          },
          onCleanup(fn) {
            cleanups.push(fn);
          },
        };
        try {
          await c.run(ctx);
        } finally {
          for (const fn of cleanups.reverse())
            await Promise.resolve()
              .then(fn)
              .catch(() => undefined);
          // Drop through the shared client (a case's own clients are closed by now); a table
          // of a client with its own database is simply not found there.
          for (const name of tables)
            await shared!.query(`drop table if exists ${name}`).catch(() => undefined);
        }
      });
    }
  });
}
