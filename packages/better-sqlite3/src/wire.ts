// What the caller's thread and the worker agree on: connection options, statement flags, setup
// steps, and the shared state slots. Both sides import this file.
import type { PortableFunction } from '@unblock/core';

/** Row modes of a statement, sent with every call in the low bits of `flags`. */
export const Mode = { object: 0, pluck: 1, raw: 2, expand: 3 } as const;
/** The mode bits of `flags`. */
export const MODE_MASK = 3;
/** The safe-integers bit of `flags`. */
export const SAFE_INTEGERS = 4;
/**
 * The bit of `flags` by which `all` is asked for the statement's column names too (the uniform
 * client's `columns`): row objects do not show them all (a duplicate name is one key).
 */
export const WITH_NAMES = 8;

/**
 * What `all` answers with {@link WITH_NAMES} for a result small enough to travel as the
 * driver's row objects: those, and the statement's column names.
 */
export interface NamedRows {
  objects: unknown[];
  names: string[];
}

/**
 * Slots of the writer's shared Int32Array, written by the worker after each call. `wal` is 1
 * while reader connections may serve reads: the database is in WAL mode and the writer's
 * locking mode is NORMAL (in EXCLUSIVE mode it keeps the file locked, and readers could not read).
 * `interrupted` is set by the caller when it interrupts the writer's running call: a backup reads
 * it between its steps, which `sqlite3_interrupt()` does not stop.
 */
export const StateSlot = { inTransaction: 0, wal: 1, interrupted: 2 } as const;
export const STATE_SLOTS = 3;

/**
 * SQL that may change the journal mode or the locking mode: after it runs, the writer reads both
 * again to publish the `wal` slot.
 */
export const MODE_PRAGMA = /journal_mode|locking_mode/i;

/** The name every transaction savepoint uses (the driver's own, so raw SQL sees the same). */
export const SAVEPOINT = '`\t_bs3.\t`';

/** Something every connection of a database gets, in order: on open and when it is added. */
export type SetupStep =
  | {
      k: 'function';
      name: string;
      options: Record<string, unknown>;
      fn: PortableFunction;
      length: number;
    }
  | {
      k: 'aggregate';
      name: string;
      options: Record<string, unknown>;
      start: { value: unknown } | { fn: PortableFunction; length: number };
      step: PortableFunction;
      stepLength: number;
      inverse: PortableFunction | undefined;
      inverseLength: number;
      result: PortableFunction | undefined;
    }
  | {
      k: 'table';
      name: string;
      factory: PortableFunction;
      eponymous: boolean;
      def: TableDefinitionSpec | undefined;
    }
  | { k: 'loadExtension'; path: string; entryPoint: string | undefined }
  | { k: 'defaultSafeIntegers'; on: boolean }
  | { k: 'unsafeMode'; on: boolean }
  /** A connection setting made with `db.pragma()`, for the connections that did not run it. */
  | { k: 'pragma'; name: string; source: string };

/**
 * Whether the driver refuses the step while a cursor is open on the connection: all but the
 * two toggles (`unsafeMode` is what lets a write run beside a cursor).
 *
 * @example
 * ```ts
 * refusedWhileIterating({ k: 'unsafeMode', on: true }); // false
 * ```
 */
export function refusedWhileIterating(step: SetupStep): boolean {
  return step.k !== 'defaultSafeIntegers' && step.k !== 'unsafeMode';
}

/** An eponymous virtual table's definition, with its generator made portable. */
export interface TableDefinitionSpec {
  columns: string[];
  rows: PortableFunction;
  length: number;
  /** The other properties the driver reads: `parameters`, `safeIntegers`, `directOnly`. */
  rest: Record<string, unknown>;
}

/** What the worker's `open()` receives for each session. */
export interface ConnectionOptions {
  filename: string;
  /** A serialized database (a plain Uint8Array: open options cross without value encoding). */
  buffer: Uint8Array | undefined;
  readonly: boolean;
  fileMustExist: boolean;
  timeout: number;
  nativeBinding: string | undefined;
  /** Load @unblock/sqlite-interrupt so the caller's thread can stop a running statement. */
  interrupt: boolean;
  /** The writer's shared state (inTransaction, WAL), or undefined for readers. */
  state: Int32Array | undefined;
  setup: SetupStep[];
}

/** What a session's `info` says about its connection. */
export interface ConnectionInfo {
  /** The connection's id in @unblock/sqlite-interrupt (the token its interrupts carry). */
  interruptId: number | undefined;
}
