import type { Client } from '@unblock/core';
import type { ExpectStatic } from 'vitest';
import type { AdapterDescriptor, CapabilityName, OpenOptions } from './descriptor.js';
import type { ColumnType, DialectSql } from './dialects.js';

/**
 * The areas of the suite, in the order they run.
 *
 * @example
 * ```ts
 * import { areas } from '@unblock/conformance';
 * for (const area of areas) console.log(area); // 'values', 'errors', ...
 * ```
 */
export const areas = [
  'values',
  'errors',
  'transactions',
  'iteration',
  'cancellation',
  'leaks',
  'crashes',
  'load',
  'event-loop',
  'lifecycle',
] as const;

/**
 * One area of the suite.
 *
 * @example
 * ```ts
 * const area: Area = 'transactions';
 * ```
 */
export type Area = (typeof areas)[number];

/**
 * A column of a table a case creates: a type, optionally followed by constraints.
 *
 * @example
 * ```ts
 * const columns: Record<string, ColumnSpec> = { id: 'pk', k: 'key unique', n: 'int not null' };
 * const t = await ctx.table(columns);
 * ```
 */
export type ColumnSpec = ColumnType | `${ColumnType} ${string}`;

/**
 * What a case receives. `client` is shared by the cases of one adapter; a case that closes,
 * crashes or reconfigures a client opens its own with `open()` (closed after the case).
 *
 * @example
 * ```ts
 * run: async ({ client, sql, expect, table }) => {
 *   const t = await table({ v: 'int' });
 *   await client.query(`insert into ${t} (v) values (?)`, [1]);
 *   expect((await client.query(sql.series(3))).rows).toHaveLength(3);
 * },
 * ```
 */
export interface CaseContext {
  adapter: AdapterDescriptor;
  sql: DialectSql;
  expect: ExpectStatic;
  client: Client;
  /** A client of its own, closed when the case ends. */
  open(options?: OpenOptions): Promise<Client>;
  /** Creates a uniquely named table on `client` (default: the shared one); dropped after the case. */
  table(columns: Record<string, ColumnSpec>, client?: Client): Promise<string>;
  /** Runs `fn` when the case ends, pass or fail (last registered runs first). */
  onCleanup(fn: () => unknown): void;
}

/**
 * One contract of the suite. `id` is stable (like a TCK assertion id): a failing test's title
 * starts with it, so a failure names the contract it breaks.
 *
 * @example
 * ```ts
 * const nullParam: ConformanceCase = {
 *   id: 'values.null.param',
 *   area: 'values',
 *   title: 'null round-trips as a parameter',
 *   run: async ({ client, expect }) => {
 *     expect((await client.query('select ? as v', [null])).rows).toEqual([{ v: null }]);
 *   },
 * };
 * ```
 */
export interface ConformanceCase {
  id: string;
  area: Area;
  /** What the adapter must do, as one sentence. */
  title: string;
  /** Capabilities the case needs; it is skipped (with the adapter's reason) without them. */
  requires?: readonly CapabilityName[];
  /** Per-case timeout in ms (default 30 s). */
  timeout?: number;
  run(ctx: CaseContext): Promise<void>;
}

/**
 * Builds the cases of one area, prefixing nothing: ids are written out in full so they can be
 * searched for.
 *
 * @example
 * ```ts
 * export const valuesCases = defineCases('values', [
 *   { id: 'values.null.param', title: 'null round-trips', run: async ({ client, expect }) => { ... } },
 * ]);
 * ```
 */
export function defineCases(area: Area, cases: Omit<ConformanceCase, 'area'>[]): ConformanceCase[] {
  return cases.map((c) => {
    if (!c.id.startsWith(`${area}.`)) throw new Error(`case id ${c.id} must start with "${area}."`);
    return { ...c, area };
  });
}
