import { createPool, type PoolOptions } from '@unblock/core';

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
