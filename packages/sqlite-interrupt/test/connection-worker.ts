// Drives test/fixtures/connection-worker.mjs: a worker thread owning better-sqlite3 connections.
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';

import { loadSqliteInterrupt } from '@unblock/sqlite-interrupt';

const FIXTURE = new URL('./fixtures/connection-worker.mjs', import.meta.url);

/** An error as the fixture sends it (structured clone would drop `code`). */
export interface WorkerError {
  name: string;
  message: string;
  code?: string;
  isSqliteError: boolean;
}

/** How a statement ended in the worker, and when (on {@link now}'s clock). */
export type Outcome =
  { ok: true; value: unknown; at: number } | { ok: false; error: WorkerError; at: number };

interface Reply {
  seq: number;
  started?: true;
  ok?: boolean;
  value?: unknown;
  error?: WorkerError;
  at?: number;
}

/** Wall-clock milliseconds comparable across threads (performance.now() is per thread). */
export const now = (): number => performance.timeOrigin + performance.now();

export const sleep = (ms: number): Promise<void> =>
  new Promise((resolve) => setTimeout(resolve, ms));

/** Rejects if `promise` has not settled within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not settled within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// Promise.withResolvers arrived in Node 22.
function deferred<T>(): {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: Error): void;
} {
  let resolve!: (value: T) => void;
  let reject!: (error: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A caller may await only one of a pair; the other must not surface as an unhandled rejection.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

const live = new Set<ConnectionWorker>();

export class ConnectionWorker {
  readonly ids = new Set<number>();
  private readonly worker = new Worker(FIXTURE);
  private readonly listeners = new Map<number, (reply: Reply) => void>();
  private seq = 0;
  private failure: Error | undefined;

  constructor() {
    live.add(this);
    this.worker.on('message', (reply: Reply) => this.listeners.get(reply.seq)?.(reply));
    const fail = (error: Error): void => {
      this.failure = error;
      for (const listener of this.listeners.values()) listener({ seq: -1 });
    };
    this.worker.on('error', fail);
    this.worker.on('exit', (code) => fail(new Error(`worker exited with code ${code}`)));
  }

  async open(
    filename: string,
    options: { entryPoint?: boolean } = {},
  ): Promise<{ conn: number; id: number }> {
    const opened = (await this.call('open', { filename, ...options })) as {
      conn: number;
      id: number;
    };
    this.ids.add(opened.id);
    return opened;
  }

  loadAgain(conn: number): Promise<number> {
    return this.call('loadAgain', { conn }) as Promise<number>;
  }

  get(conn: number, sql: string): Promise<unknown> {
    return this.call('get', { conn, sql });
  }

  close(conn: number): Promise<unknown> {
    return this.call('close', { conn });
  }

  /** Starts the never-ending query; `started` resolves with the time it began. */
  runForever(conn: number): { started: Promise<number>; finished: Promise<Outcome> } {
    const seq = ++this.seq;
    const started = deferred<number>();
    const finished = deferred<Outcome>();
    this.listeners.set(seq, (reply) => {
      if (reply.seq === -1) {
        const error = this.failure ?? new Error('worker failed');
        started.reject(error);
        finished.reject(error);
      } else if (reply.started) {
        started.resolve(reply.at!);
      } else {
        this.listeners.delete(seq);
        finished.resolve(reply as Outcome);
      }
    });
    this.worker.postMessage({ seq, op: 'runForever', conn });
    return { started: started.promise, finished: finished.promise };
  }

  /**
   * Interrupts anything still running, then ends the worker. terminate() cannot stop a thread
   * inside a SQLite call, so when the interrupt did not work (the bug under test) give up after a
   * second instead of hanging the hook; vitest's process teardown disposes of the thread.
   */
  async stop(): Promise<void> {
    live.delete(this);
    const sqliteInterrupt = loadSqliteInterrupt();
    for (const id of this.ids) sqliteInterrupt?.interrupt(id);
    await within(this.worker.terminate(), 1_000, 'worker.terminate()').catch(() => {});
  }

  private call(op: string, args: object): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    const seq = ++this.seq;
    return new Promise((resolve, reject) => {
      this.listeners.set(seq, (reply) => {
        this.listeners.delete(seq);
        if (reply.seq === -1) reject(this.failure);
        else if (reply.ok) resolve(reply.value);
        else reject(Object.assign(new Error(reply.error!.message), reply.error));
      });
      this.worker.postMessage({ seq, op, ...args });
    });
  }
}

/** For afterEach: stops every worker a test started. */
export async function stopAllWorkers(): Promise<void> {
  await Promise.all([...live].map((worker) => worker.stop()));
}
