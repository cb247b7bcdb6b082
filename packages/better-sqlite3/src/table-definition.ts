const GeneratorFunction = Object.getPrototypeOf(function* () {}) as object;

/**
 * A function's arity, checked as the driver checks it (with its message) wherever it reads one.
 *
 * @example
 * ```ts
 * checkedLength(2); // 2
 * checkedLength(-1); // TypeError: Expected function.length to be a positive integer
 * ```
 */
export function checkedLength(length: unknown): number {
  if (!Number.isInteger(length) || (length as number) < 0) {
    throw new TypeError('Expected function.length to be a positive integer');
  }
  return length as number;
}

/** The parameters the driver infers from `rows.length`: `$1`, `$2`, ... */
function inferParameters(rows: { length: unknown }): string[] {
  return Array.from({ length: checkedLength(rows.length) }, (_, i) => `$${i + 1}`);
}

/**
 * What the driver reads of a `db.table()` definition object, each property read once: other
 * properties (helper methods, tags) are not its business, and need not cross to the workers.
 */
export interface CheckedTableDefinition {
  rows: (...args: never[]) => unknown;
  columns: string[];
  /** The given `parameters`, `safeIntegers` and `directOnly` (when given). */
  options: { parameters?: string[]; safeIntegers?: boolean; directOnly?: boolean };
}

/**
 * Checks a `db.table()` definition object as the driver does, in its order and with its
 * messages, so a bad one throws at the call instead of failing later in the workers.
 *
 * @example
 * ```ts
 * checkTableDefinition({ columns: ['value'], *rows() { yield [1]; } }, 'series'); // its parts
 * checkTableDefinition({ columns: [], *rows() {} }, 'series'); // RangeError: ... with zero columns
 * ```
 */
export function checkTableDefinition(
  def: Record<string, unknown>,
  name: string,
): CheckedTableDefinition {
  const prefix = `Virtual table module "${name}" used a table definition`;
  if (!Object.hasOwn(def, 'rows')) throw new TypeError(`${prefix} without a "rows" property`);
  if (!Object.hasOwn(def, 'columns')) throw new TypeError(`${prefix} without a "columns" property`);
  const rows = def.rows;
  if (typeof rows !== 'function' || Object.getPrototypeOf(rows) !== GeneratorFunction) {
    throw new TypeError(
      `${prefix} with an invalid "rows" property (should be a generator function)`,
    );
  }
  let columns = def.columns;
  if (!Array.isArray(columns) || !(columns = [...columns]).every((c) => typeof c === 'string')) {
    throw new TypeError(
      `${prefix} with an invalid "columns" property (should be an array of strings)`,
    );
  }
  const names = columns as string[];
  if (names.length !== new Set(names).size) {
    throw new TypeError(`${prefix} with duplicate column names`);
  }
  if (names.length === 0) throw new RangeError(`${prefix} with zero columns`);
  let parameters: unknown;
  if (Object.hasOwn(def, 'parameters')) {
    parameters = def.parameters;
    if (
      !Array.isArray(parameters) ||
      !(parameters = [...parameters]).every((p) => typeof p === 'string')
    ) {
      throw new TypeError(
        `${prefix} with an invalid "parameters" property (should be an array of strings)`,
      );
    }
  } else {
    parameters = inferParameters(rows);
  }
  const params = parameters as string[];
  if (params.length !== new Set(params).size) {
    throw new TypeError(`${prefix} with duplicate parameter names`);
  }
  if (params.length > 32) {
    throw new RangeError(`${prefix} with more than the maximum number of 32 parameters`);
  }
  for (const parameter of params) {
    if (names.includes(parameter)) {
      throw new TypeError(
        `${prefix} with column "${parameter}" which was ambiguously defined as both a column and parameter`,
      );
    }
  }
  const options: CheckedTableDefinition['options'] = {};
  if (Object.hasOwn(def, 'parameters')) options.parameters = params;
  for (const key of ['safeIntegers', 'directOnly'] as const) {
    if (!Object.hasOwn(def, key)) continue;
    const value = def[key];
    if (typeof value !== 'boolean') {
      throw new TypeError(`${prefix} with an invalid "${key}" property (should be a boolean)`);
    }
    options[key] = value;
  }
  return { rows: rows as CheckedTableDefinition['rows'], columns: names, options };
}
