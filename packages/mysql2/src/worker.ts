// The worker side: each core session owns one mysql2 connection made with mysql2's callback API
// (cheaper than its promise wrapper). Rows are requested as arrays, whatever the caller asked
// for, because core packs them by column; the caller's thread rebuilds mysql2's row shape.
import { createRequire } from 'node:module';
import {
  chunkRowCount,
  defineDriver,
  loadPortableFunction,
  registerValueCodec,
  RowSet,
  RowStream,
  type OpenContext,
  type OperationContext,
} from '@unblock/core/worker';
import { ColumnarRows, type TextParserOptions } from './columnar-rows.js';
import { mysql2Internal } from './mysql2-internals.js';
import { SQL_FRAGMENT_CODEC } from './raw-codec.js';
import { typedParameterCodec } from './typed-parameter-codec.js';
import { columnKeys, shapeOf, shapeRows } from './row-shape.js';
import { FIELD_ACKS_ARG, SESSION_FIELD_LISTS } from './wire.js';
import type {
  ConnectionInfo,
  HeaderResult,
  MultiResult,
  OpenOptions,
  RowsExtra,
  WireField,
  WireShape,
} from './wire.js';

const require = createRequire(import.meta.url);

type Callback = (err: Error | null, rows?: unknown, fields?: unknown) => void;

/** The parts of mysql2's callback Connection this driver uses. */
interface CbConnection {
  threadId: number;
  config: Record<string, unknown>;
  connection?: unknown;
  _handshakePacket?: { serverVersion?: string };
  /** Set as its QUIT starts (end()): a socket that ends before was closed by the server. */
  _closing?: boolean;
  /** The socket mysql2 reads from. */
  stream: { on(event: 'data', listener: () => void): unknown };
  query(options: string | object, values: unknown, cb: Callback): Command;
  execute(options: string | object, values: unknown, cb: Callback): Command;
  prepare(options: object, cb: (err: Error | null, stmt: PreparedStatement) => void): unknown;
  unprepare(sql: unknown): unknown;
  ping(cb: Callback): void;
  reset(cb: Callback): void;
  beginTransaction(cb: Callback): void;
  commit(cb: Callback): void;
  rollback(cb: Callback): void;
  changeUser(options: object, cb: Callback): void;
  addCommand(command: unknown): unknown;
  pause(): void;
  resume(): void;
  end(cb: (err?: Error) => void): void;
  destroy(): void;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  removeListener(event: string, listener: (...args: unknown[]) => void): unknown;
}

/** The parts of a running mysql2 query or execute command read while its rows arrive. */
interface Command {
  /** The state function that takes the next packet. */
  next?: unknown;
  options?: Record<string, unknown>;
  _localStreamError?: unknown;
  doneInsert?(packet: null): unknown;
  /** Rows of the result set being read (mysql2 fills it in place). */
  _currentRows?: unknown[][] | null;
  _resultIndex?: number;
  /** Fields of each result set. */
  _fields?: Record<string, unknown>[][];
  /** Set (see {@link noteMoreResults}) when the server said more result sets follow the first. */
  moreResults?: boolean;
}

interface PreparedStatement {
  id: number;
  query: string;
  columns: object[];
  parameters: object[];
  close(): void;
}

interface Mysql2 {
  createConnection(config: unknown): CbConnection;
  raw(sql: string): unknown;
  Types: Record<string, number>;
}

const mysql = require('mysql2') as Mysql2;
const Execute =
  mysql2Internal<new (options: object, cb: Callback) => unknown>('lib/commands/execute.js');

registerValueCodec<unknown>({
  name: SQL_FRAGMENT_CODEC,
  // Only ever decoded here: the caller's thread sends fragments, the worker never does.
  is: (_value): _value is unknown => false,
  encode: (value) => value,
  decode: (sql) => mysql.raw(sql as string),
});
registerValueCodec(typedParameterCodec);

const typeNames: string[] = [];
for (const [name, code] of Object.entries(mysql.Types)) typeNames[code] ??= name;

