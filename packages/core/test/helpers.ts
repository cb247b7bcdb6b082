import { MessagePort } from 'node:worker_threads';
import { createPool, registerValueCodec, type PoolOptions } from '@unblock/core';

export const echoDriver = new URL('./fixtures/echo-driver.mjs', import.meta.url);
export const cancellableDriver = new URL('./fixtures/cancellable-driver.mjs', import.meta.url);
export const interruptibleDriver = new URL('./fixtures/interruptible-driver.mjs', import.meta.url);

/** The shared flag interrupt of interruptible-driver.mjs, run on the caller's thread. */
export function raiseFlag(token: unknown): boolean {
  Atomics.store(new Int32Array(token as SharedArrayBuffer), 0, 1);
  return true;
}

export function pool(options: Partial<PoolOptions> = {}) {
  return createPool({ driver: echoDriver, threads: 2, ...options });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Counts the messages this thread posts on any MessagePort (those `match` accepts) until
 * `restore()`. A call sent by a session's lane posts none.
 */
export function countPosts(match: (message: unknown) => boolean = () => true): {
  readonly count: number;
  restore(): void;
} {
  const original = MessagePort.prototype.postMessage;
  const counter = { count: 0, restore: () => void (MessagePort.prototype.postMessage = original) };
  MessagePort.prototype.postMessage = function (this: MessagePort, message: unknown, ...rest) {
    if (match(message)) counter.count++;
    return original.call(this, message, ...(rest as [])) as void;
  };
  return counter;
}

/** Whether a message is a session's batch of calls. */
export const isCalls = (message: unknown): boolean =>
  (message as { k?: string } | null)?.k === 'calls';

/**
 * A value this thread's encoding lets through (a codec known to this thread only) but structured
 * clone refuses (the codec encodes it as a function): for tests of a message the port refuses.
 */
export class Unclonable {}
registerValueCodec<Unclonable>({
  name: 'test-unclonable',
  is: (value): value is Unclonable => value instanceof Unclonable,
  encode: () => () => 'a function',
  decode: () => new Unclonable(),
});
