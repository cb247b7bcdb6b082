import type { WireField, WireShape } from './wire.js';

/**
 * The row shape mysql2 would build for these query options (`binary`: an `execute()` or a
 * prepared statement's result). mysql2's generated parsers nest only for `nestTables === true`
 * and prefix for a string, and let either win over `rowsAsArray`. With `disableEval`, its static
 * parsers let `rowsAsArray` win, and the text one (`query()`) nests for any truthy
 * `nestTables`.
 *
 * @example
 * ```ts
 * shapeOf({ nestTables: 1 }, false); // { kind: 'object' }, as mysql2's generated parser
 * shapeOf({ nestTables: 1, disableEval: true }, false); // { kind: 'nest' }
 * ```
 */
export function shapeOf(
  options: { rowsAsArray?: unknown; nestTables?: unknown; disableEval?: unknown },
  binary: boolean,
): WireShape {
  const { nestTables, rowsAsArray, disableEval } = options;
  if (disableEval && rowsAsArray) return { kind: 'array' };
  if (typeof nestTables === 'string') return { kind: 'prefix', sep: nestTables };
  if (nestTables === true || (disableEval && !binary && nestTables)) return { kind: 'nest' };
  if (rowsAsArray) return { kind: 'array' };
  return { kind: 'object' };
}

/** Column keys of a flat shape: mysql2's `table + separator + name` for a string `nestTables`. */
export function columnKeys(fields: readonly WireField[], shape: WireShape): string[] {
  if (shape.kind === 'prefix') return fields.map((f) => `${f.table}${shape.sep}${f.name}`);
  return fields.map((f) => f.name);
}

/** Nests row arrays by table (`nestTables: true`): `{ [table]: { [name]: value } }`, plain objects. */
export function nestRows(
  rows: unknown[],
  fields: readonly { table: string; name: string }[],
): Record<string, Record<string, unknown>>[] {
  const tables = fields.map((f) => f.table);
  const names = fields.map((f) => f.name);
  const distinct = [...new Set(tables)];
  const out = new Array<Record<string, Record<string, unknown>>>(rows.length);
  for (let i = 0; i < rows.length; i++) {
    const values = rows[i] as unknown[];
    const row: Record<string, Record<string, unknown>> = {};
    for (const table of distinct) row[table] = {};
    for (let c = 0; c < names.length; c++) row[tables[c]][names[c]] = values[c];
    out[i] = row;
  }
  return out;
}

/** Builds the final rows from row arrays in the worker (used for multi-statement results). */
export function shapeRows(
  rows: unknown[][],
  fields: readonly WireField[],
  shape: WireShape,
): unknown[] {
  if (shape.kind === 'array') return rows;
  if (shape.kind === 'nest') return nestRows(rows, fields);
  const keys = columnKeys(fields, shape);
  return rows.map((values) => {
    const row: Record<string, unknown> = {};
    for (let c = 0; c < keys.length; c++) row[keys[c]] = values[c];
    return row;
  });
}