/** One session's state. */
interface Conn {
  c: CbConnection;
  options: OpenOptions;
  /** Field lists registered with the caller, by their JSON (see RowsExtra). */
  fieldIds: Map<string, number>;
  /** Ids the caller confirmed it holds: their results carry the id alone. */
  fieldsAcked: Set<number>;
  /** Runs after mysql2 has parsed each chunk read from the socket, while a query runs. */
  onData: (() => void) | undefined;
  /**
   * The row-shape options the caller's config gave. The worker's own mysql2 config says
   * `rowsAsArray: true` and no `nestTables` instead, so a plain SQL string takes mysql2's fast
   * path and still yields arrays (core packs them by column).
   */
  defaults: { rowsAsArray: unknown; nestTables: unknown; disableEval: unknown };
  /**
   * The row shape of a plain SQL string under those options, by protocol (they differ with
   * `disableEval`; see shapeOf). `execute` is also a prepared statement's.
   */
  shapes: { query: WireShape; execute: WireShape };
  /**
   * Cursors whose query still streams. mysql2 runs a connection's commands one after another:
   * a command sent behind a paused stream would wait for ever, and hold the cursor's next
   * batches behind it in this session's queue (see drainCursors).
   */
  cursors: Set<Cursor>;
}

/**
 * Lets the connection's streaming cursors read the rest of their rows (kept for their next
 * batches), so a command sent while an iterator is open runs after the stream, as mysql2 runs a
 * command sent behind `query().stream()`.
 */
function drainCursors(conn: Conn): void {
  for (const cursor of conn.cursors) cursor.drain();
}

function wireField(f: Record<string, unknown>): WireField {
  const out: WireField = {
    catalog: f.catalog as string,
    schema: f.schema as string,
    db: f.schema as string,
    table: f.table as string,
    orgTable: f.orgTable as string,
    name: f.name as string,
    orgName: f.orgName as string,
    characterSet: f.characterSet as number,
    encoding: f.encoding as string,
    columnLength: f.columnLength as number,
    columnType: f.columnType as number,
    type: f.type as number,
    flags: f.flags as number,
    decimals: f.decimals as number,
    typeName: typeNames[f.columnType as number],
  };
  if (f.extendedTypeName !== undefined) out.extendedTypeName = f.extendedTypeName as string;
  if (f.extendedFormat !== undefined) out.extendedFormat = f.extendedFormat as string;
  return out;
}

// Materialising fields (decoding their lazy strings) and serialising them costs more than the
// rest of a point select's result, so both are cached by the bytes the fields were parsed from.
const fieldsCache = new Map<string, [WireField[], string]>();
const FIELDS_CACHE_LIMIT = 1024;

function fieldKey(f: Record<string, unknown>): string | undefined {
  const buf = f._buf as Buffer | undefined;
  const start = f._catalogStart as number | undefined;
  const end =
    (f._orgNameStart as number | undefined) !== undefined
      ? (f._orgNameStart as number) + (f._orgNameLength as number)
      : undefined;
  if (!Buffer.isBuffer(buf) || start === undefined || end === undefined) return undefined;
  return `${buf.toString('latin1', start, end)}|${String(f._clientEncoding)}|${f.characterSet as number},${f.columnLength as number},${f.columnType as number},${f.flags as number},${f.decimals as number},${String(f.extendedTypeName)},${String(f.extendedFormat)}`;
}

/**
 * One key for all the fields of a result when they were parsed, in order, from one buffer (a
 * result's column definitions usually arrive in one network chunk): the bytes from the first
 * field's catalog to the last field's orgName hold every field but the last one's fixed part,
 * which is added from its properties. One string instead of one per field.
 */
