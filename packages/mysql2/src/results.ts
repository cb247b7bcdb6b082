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
 * The field lists one session registered (see RowsExtra): decoded once, and the same array is
 * handed out with every result of that list (a point select's fields would otherwise cost more
 * to rebuild than its row).
 */
export class FieldRegistry {
  readonly #lists = new Map<number, FieldPacket[]>();
  #acks: number[] | undefined;

  /** @internal The fields of a result's `extra`. */
  fields(extra: RowsExtra): FieldPacket[] {
    const { f } = extra;
    if (typeof f === 'string') return fieldsFromJson(f);
    let list = this.#lists.get(f);
    if (list === undefined) {
      if (extra.d === undefined)
        throw new Error(`@unblock/mysql2: unknown field list ${f} (a bug: please report it)`);
      list = fieldsFromJson(extra.d);
      this.#lists.set(f, list);
      (this.#acks ??= []).push(f);
    } else if (extra.d !== undefined) {
      // The worker has not seen our acknowledgement (the call carrying it failed before it
      // was sent): say it again.
      (this.#acks ??= []).push(f);
    }
    return list;
  }

  /** @internal Ids learned since the last call, to acknowledge with the next one. */
  takeAcks(): number[] | undefined {
    const acks = this.#acks;
    this.#acks = undefined;
    return acks;
  }
}

const registries = new WeakMap<object, FieldRegistry>();

/** @internal The field registry of a session (shared by every Connection object on it). */
export function fieldRegistryOf(session: object): FieldRegistry {
  let registry = registries.get(session);
  if (registry === undefined) {
    registry = new FieldRegistry();
    registries.set(session, registry);
  }
  return registry;
}

/**
 * Rebuilds mysql2's `[rows, fields]` from a worker result: a RowSet (rows already rebuilt by
 * core), an OK packet, or the results of several statements.
 */
export function toResult(value: unknown, registry?: FieldRegistry): QueryResultTuple {
  const received = value as ReceivedRows & Partial<HeaderResult> & Partial<MultiResult>;
  if (received.h !== undefined) return [received.h as unknown as ResultSetHeader, undefined];
  if (received.m !== undefined) {
    const all = JSON.parse(received.f as string) as (WireField[] | null)[];
    return [
      received.m,
      all.map((f) => (f === null ? undefined : f.map((x) => ({ ...x }) as FieldPacket))) as never,
    ];
  }
  const extra = received.extra as RowsExtra;
  const fields =
    registry !== undefined ? registry.fields(extra) : fieldsFromJson(extra.f as string);
  if (extra.nest === true) return [nestRows(received.rows, fields), fields];
  return [received.rows, fields];
}
