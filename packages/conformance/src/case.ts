import type { Client } from '@unblock/core';
import type { ExpectStatic } from 'vitest';
import type { AdapterDescriptor, CapabilityName, OpenOptions } from './descriptor.js';
import type { ColumnType, DialectSql } from './dialects.js';

/** The areas of the suite, in the order they run. */
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

/** One area of the suite. */
export type Area = (typeof areas)[number];

/** A column of a table a case creates: a type, optionally followed by constraints. */
export type ColumnSpec = ColumnType | `${ColumnType} ${string}`;

/**
 * What a case receives. `client` is shared by the cases of one adapter; a case that closes,
 * crashes or reconfigures a client opens its own with `open()` (closed after the case).
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