function contiguousFieldsKey(fields: Record<string, unknown>[]): string | undefined {
  const first = fields[0];
  const last = fields[fields.length - 1];
  const buf = first._buf as Buffer | undefined;
  if (!Buffer.isBuffer(buf)) return undefined;
  let end = -1;
  for (const f of fields) {
    const start = f._catalogStart as number | undefined;
    const nameStart = f._orgNameStart as number | undefined;
    if (f._buf !== buf || start === undefined || nameStart === undefined || start <= end) {
      return undefined;
    }
    end = nameStart + (f._orgNameLength as number);
  }
  return `\u0001${fields.length}|${first._catalogLength as number}|${buf.toString('latin1', first._catalogStart as number, end)}|${String(first._clientEncoding)}|${last.characterSet as number},${last.columnLength as number},${last.columnType as number},${last.flags as number},${last.decimals as number},${String(last.extendedTypeName)},${String(last.extendedFormat)}`;
}

function cachedFields(fields: Record<string, unknown>[]): [WireField[], string] {
  let key = fields.length === 0 ? '' : contiguousFieldsKey(fields);
  if (key === undefined) {
    key = '';
    for (const f of fields) {
      const k = fieldKey(f);
      if (k === undefined) {
        const wire = fields.map(wireField);
        return [wire, JSON.stringify(wire)];
      }
      key += k + '\u0000';
    }
  }
  let hit = fieldsCache.get(key);
  if (hit === undefined) {
    const wire = fields.map(wireField);
    hit = [wire, JSON.stringify(wire)];
    if (fieldsCache.size >= FIELDS_CACHE_LIMIT) fieldsCache.clear();
    fieldsCache.set(key, hit);
  }
  return hit;
}

function isColumnDefinition(value: unknown): boolean {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && 'columnType' in value
  );
}

function plainHeader(header: unknown): Record<string, unknown> {
  return { ...(header as Record<string, unknown>) };
}

/** The OK packet of a statement without rows, as it crosses to the caller. */
function okHeader(header: unknown): HeaderResult {
  return { h: plainHeader(header) };
}

/** The fields of a result as the caller gets them: a registered id where the session has one. */
function fieldsExtra(json: string, conn: Conn | undefined): RowsExtra {
  if (conn === undefined) return { f: json };
  let id = conn.fieldIds.get(json);
  if (id === undefined) {
    if (conn.fieldIds.size >= SESSION_FIELD_LISTS) return { f: json };
    id = conn.fieldIds.size + 1;
    conn.fieldIds.set(json, id);
  }
  return conn.fieldsAcked.has(id) ? { f: id } : { f: id, d: json };
}

/** Turns what mysql2 called back with into what crosses to the caller. */
function encodeResult(
  rows: unknown,
  fields: unknown,
  shape: WireShape,
  conn?: Conn,
): RowSet | HeaderResult | MultiResult {
  const multi = Array.isArray(fields)
    ? fields.length > 0 && !isColumnDefinition(fields[0])
    : Array.isArray(rows);
  if (multi) {
    const all = rows as unknown[];
    const allFields = (Array.isArray(fields) ? fields : []) as (object[] | undefined)[];
    const wire = all.map((_, i) => {
      const f = allFields[i];
      return Array.isArray(f) ? f.map((x) => wireField(x as Record<string, unknown>)) : null;
    });
    const m = all.map((r, i) =>
      Array.isArray(r) ? shapeRows(r as unknown[][], wire[i] ?? [], shape) : plainHeader(r),
    );
    return { m, f: JSON.stringify(wire) };
  }
  if (!Array.isArray(fields)) return okHeader(rows);
  const [wire, json] = cachedFields(fields as Record<string, unknown>[]);
  const extra = fieldsExtra(json, conn);
  if (shape.kind === 'nest') {
    extra.nest = true;
    return new RowSet(
      wire.map((f) => f.name),
      rows as unknown[][],
      'array',
      extra,
    );
  }
  return new RowSet(
    columnKeys(wire, shape),
    rows as unknown[][],
    shape.kind === 'array' ? 'array' : 'object',
    extra,
  );
}

