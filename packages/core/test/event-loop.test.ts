import { afterAll, describe, expect, it } from 'vitest';
import { pool as makePool } from './helpers.js';

describe('event-loop fairness', () => {
  // Stack capture makes the caller slower than the worker, so answers queue up on the port.
  const pool = makePool({ threads: 1, captureStacks: true });
  afterAll(() => pool.close());

  it('lets a 1 ms timer fire while 64 callers keep a fast worker answering', async () => {
    const s = await pool.openSession();
    let maxGap = 0;
    let last = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 1);
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < 30_000) await s.call('echo', [next++]);
    };
    try {
      await Promise.all(Array.from({ length: 64 }, lane));
    } finally {
      clearInterval(timer);
    }
    // Without pacing the messages of a turn, this went 50-110 ms without a tick here.
    expect(maxGap).toBeLessThan(40);
    await s.close();
  });
});
