export { createPool, MAX_POOL_THREADS, Pool, validatePoolSettings } from './pool.js';
export type { PoolOptions, PoolStats, SessionPlacement } from './pool.js';
export { Session } from './session.js';
export type { ReceivedRows } from './session.js';
export { RemoteHandle } from './remote-handle.js';
export { withCallOptions, currentCallOptions, validateCallOptions } from './call-options.js';
export type { CallOptions } from './call-options.js';
export { AbortError } from './abort-error.js';
export type { AbortState } from './abort-error.js';
export {
  UnblockError,
  PoolClosedError,
  QueueFullError,
  TimeoutError,
  WorkerExitedError,
  SessionBrokenError,
  SessionClosedError,
  HandleClosedError,
  DataCloneError,
  UnknownOperationError,
  WorkerInitError,
  ErrorCodes,
} from './errors.js';
export type { ErrorCode } from './error-codes.js';
export { registerErrorClass, withCallerStack } from './error-codec.js';
export { hideInternalFrames } from './internal-frames.js';
export { assertSendable, copyView, registerValueCodec } from './value-codec.js';
export type { ValueCodec } from './value-codec.js';
export { LeakDetector } from './leak-detector.js';
export type { LeakEvent, LeakReason } from './leak-detector.js';
export type { DurationSummary } from './call-stats.js';
export { CallsInFlight } from './calls-in-flight.js';
export { channels } from './diagnostics.js';
export type { CallEvent } from './diagnostics.js';
export { offload, poolOf } from './offload.js';
export type { Offloaded, OffloadOptions, Remote } from './offload.js';
export type { RowShape } from './row-set.js';
export { RowBatch } from './row-batch.js';
export { iterateBatchSize } from './client.js';
export type { Client, QueryResult, QueryParams, IterateOptions } from './client.js';
export { toPortableFunction } from './portable-function.js';
export type { FunctionReference, PortableFunction } from './portable-function.js';
