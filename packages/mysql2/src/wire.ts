// What travels between the caller's thread and the worker for one mysql2 connection. Both sides
// import this file, so the shapes are written down once.

/** The connection options that reach the worker: mysql2's own, minus what cannot be cloned. */
export type WireConfig = Record<string, unknown> | string;

/** Options of one core session: one mysql2 connection. */
export interface OpenOptions {
  config: WireConfig;
  /** A `typeCast` / `queryFormat` function shipped with core's portable functions. */
  typeCast?: unknown;
  queryFormat?: unknown;
}

/** A FieldPacket with every property materialised (mysql2's are lazy getters over a buffer). */
export interface WireField {
  catalog: string;
  schema: string;
  db: string;
  table: string;
  orgTable: string;
  name: string;
  orgName: string;
  characterSet: number;
  encoding: string;
  columnLength: number;
  columnType: number;
  type: number;
  flags: number;
  decimals: number;
  typeName: string | undefined;
  extendedTypeName?: string;
  extendedFormat?: string;
}

/** How rows are shaped: as mysql2 decides from `rowsAsArray` and `nestTables`. */
export type WireShape =
  { kind: 'object' } | { kind: 'array' } | { kind: 'nest' } | { kind: 'prefix'; sep: string };

/**
 * The `extra` of a RowSet: the fields as one JSON string (a string clones as one copy, where an
 * array of objects costs a deserialisation per property; the caller caches the parsed form by
 * the string), and whether the rows still need nesting by table.
 */
export interface RowsExtra {
  /**
   * The fields: their JSON, or (query results of a session) the id of a field list the session
   * registered. A session sends each distinct list once: the id alone once the caller has
   * acknowledged it (see {@link FIELD_ACKS_ARG}), id and JSON (`d`) until then.
   */
  f: string | number;
  /** The JSON of field list `f`, while the caller has not acknowledged it. */
  d?: string;
  nest?: true;
}

/**
 * The position, in the `query` operation's arguments, of the field-list ids the caller learned
 * since its last call. Acknowledged rather than assumed: an answer can be dropped on the way (a
 * call aborted while running), so the worker only trusts what the caller confirmed.
 */
export const FIELD_ACKS_ARG = 3;

/** Distinct field lists a session registers; beyond that, results carry their JSON. */
export const SESSION_FIELD_LISTS = 256;

/** A result without rows: the OK packet as a plain object. */
export interface HeaderResult {
  h: Record<string, unknown>;
}

/** `multipleStatements` / CALL: every result and every fields entry, already shaped. */
export interface MultiResult {
  m: unknown[];
  /** JSON of `(WireField[] | null)[]`. */
  f: string;
}

/** What the `hello` of a connection says (driver.info). */
export interface ConnectionInfo {
  threadId: number;
  serverVersion: string | undefined;
}
