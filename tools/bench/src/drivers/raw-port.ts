import { MessageChannel, Worker } from 'node:worker_threads';

/**
 * A raw MessagePort ping-pong with a worker: `call(value)` posts `[id, value]` and resolves
 * when the worker posts it back.
 *
 * @example
 * ```ts
 * const echo = await openRawPort();
 * await echo.call(1);
 * await echo.close();
 * ```
 */
export interface RawPort {
  call(value: number): Promise<unknown>;
  close(): Promise<void>;
}

/**
 * Starts the echo worker and waits until it answers.
 *
 * @example
 * ```ts
 * const echo = await openRawPort();
 * ```
 */
export async function openRawPort(): Promise<RawPort> {
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(new URL('../fixtures/echo-worker.js', import.meta.url), {
    workerData: { port: port2 },
    transferList: [port2],
  });
  const waiting = new Map<number, (value: unknown) => void>();
  let nextId = 1;
  port1.on('message', ([id, value]: [number, unknown]) => {
    const resolve = waiting.get(id);
    waiting.delete(id);
    resolve?.(value);
  });
  const call = (value: number): Promise<unknown> =>
    new Promise((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      port1.postMessage([id, value]);
    });
  await call(0);
  return {
    call,
    async close() {
      port1.close();
      await worker.terminate();
    },
  };
}