/** mysql2's own resolution of the row-shape options, so the shape can be rebuilt on the caller's side. */
function commandOptions(
  conn: Conn,
  kind: 'query' | 'execute',
  sql: unknown,
): { opts: string | Record<string, unknown>; shape: WireShape } {
  const config = conn.defaults;
  if (typeof sql === 'string') {
    // The common case. A string is what mysql2's query() handles fastest (an options object is
    // spread into a new one); execute() reads rowsAsArray from its options only.
    return {
      opts: kind === 'query' ? sql : { sql, rowsAsArray: true, nestTables: false },
      shape: conn.shapes[kind],
    };
  }
  let opts: Record<string, unknown>;
  if (kind === 'query') {
    opts =
      typeof sql === 'object' && sql !== null
        ? { rowsAsArray: config.rowsAsArray, ...sql }
        : { rowsAsArray: config.rowsAsArray, sql };
  } else {
    opts = typeof sql === 'object' && sql !== null ? { ...sql } : { sql };
  }
  const shape = shapeOf(
    {
      rowsAsArray: config.rowsAsArray,
      nestTables: config.nestTables,
      disableEval: config.disableEval,
      ...opts,
    },
    kind === 'execute',
  );
  return { opts: { ...opts, rowsAsArray: true, nestTables: false }, shape };
}

function callback<T>(
  run: (cb: Callback) => void,
  map: (rows: unknown, fields: unknown) => T,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    try {
      run((err, rows, fields) => (err ? reject(err) : resolve(map(rows, fields))));
    } catch (err) {
      reject(err);
    }
  });
}

/** {@link callback} for a command of `conn`, sent once its streaming cursors let it run. */
function command<T>(
  conn: Conn,
  run: (cb: Callback) => void,
  map: (rows: unknown, fields: unknown) => T,
): Promise<T> {
  if (conn.cursors.size > 0) drainCursors(conn);
  return callback(run, map);
}

/**
 * Runs a query or execute. A result that grows past a chunk while mysql2 is still reading it
 * becomes a RowStream: its rows go to the caller while the rest is parsed, instead of after.
 * Not with `multipleStatements`, nor when the server says more result sets follow (a CALL),
 * where a later result set would turn it into a multi result.
 */
function runCommand(
  conn: Conn,
  kind: 'query' | 'execute',
  opts: string | Record<string, unknown>,
  values: unknown,
  shape: WireShape,
): Promise<RowSet | HeaderResult | MultiResult> {
  return new Promise((resolve, reject) => {
    let stream: RowStream | undefined;
    const done: Callback = (err, rows, fields) => {
      conn.onData = undefined;
      if (stream !== undefined) {
        if (err) stream.fail(err);
        else stream.end();
        return;
      }
      if (err) return reject(err);
      try {
        resolve(encodeResult(rows, fields, shape, conn));
      } catch (error) {
        reject(error);
      }
    };
    let cmd: Command;
    try {
      cmd =
        kind === 'execute' ? conn.c.execute(opts, values, done) : conn.c.query(opts, values, done);
    } catch (err) {
      reject(err);
      return;
    }
    if (conn.c.config.multipleStatements === true) return;
    conn.onData = () => {
      if (stream !== undefined) return stream.grew();
      const rows = cmd._currentRows;
      const fields = cmd._fields?.[0];
      // A CALL (or EXECUTE, or BEGIN NOT ATOMIC) gives several result sets even without
      // multipleStatements: mysql2 resolves them all at once, so they are not streamed.
      if (cmd._resultIndex !== 0 || cmd.moreResults === true) return;
      if (!Array.isArray(rows) || !Array.isArray(fields)) return;
      if (rows.length < chunkRowCount(fields.length)) return;
      const set = encodeResult(rows, fields, shape, conn) as RowSet;
      stream = new RowStream(set.columns, set.rows, set.shape, set.extra);
      if (kind === 'query') readRestByColumn(cmd, conn, stream, fields);
      resolve(stream);
    };
  });
}

/** mysql2's state function for a text result's rows (the command goes on to whatever it returns). */
type RowState = (this: Command, packet: RowPacket, connection: unknown) => unknown;
interface RowPacket {
  isEOF(): boolean;
}
const queryRow = mysql2Internal<{ prototype: { row: RowState } }>('lib/commands/query.js').prototype
  .row;

