import { setTimeout as delay } from 'node:timers/promises';

/** Waits `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => delay(ms);

/** What a promise did: its value or its rejection, and when it settled. */
export interface Settled<T> {
  ok: boolean;
  value?: T;
  error?: unknown;
  /** performance.now() when it settled. */
  at: number;
}

/** Never rejects: records how `promise` settled, so a test can look at it later. */
export function settle<T>(promise: Promise<T>): Promise<Settled<T>> {
  return promise.then(
    (value) => ({ ok: true, value, at: performance.now() }),
    (error: unknown) => ({ ok: false, error, at: performance.now() }),
  );
}

/** Rejects with a clear message if `promise` takes longer than `ms`: a hang becomes a failure. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: did not settle within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The error a promise rejects with; fails if it resolves. */
export async function rejection(
  promise: Promise<unknown>,
  what = 'the call',
): Promise<Error & Record<string, unknown>> {
  try {
    await promise;
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error(`${what} resolved, but it should have rejected`);
}

/** Collects an async iterable into an array. */
export async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of iterable) out.push(item);
  return out;
}

/** Counts rows of a table through the client, as a number. */
export async function count(
  client: { query(sql: string): Promise<{ rows: Record<string, unknown>[] }> },
  table: string,
  where = '',
): Promise<number> {
  const { rows } = await client.query(
    `select count(*) as n from ${table}${where ? ` where ${where}` : ''}`,
  );
  return Number(rows[0].n);
}
