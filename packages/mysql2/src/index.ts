import { hideInternalFrames, registerValueCodec } from '@unblock/core';
import type { TypedParameter as Mysql2TypedParameter } from 'mysql2';
import { createClient } from './client.js';
import { Connection } from './connection.js';
import { createConnection } from './create-connection.js';
import { Pool, createPool } from './pool.js';
import { PoolConnection } from './pool-connection.js';
import { PoolCluster, PoolNamespace, createPoolCluster } from './pool-cluster.js';
import { mysql2 } from './mysql2-internals.js';
import { PreparedStatementInfo } from './prepared-statement.js';
import { SQL_FRAGMENT_CODEC, SqlFragment } from './raw-codec.js';
import { typedParameterCodec } from './typed-parameter-codec.js';

const SqlString = mysql2 as unknown as {
  escape(value: unknown, stringifyObjects?: boolean, timezone?: string): string;
  escapeId(value: unknown, forbidQualified?: boolean): string;
  format(sql: string, values?: unknown, stringifyObjects?: boolean, timezone?: string): string;
  raw(sql: string): { toSqlString(): string };
};
const parserCache = mysql2 as unknown as {
  setMaxParserCache(n: number): void;
  clearParserCache(): void;
};

// Errors' stacks begin at the user's call, as mysql2/promise's do, not in this package's files
// (built, or as source maps name them).
hideInternalFrames(new URL('.', import.meta.url), new URL('../src/', import.meta.url));

registerValueCodec<SqlFragment>({
  name: SQL_FRAGMENT_CODEC,
  is: (value): value is SqlFragment => value instanceof SqlFragment,
  encode: (fragment) => fragment.sql,
  decode: (sql) => new SqlFragment(sql as string),
});
registerValueCodec(typedParameterCodec);

/**
 * mysql2's `escape` (sql-escaper), run locally.
 *
 * @example
 * ```ts
 * import { escape } from '@unblock/mysql2';
 * escape("it's"); // "'it\\'s'"
 * ```
 */
export const escape = SqlString.escape;
/**
 * mysql2's `escapeId`, run locally.
 *
 * @example
 * ```ts
 * import { escapeId } from '@unblock/mysql2';
 * escapeId('my table'); // '`my table`'
 * ```
 */
export const escapeId = SqlString.escapeId;
/**
 * mysql2's `format`, run locally.
 *
 * @example
 * ```ts
 * import { format } from '@unblock/mysql2';
 * format('SELECT ? AS n', [1]); // 'SELECT 1 AS n'
 * ```
 */
export const format = SqlString.format;
/**
 * mysql2's `raw`: a value inserted into SQL unescaped.
 *
 * @example
 * ```ts
 * import { raw } from '@unblock/mysql2';
 * await conn.query('SELECT ? AS now', [raw('NOW()')]);
 * ```
 */
export const raw = SqlString.raw;
/**
 * mysql2's column type codes.
 *
 * @example
 * ```ts
 * import { Types } from '@unblock/mysql2';
 * const [, fields] = await conn.query('SELECT NOW() AS t');
 * fields[0].columnType === Types.DATETIME; // true
 * ```
 */
export const Types = mysql2.Types as Record<string, number>;
/**
 * mysql2's charset codes.
 *
 * @example
 * ```ts
 * import { Charsets } from '@unblock/mysql2';
 * Charsets.UTF8MB4_UNICODE_CI; // 224
 * ```
 */
export const Charsets = mysql2.Charsets as Record<string, number>;
/**
 * mysql2's charset-to-encoding table.
 *
 * @example
 * ```ts
 * import { CharsetToEncoding } from '@unblock/mysql2';
 * CharsetToEncoding[45]; // 'utf8'
 * ```
 */
export const CharsetToEncoding = mysql2.CharsetToEncoding as string[];
/**
 * mysql2's typed parameter factories: a value sent with an explicit MySQL type by `execute()`.
 *
 * @example
 * ```ts
 * import { TypedParameter } from '@unblock/mysql2';
 * await conn.execute('SELECT ? AS n', [TypedParameter.LONGLONG.unsigned(5n)]);
 * ```
 */
export const TypedParameter = mysql2.TypedParameter as Mysql2TypedParameter;

/**
 * mysql2's parser cache size, applied in this thread (the workers keep mysql2's default).
 *
 * @example
 * ```ts
 * setMaxParserCache(1000);
 * ```
 */
export function setMaxParserCache(max: number): void {
  parserCache.setMaxParserCache(max);
}

/**
 * Clears mysql2's parser cache in this thread.
 *
 * @example
 * ```ts
 * clearParserCache();
 * ```
 */
export function clearParserCache(): void {
  parserCache.clearParserCache();
}

export {
  createConnection,
  createPool,
  createPoolCluster,
  createClient,
  PoolCluster,
  PoolCluster as PromisePoolCluster,
  PoolNamespace,
  Connection,
  PoolConnection,
  Pool,
  Pool as PromisePool,
  Connection as PromiseConnection,
  PoolConnection as PromisePoolConnection,
  PreparedStatementInfo,
};
export type { MysqlClient, MysqlClientOptions } from './client.js';
export type { PoolClusterOptions, PoolClusterSelector } from './pool-cluster.js';
export type { IterateRowsOptions } from './iterate.js';
export type {
  ConnectionOptions,
  FieldPacket,
  OkPacket,
  PoolOptions,
  ProcedureCallPacket,
  QueryOptions,
  QueryResult,
  ResultSetHeader,
  RowDataPacket,
} from './types.js';
// mysql2/promise's other types, for code that names them (`QueryError`, `TypeCast`, `SqlValue`,
// ...): the same declarations, since the values they describe are mysql2's own. They keep
// mysql2's own documentation (what an editor shows is mysql2's typings), with no @example of ours.
export type {
  AuthPlugin,
  AuthPluginDefinition,
  ConnectTraceContext,
  ConnectionConfig,
  ConnectionState,
  ErrorPacketParams,
  ExecuteTraceContext,
  ExecuteValues,
  Field,
  IntegerTypedParameterFactory,
  JsonTypedParameterFactory,
  OkPacketParams,
  PoolConnectTraceContext,
  Prepare,
  PrepareStatementInfo,
  Query,
  QueryError,
  QueryTraceContext,
  QueryValues,
  Raw,
  SqlValue,
  SslOptions,
  Timezone,
  TypeCast,
  TypeCastField,
  TypeCastGeometry,
  TypeCastNext,
  TypeCastType,
  TypedParameterFactory,
  TypedParameterInput,
  TypedParameterValue,
} from 'mysql2/promise';

/**
 * The module as one object, like `require('mysql2/promise')`.
 *
 * @example
 * ```ts
 * import mysql from '@unblock/mysql2';
 * const pool = mysql.createPool('mysql://root@127.0.0.1/test');
 * ```
 */
const mysql = {
  createConnection,
  createPool,
  createPoolCluster,
  createClient,
  escape,
  escapeId,
  format,
  raw,
  Types,
  Charsets,
  CharsetToEncoding,
  TypedParameter,
  setMaxParserCache,
  clearParserCache,
  Connection,
  PoolConnection,
  PromisePool: Pool,
  PromiseConnection: Connection,
  PromisePoolConnection: PoolConnection,
  PromisePoolCluster: PoolCluster,
};
export default mysql;