/** The EOF packet's flag saying another result set follows this one. */
const SERVER_MORE_RESULTS_EXISTS = 0x0008;

interface EofPacket extends RowPacket {
  eofStatusFlags(): number;
}

/**
 * Marks a command whose first result set will be followed by others. The server says so in the
 * EOF packet after the first set's column definitions, before any row; mysql2 reads that flag
 * only at the end of the rows, too late to decide whether to stream them. So the worker's
 * mysql2 query and execute commands note it on their way through that packet (mysql2's
 * field reader returns the prototype's `fieldsEOF`, looked up as each result's fields end).
 */
function noteMoreResults(path: string): void {
  const proto = mysql2Internal<{ prototype: { fieldsEOF: RowState } }>(path).prototype;
  const fieldsEOF = proto.fieldsEOF;
  proto.fieldsEOF = function (this: Command, packet, connection) {
    const eof = packet as EofPacket;
    if (eof.isEOF() && (eof.eofStatusFlags() & SERVER_MORE_RESULTS_EXISTS) !== 0)
      this.moreResults = true;
    return fieldsEOF.call(this, packet, connection);
  };
}
noteMoreResults('lib/commands/query.js');
noteMoreResults('lib/commands/execute.js');

/**
 * From here on, reads the rest of a streamed text result straight into packed columns (see
 * ColumnarRows) instead of letting mysql2 build row arrays: the command's next state, which is
 * mysql2's row reader between two packets, becomes one that fills the columns and hands the
 * stream a chunk whenever one is full. The end of the rows goes back to mysql2's own reader.
 */
function readRestByColumn(
  cmd: Command,
  conn: Conn,
  stream: RowStream,
  fields: Record<string, unknown>[],
): void {
  if (cmd.next !== queryRow) return;
  const columns = ColumnarRows.of(
    fields as never,
    (cmd.options ?? {}) as TextParserOptions,
    conn.c.config as TextParserOptions,
    chunkRowCount(fields.length),
  );
  if (columns === undefined) return;
  const read: RowState = function (this: Command, packet, connection) {
    if (packet.isEOF()) {
      if (columns.count > 0) stream.pushColumns(columns.count, columns.take());
      return queryRow.call(this, packet, connection);
    }
    try {
      columns.add(packet as never);
    } catch (err) {
      // As mysql2's reader does with a row it cannot parse.
      this._localStreamError = err;
      return this.doneInsert!(null);
    }
    if (columns.full) stream.pushColumns(columns.count, columns.take());
    return read;
  };
  cmd.next = read;
}

async function loadFunctions(options: OpenOptions): Promise<Record<string, unknown>> {
  const extra: Record<string, unknown> = {};
  if (options.typeCast !== undefined)
    extra.typeCast = await loadPortableFunction(options.typeCast as never);
  if (options.queryFormat !== undefined)
    extra.queryFormat = await loadPortableFunction(options.queryFormat as never);
  return extra;
}

/**
 * mysql2's warnings about the options it ignores ("Ignoring invalid ..."), printed with
 * `console.error` while it builds a connection's config: the caller's thread printed them once
 * already, building the same config, so a worker does not print them again per connection.
 */
function withoutOptionWarnings<T>(build: () => T): T {
  const print = console.error;
  console.error = (...args: unknown[]) => {
    if (typeof args[0] !== 'string' || !args[0].startsWith('Ignoring invalid')) print(...args);
  };
  try {
    return build();
  } finally {
    console.error = print;
  }
}

function connect(config: unknown): Promise<CbConnection> {
  const c = withoutOptionWarnings(() => mysql.createConnection(config));
  return new Promise((resolve, reject) => {
    const onError = (err: unknown): void => reject(err);
    c.once('error', onError);
    c.once('connect', () => {
      c.removeListener('error', onError);
      resolve(c);
    });
  });
}

/**
 * `KILL QUERY` from a side connection: how mysql2 users stop a running statement. The side
 * connection lives only for the kill (cancellation is rare; a spare socket per session is not).
 */
