// @unblock/core/worker: what an adapter's worker module imports.
export { defineDriver, HandleRef } from './driver.js';
export type { Driver, HandleKind, OpenContext, Operation, OperationContext } from './driver.js';
export { RowSet, chunkRowCount } from '../row-set.js';
export type { ColumnValues } from '../row-set.js';
export { RowStream } from './row-stream.js';
export type { RowShape } from '../row-set.js';
export { registerErrorClass } from '../error-codec.js';
export { registerValueCodec } from '../value-codec.js';
export type { ValueCodec } from '../value-codec.js';
export { loadPortableFunction } from './load-portable-function.js';
export type { PortableFunction } from '../portable-function.js';
