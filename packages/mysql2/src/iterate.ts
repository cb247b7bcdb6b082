import { setImmediate as nextTurn } from 'node:timers/promises';
import {
  iterateBatchSize,
  type CallOptions,
  type ReceivedRows,
  type RemoteHandle,
} from '@unblock/core';
import { missingSqlError } from './connection.js';
import { portableValues } from './raw-codec.js';
import { fieldsFromJson } from './results.js';
import { nestRows } from './row-shape.js';
import { splitQuery } from './split-query.js';
import type { FieldPacket, QueryOptions } from './types.js';
import type { RowsExtra } from './wire.js';

/**
 * Options of `iterate()`.
 *
 * @example
 * ```ts
 * for await (const row of pool.iterate('SELECT * FROM t', [], { batchSize: 1000, signal })) use(row);
 * ```
 */
export interface IterateRowsOptions {
  /** Rows per round trip to the worker. Default: 256. */
  batchSize?: number;
  /** Aborting stops the statement on the server and ends the iteration with an AbortError. */
  signal?: AbortSignal;
  /** Use mysql2's prepared-statement protocol (`execute`) instead of `query`. Default: false. */
  execute?: boolean;
}

/** What iterating needs from a connection. */
export interface CursorSource {
  /** Sends the `cursor` call (`[kind, sql, values, highWater]`), resolving its handle. */
  openCursor(args: unknown[], options?: CallOptions): Promise<unknown>;
}

/**
 * @internal Where iterateRows() publishes its open cursor, for an owner that must be able to
 * stop it without the iterator (the pool, when an iterator is collected unfinished).
 */
export interface CursorSlot {
  cursor: RemoteHandle | undefined;
}

/** Internal: the iterator over a worker-side cursor, one batch ahead of the consumer. */
export async function* iterateRows<Row>(
  source: CursorSource,
  sql: string | QueryOptions,
  values: unknown,
  options: IterateRowsOptions,
  done?: () => void,
  slot?: CursorSlot,
): AsyncGenerator<Row, void, undefined> {
  try {
    const batchSize = iterateBatchSize(options);
    // Refused as query() and execute() refuse it: mysql2 would fail writing the command, and a
    // failed write closes its connection.
    if (sql === undefined || sql === null)
      throw missingSqlError(sql, options.execute ? 'sql' : 'constructor');
    let wire: unknown = sql;
    let signal = options.signal;
    if (typeof sql === 'object' && sql !== null) {
      const [split, own] = splitQuery(sql);
      signal ??= own?.signal;
      wire = split;
    }
    const callOptions = signal === undefined ? undefined : { signal };
    const kind = options.execute ? 'execute' : 'query';
    const cursor = (await source.openCursor(
      [kind, wire, portableValues(values), batchSize * 4],
      callOptions,
    )) as RemoteHandle;
    if (slot !== undefined) slot.cursor = cursor;
    let fields: FieldPacket[] = [];
    // The next batch is fetched while the consumer works on this one. If it fails (an abort, a
    // close) before it is awaited, that is reported when it is awaited: marked handled meanwhile.
    const prefetch = (): Promise<unknown> => {
      const next = cursor.call('next', [batchSize], callOptions);
      next.catch(() => undefined);
      return next;
    };
    let pending: Promise<unknown> | undefined = prefetch();
    try {
      while (pending !== undefined) {
        const batch = (await pending) as ReceivedRows;
        const extra = batch.extra as RowsExtra & { done: boolean };
        pending = extra.done ? undefined : prefetch();
        if (extra.f !== '') fields = fieldsFromJson(extra.f as string);
        const rows = extra.nest === true ? nestRows(batch.rows, fields) : batch.rows;
        for (const row of rows) yield row as Row;
        // When the worker is ahead, every await below is already settled and the consumer's
        // loop would run on microtasks alone, starving timers and I/O for the whole result.
        // One turn of the event loop per batch keeps it fair, at a few microseconds a batch.
        if (pending !== undefined) await nextTurn();
      }
    } finally {
      await pending?.catch(() => undefined);
      await cursor.call('close', []).catch(() => undefined);
      await cursor.close();
      if (slot !== undefined) slot.cursor = undefined;
    }
  } finally {
    done?.();
  }
}