async function killQuery(conn: Conn): Promise<void> {
  const { config } = conn.c;
  const side = await connect({
    host: config.host,
    port: config.port,
    socketPath: config.socketPath,
    user: config.user,
    password: config.password,
    ssl: config.ssl,
    connectTimeout: 5000,
  });
  try {
    await callback(
      (cb) => side.query({ sql: `KILL QUERY ${Number(conn.c.threadId)}` }, undefined, cb),
      () => undefined,
    );
  } finally {
    side.end(() => undefined);
  }
}

/** A server-side streamed query read in batches; the connection is paused while the caller is behind. */
class Cursor {
  private buffer: unknown[][] = [];
  private fields: WireField[] | undefined;
  private done = false;
  private error: Error | undefined;
  private waiter: (() => void) | undefined;
  private paused = false;
  /** Another command waits behind the stream: no more pausing (see drainCursors). */
  private draining = false;
  private sentFields = false;
  private readonly wake: () => void;

  constructor(
    private readonly conn: Conn,
    kind: 'query' | 'execute',
    sql: unknown,
    values: unknown,
    private readonly shape: WireShape,
    opts: string | Record<string, unknown>,
    private readonly highWater: number,
  ) {
    const wake = (): void => {
      const w = this.waiter;
      this.waiter = undefined;
      w?.();
    };
    this.wake = wake;
    // Before the query is made: mysql2 refuses a command on a closed connection at once,
    // inside query(), with an 'error' of the connection (see Cursor.fail).
    conn.cursors.add(this);
    const query = (
      kind === 'execute'
        ? conn.c.execute(opts, values, undefined as never)
        : conn.c.query(opts, values, undefined as never)
    ) as {
      on(event: string, fn: (...args: unknown[]) => void): unknown;
    };
    void sql;
    // The rows of the first result set: a CALL's later sets (other columns) are read and
    // dropped, and its closing OK packet comes with no fields at all (mysql2 emits 'fields'
    // with undefined for it; a throw in this listener would be fatal to the connection).
    query.on('fields', (fields) => {
      if (this.fields === undefined && Array.isArray(fields))
        this.fields = (fields as Record<string, unknown>[]).map(wireField);
    });
    query.on('result', (row, resultSet) => {
      if (!Array.isArray(row)) return; // an OK packet of a statement without rows
      if (typeof resultSet === 'number' && resultSet > 0) return;
      this.buffer.push(row as unknown[]);
      if (this.buffer.length >= this.highWater && !this.paused && !this.draining) {
        this.paused = true;
        conn.c.pause();
      }
      if (this.buffer.length >= this.highWater / 2) wake();
    });
    query.on('error', (err) => this.fail(err));
    query.on('end', () => this.fail(undefined));
  }

  /**
   * Ends the cursor: its query ended (`error` undefined) or failed; or its connection is gone
   * (the open() listener of the connection's 'error' calls it for every cursor): mysql2 tells a
   * command without a callback (this streamed query) so by an 'error' of the connection, never
   * of the query, whether the connection was closed already or dies with the query queued or
   * running.
   */
  fail(error: unknown): void {
    if (error !== undefined && !this.done) this.error = error as Error;
    this.done = true;
    this.conn.cursors.delete(this);
    this.wake();
  }

  /** Reads on to the end of the rows without pausing, keeping them (see drainCursors). */
  drain(): void {
    this.draining = true;
    if (this.paused) {
      this.paused = false;
      this.conn.c.resume();
    }
  }

