import type { ReceivedRows } from '@unblock/core';
import { nestRows } from './row-shape.js';
import type { FieldPacket, ResultSetHeader } from './types.js';
import type { HeaderResult, MultiResult, RowsExtra, WireField } from './wire.js';

// Fields come as one JSON string per result. The same query returns the same string, so the
// parsed form is cached by it and each result gets fresh copies (mysql2 returns new objects
// every time, and callers may keep or change them).
const fieldCache = new Map<string, WireField[]>();
const FIELD_CACHE_LIMIT = 512;

function parseFields(json: string): WireField[] {
  let fields = fieldCache.get(json);
  if (fields === undefined) {
    fields = JSON.parse(json) as WireField[];
    if (fieldCache.size >= FIELD_CACHE_LIMIT) fieldCache.clear();
    fieldCache.set(json, fields);
  }
  return fields;
}

/** Fresh FieldPacket objects (plain objects with every property set) from a fields string. */
export function fieldsFromJson(json: string): FieldPacket[] {
  const fields = parseFields(json);
  const out = new Array<FieldPacket>(fields.length);
  for (let i = 0; i < fields.length; i++) out[i] = { ...fields[i] } as FieldPacket;
  return out;
}

/** What `query()` and `execute()` resolve to, built from what the worker sent. */
export type QueryResultTuple = [unknown, FieldPacket[] | undefined];

/**
 * Rebuilds mysql2's `[rows, fields]` from a worker result: a RowSet (rows already rebuilt by
 * core), an OK packet, or the results of several statements.
 */
export function toResult(value: unknown): QueryResultTuple {
  const received = value as ReceivedRows & Partial<HeaderResult> & Partial<MultiResult>;
  if (received.h !== undefined) return [received.h as unknown as ResultSetHeader, undefined];
  if (received.m !== undefined) {
    const all = JSON.parse(received.f as string) as (WireField[] | null)[];
    return [received.m, all.map((f) => (f === null ? undefined : f.map((x) => ({ ...x }) as FieldPacket))) as never];
  }
  const extra = received.extra as RowsExtra;
  const fields = fieldsFromJson(extra.f);
  if (extra.nest === true) return [nestRows(received.rows, fields), fields];
  return [received.rows, fields];
}
