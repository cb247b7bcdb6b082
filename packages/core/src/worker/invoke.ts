import { HandleClosedError, UnknownOperationError } from '../errors.js';
import { CONNECTION_TARGET } from '../protocol.js';
import { tagged, type EncodeContext, type DecodeContext } from '../value-codec.js';
import { HandleRef, type Driver, type HandleKind, type OperationContext } from './driver.js';
import { addHandle, getHandle, removeHandle } from './handle-table.js';
import { threadId } from 'node:worker_threads';

/** Runs one call: an operation on the connection, or a method of a handle. */
export function invoke(
  driver: Driver<unknown, unknown>,
  connection: unknown,
  target: number,
  op: string,
  args: unknown[],
  ctx: OperationContext,
): unknown {
  if (target === CONNECTION_TARGET) {
    const operation = driver.operations[op];
    if (typeof operation !== 'function' || !Object.hasOwn(driver.operations, op)) {
      throw new UnknownOperationError(op);
    }
    return operation(connection, args, ctx);
  }
  const entry = getHandle(target);
  if (entry === undefined) throw new HandleClosedError('remote');
  const kind = driver.handles?.[entry.kind] as HandleKind<object> | undefined;
  const method = kind?.methods?.[op];
  if (method !== undefined && Object.hasOwn(kind!.methods!, op))
    return method(entry.object, args, ctx);
  if (kind?.invoke !== undefined) return kind.invoke(entry.object, op, args, ctx);
  throw new UnknownOperationError(`${entry.kind}.${op}`);
}

/** Releases handles the caller closed or collected. */
export function releaseHandles(driver: Driver<unknown, unknown>, ids: number[]): void {
  for (const id of ids) {
    const entry = removeHandle(id);
    if (entry === undefined) continue;
    try {
      driver.handles?.[entry.kind]?.release?.(entry.object as never);
    } catch {
      // A release that fails has nobody to tell: the caller let go of the handle already.
    }
  }
}

/** The context a session host keeps for its calls, updating `moreQueued` before each. */
export interface SessionOperationContext extends OperationContext {
  moreQueued: boolean;
}

export function operationContext(sessionId: number): SessionOperationContext {
  return {
    sessionId,
    moreQueued: false,
    handle: (object, kind, meta) => addHandle(object, kind, meta, sessionId),
  };
}

/** Worker-side encoding: handles become tagged references the caller turns into RemoteHandles. */
export function resultEncodeContext(transfer: EncodeContext['transfer']): EncodeContext {
  return {
    transfer,
    encodeObject(value) {
      if (value instanceof HandleRef) {
        return tagged('NH', { id: value.id, kind: value.kind, meta: value.meta, thread: threadId });
      }
      return undefined;
    },
  };
}

/** Worker-side decoding: handle references in arguments become the objects they name. */
export const argsDecodeContext: DecodeContext = {
  decodeTagged(tag, data) {
    if (tag !== 'H') return undefined;
    const entry = getHandle(data.id as number);
    if (entry === undefined) throw new HandleClosedError('remote');
    return entry.object;
  },
};