  async next(count: number): Promise<RowSet> {
    while (this.buffer.length < count && !this.done) await this.more();
    if (this.buffer.length === 0 && this.error !== undefined) throw this.error;
    const rows = this.buffer.splice(0, count);
    if (this.paused && this.buffer.length < this.highWater / 2) {
      this.paused = false;
      this.conn.c.resume();
    }
    const fields = this.fields ?? [];
    const extra: RowsExtra & { done: boolean } = {
      f: this.sentFields ? '' : JSON.stringify(fields),
      done:
        this.done && this.buffer.length === 0 && (this.error === undefined || rows.length === 0),
    };
    this.sentFields = true;
    if (this.shape.kind === 'nest') {
      extra.nest = true;
      return new RowSet(
        fields.map((f) => f.name),
        rows,
        'array',
        extra,
      );
    }
    return new RowSet(
      columnKeys(fields, this.shape),
      rows,
      this.shape.kind === 'array' ? 'array' : 'object',
      extra,
    );
  }

  /**
   * Waits for more rows. The waiter is set before resuming, because mysql2's resume() replays
   * queued packets synchronously: rows (and a new pause) can arrive inside the call.
   */
  private more(): Promise<void> {
    const arrived = new Promise<void>((resolve) => (this.waiter = resolve));
    if (this.paused) {
      this.paused = false;
      this.conn.c.resume();
    }
    return arrived;
  }

  /** Reads the rest away, so the connection is free for the next command. */
  async close(): Promise<void> {
    while (!this.done) {
      this.buffer = [];
      await this.more();
    }
    this.buffer = [];
  }
}

/**
 * A per-query `typeCast` function arrives as a portable function spec (see splitQuery): mysql2
 * needs the function itself. Only then is the call asynchronous; the hot path stays as it was.
 */
function withTypeCast<T>(opts: string | Record<string, unknown>, run: () => T): T | Promise<T> {
  if (typeof opts === 'string') return run();
  const spec = opts.typeCast as { kind?: unknown } | undefined;
  if (
    typeof spec !== 'object' ||
    spec === null ||
    (spec.kind !== 'source' && spec.kind !== 'module')
  )
    return run();
  return loadPortableFunction(spec as never).then((fn) => {
    opts.typeCast = fn;
    return run();
  });
}

