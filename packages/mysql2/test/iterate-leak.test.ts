// A pool iterator dropped unfinished must not cost the pool its connection.
import { createPool, type Pool } from '@unblock/mysql2';
import { describe, expect, it } from 'vitest';
import { DB, dbAvailable, countsOf } from './helpers.js';

const gc = (globalThis as { gc?: () => void }).gc;

/** Reads one row and lets go of the iterator; in its own function so no local keeps it alive. */
async function readOneAndDrop(pool: Pool): Promise<unknown> {
  const rows = pool.iterate<{ seq: number }>('SELECT seq FROM seq_1_to_100000', [], {
    batchSize: 100,
  });
  const first = await rows.next();
  return first.value;
}

/** Rejects instead of hanging when `promise` takes longer than `ms`. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

describe.skipIf(!dbAvailable || gc === undefined)('pool.iterate() dropped unfinished', () => {
  it('gives its connection back to the pool when collected, drained and usable', async () => {
    const pool = createPool({ ...DB, connectionLimit: 1, workers: 1 });
    const leaks: string[] = [];
    pool.leaks.on('leak', (event) => leaks.push(`${event.kind}:${event.reason}`));
    try {
      const [[{ cid }]] = (await pool.query('SELECT CONNECTION_ID() AS cid')) as unknown as [
        [{ cid: number }],
      ];
      expect(await readOneAndDrop(pool)).toEqual({ seq: 1 });
      expect(countsOf(pool)).toMatchObject({ all: 1, free: 0 });
      // The only connection is out: this waits until the collected iterator gives it back.
      const next = pool.query('SELECT 1 AS x, CONNECTION_ID() AS cid');
      next.catch(() => undefined);
      for (let i = 0; i < 10 && leaks.length === 0; i++) {
        gc!();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const [rows] = await within(next, 10_000, 'pool.query after the dropped iterator');
      // The same connection, and clean: the rest of the stream was read away first.
      expect(rows).toEqual([{ x: 1, cid }]);
      expect(leaks).toContain('iterator:collected');
      expect(countsOf(pool)).toMatchObject({ all: 1, free: 1, queued: 0 });
      const [more] = await within(pool.query('SELECT 2 AS y'), 10_000, 'a second pool.query');
      expect(more).toEqual([{ y: 2 }]);
    } finally {
      await pool.end();
    }
  });

  it('an iterator that runs to its end or is returned is not reported', async () => {
    const pool = createPool({ ...DB, connectionLimit: 1, workers: 1 });
    const leaks: string[] = [];
    pool.leaks.on('leak', (event) => leaks.push(`${event.kind}:${event.reason}`));
    try {
      let n = 0;
      for await (const _row of pool.iterate('SELECT seq FROM seq_1_to_1000')) n++;
      expect(n).toBe(1000);
      for await (const _row of pool.iterate('SELECT seq FROM seq_1_to_100000')) break;
      for (let i = 0; i < 3; i++) {
        gc!();
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const [rows] = await within(pool.query('SELECT 1 AS x'), 10_000, 'pool.query');
      expect(rows).toEqual([{ x: 1 }]);
      expect(leaks).toEqual([]);
    } finally {
      await pool.end();
    }
  });
});
