import { availableParallelism } from 'node:os';
import { createPool as createCorePool, type Pool as CorePool } from '@unblock/core';

/** The worker module: compiled next to this file. */
export const driverUrl = new URL('./worker.js', import.meta.url);

/** Worker threads by default: one core stays free for the main thread, up to four. */
export function defaultWorkers(): number {
  return Math.max(1, Math.min(4, availableParallelism() - 1));
}

/** Options of {@link workerPool}. */
export interface WorkerPoolOptions {
  threads: number;
  name: string;
  leakDetectionThreshold?: number;
  /** How long the core pool's close() lets calls in flight finish. */
  closeTimeout?: number;
  captureStacks?: boolean;
  workerNice?: number;
}

/** A core pool hosting mysql2 connections. */
export function workerPool(options: WorkerPoolOptions): CorePool {
  return createCorePool({
    driver: driverUrl,
    threads: options.threads,
    name: options.name,
    leakDetectionThreshold: options.leakDetectionThreshold,
    closeTimeout: options.closeTimeout,
    workerNice: options.workerNice,
    leaseKinds: ['connection', 'cursor'],
    captureStacks: options.captureStacks,
    // Each connection has one query in flight at a time: over a port each, nearly every
    // answer would cross alone. Shared, the answers of one turn of the worker cross together.
    multiplexSessions: true,
  });
}

/**
 * Whether calls capture the caller's stack, from mysql2's `trace` option. mysql2 captures one per
 * call unless `trace: false`; here an explicit `trace: true` or `trace: false` decides, and
 * without one core's default applies (on, unless NODE_ENV is 'production'), since a stack per
 * query is a large part of a point select's cost on the caller's thread.
 */
export function captureStacksOf(
  user: Record<string, unknown>,
  config: { trace: unknown },
): boolean {
  // mysql2's rule: only `false` turns tracing off, from the options or from a `uri`'s query.
  // Both are read: a `uri` key replaces a falsy option, so `trace: false` with `?trace=true`
  // leaves the config's `trace` true.
  if (user.trace === false || config.trace === false) return false;
  if (user.trace === true) return true;
  return process.env.NODE_ENV !== 'production';
}

let shared: { pool: CorePool; users: number } | undefined;

/**
 * The workers that host `createConnection()` connections, shared by all of them: a thread per
 * connection would cost a thread start per connect. It is closed when the last connection ends,
 * so an idle process can exit. Each connection's session says whether its calls capture stacks
 * (`trace`).
 */
export function acquireSharedPool(): CorePool {
  shared ??= {
    pool: workerPool({ threads: defaultWorkers(), name: 'mysql2 connections' }),
    users: 0,
  };
  shared.users++;
  return shared.pool;
}

/** One connection of the shared pool ended. */
export function releaseSharedPool(pool: CorePool): void {
  if (shared === undefined || shared.pool !== pool) return;
  if (--shared.users > 0) return;
  shared = undefined;
  void pool.close();
}