export default defineDriver({
  async open(options: OpenOptions, ctx: OpenContext): Promise<Conn> {
    const functions = await loadFunctions(options);
    const config =
      typeof options.config === 'string' ? options.config : { ...options.config, ...functions };
    const c = await connect(config);
    const defaults = {
      rowsAsArray: c.config.rowsAsArray,
      nestTables: c.config.nestTables,
      disableEval: c.config.disableEval,
    };
    const conn: Conn = {
      c,
      options,
      fieldIds: new Map(),
      fieldsAcked: new Set(),
      onData: undefined,
      defaults,
      shapes: { query: shapeOf(defaults, false), execute: shapeOf(defaults, true) },
      cursors: new Set(),
    };
    // Row arrays for a plain SQL string, which reads both options from this config. mysql2's
    // parsers let `nestTables` win over `rowsAsArray`, so it must go too, or such a string would
    // yield nested objects that the caller's side then reads by column index.
    c.config.rowsAsArray = true;
    c.config.nestTables = undefined;
    // After mysql2's own listener: what this chunk held is parsed.
    c.stream.on('data', () => conn.onData?.());
    // An error while no command runs (the server went away) is emitted, not called back.
    c.on('error', (err) => {
      for (const cursor of conn.cursors) cursor.fail(err);
      // Without a listener it would be thrown in the worker. mysql2/promise re-emits its connection's 'error' and 'end'; so does the caller's side.
      ctx.notify('error', err);
    });
    // Whether the connection's own QUIT closed it: the caller's side orders 'end' by that.
    c.on('end', () => ctx.notify('end', c._closing === true));
    return conn;
  },

  info(conn: Conn): ConnectionInfo {
    return { threadId: conn.c.threadId, serverVersion: conn.c._handshakePacket?.serverVersion };
  },

  cancel(conn: Conn): Promise<void> {
    return killQuery(conn);
  },

  close(conn: Conn): Promise<void> {
    return new Promise((resolve) => conn.c.end(() => resolve()));
  },

  operations: {
    query(conn: Conn, args: unknown[]) {
      if (conn.cursors.size > 0) drainCursors(conn);
      const [kind, sql, values] = args;
      const acks = args[FIELD_ACKS_ARG] as number[] | undefined;
      if (acks !== undefined) for (const id of acks) conn.fieldsAcked.add(id);
      const { opts, shape } = commandOptions(conn, kind as 'query' | 'execute', sql);
      return withTypeCast(opts, () =>
        runCommand(conn, kind as 'query' | 'execute', opts, values, shape),
      );
    },
    ping: (conn: Conn) =>
      command(
        conn,
        (cb) => conn.c.ping(cb),
        () => true,
      ),
    reset: (conn: Conn) =>
      command(
        conn,
        (cb) => conn.c.reset(cb),
        () => undefined,
      ),
    // mysql2 runs these as plain queries (START TRANSACTION, COMMIT, ROLLBACK), and
    // mysql2/promise resolves their OK packet as `[ResultSetHeader, undefined]`: it crosses.
    beginTransaction: (conn: Conn) => command(conn, (cb) => conn.c.beginTransaction(cb), okHeader),
    commit: (conn: Conn) => command(conn, (cb) => conn.c.commit(cb), okHeader),
    rollback: (conn: Conn) => command(conn, (cb) => conn.c.rollback(cb), okHeader),
    changeUser: (conn: Conn, [options]: unknown[]) =>
      command(
        conn,
        (cb) => conn.c.changeUser(options as object, cb),
        () => conn.c.threadId,
      ),
    unprepare(conn: Conn, [sql]: unknown[]) {
      conn.c.unprepare(sql);
      // execute() cached its statement under the options it ran with (see commandOptions), not
      // the caller's: mysql2's cache key (its statementKey) reads rowsAsArray and nestTables too.
      const text = typeof sql === 'object' && sql !== null ? (sql as { sql?: unknown }).sql : sql;
      conn.c.unprepare({ sql: text, rowsAsArray: true, nestTables: false });
    },
    destroy(conn: Conn) {
      conn.c.destroy();
    },
    prepare(conn: Conn, [options]: unknown[], ctx: OperationContext) {
      drainCursors(conn);
      const opts = typeof options === 'string' ? { sql: options } : (options as object);
      return new Promise((resolve, reject) => {
        conn.c.prepare(opts, (err, stmt) => {
          if (err) return reject(err);
          resolve(
            ctx.handle({ conn, stmt }, 'statement', {
              id: stmt.id,
              query: stmt.query,
              columns: JSON.stringify(
                (stmt.columns ?? []).map((f) => wireField(f as Record<string, unknown>)),
              ),
              parameters: JSON.stringify(
                (stmt.parameters ?? []).map((f) => wireField(f as Record<string, unknown>)),
              ),
            }),
          );
        });
      });
    },
    cursor(conn: Conn, [kind, sql, values, highWater]: unknown[], ctx: OperationContext) {
      drainCursors(conn);
      const { opts, shape } = commandOptions(conn, kind as 'query' | 'execute', sql);
      return withTypeCast(opts, () =>
        ctx.handle(
          new Cursor(
            conn,
            kind as 'query' | 'execute',
            sql,
            values,
            shape,
            opts,
            highWater as number,
          ),
          'cursor',
        ),
      );
    },
  },

  handles: {
    statement: {
      methods: {
        execute({ conn, stmt }: { conn: Conn; stmt: PreparedStatement }, [values]: unknown[]) {
          const shape = conn.shapes.execute;
          return command(
            conn,
            (cb) =>
              conn.c.addCommand(
                new Execute(
                  { statement: stmt, values: values ?? [], rowsAsArray: true, nestTables: false },
                  cb,
                ),
              ),
            (rows, fields) => encodeResult(rows, fields, shape),
          );
        },
        close({ stmt }: { stmt: PreparedStatement }) {
          stmt.close();
        },
      },
    },
    cursor: {
      methods: {
        next: (cursor: Cursor, [count]: unknown[]) => cursor.next(count as number),
        close: (cursor: Cursor) => cursor.close(),
      },
      release(cursor: Cursor) {
        void cursor.close();
      },
    },
  },
});
