import { afterAll, describe, expect, it } from 'vitest';
import { pool as makePool, sleep } from './helpers.js';

// The driver hook that lets a blocking driver share work over calls that arrived together
// (better-sqlite3's readers run such reads in one read transaction): `ctx.moreQueued` and
// `endBatch`. A batch must never take in a call sent after it began.
describe('batches of calls (ctx.moreQueued, driver.endBatch)', () => {
  const pool = makePool({ threads: 1 });
  afterAll(() => pool.close());

  it('tells each call whether more wait behind it, and ends the batch after the last', async () => {
    const s = await pool.openSession();
    await Promise.all(['a', 'b', 'c'].map((tag) => s.call('batchProbe', [tag])));
    expect(await s.call('takeBatchEvents')).toEqual([
      ['a', true],
      ['b', true],
      ['c', false],
      'end',
    ]);
    // A lone call is a batch of one.
    await s.call('batchProbe', ['d']);
    expect(await s.call('takeBatchEvents')).toEqual([['d', false], 'end']);
    await s.close();
  });

  it('ends a batch before a call sent after it began', async () => {
    const s = await pool.openSession();
    const first = [s.call('batchProbe', ['a', 300]), s.call('batchProbe', ['b'])];
    // 'a' is running: 'c' arrives while the batch of 'a' and 'b' goes on.
    await expect.poll(() => pool.stats().running).toBe(1);
    const late = s.call('batchProbe', ['c']);
    await Promise.all([...first, late]);
    const events = (await s.call('takeBatchEvents')) as unknown[];
    expect(events.indexOf('end')).toBeGreaterThan(
      events.findIndex((e) => (e as string[])[0] === 'a'),
    );
    expect(events.indexOf('end')).toBeLessThan(events.findIndex((e) => (e as string[])[0] === 'c'));
    expect(events.at(-1)).toBe('end');
    await s.close();
  });

  it('ends a batch before it awaits an asynchronous operation', async () => {
    const s = await pool.openSession();
    await Promise.all([
      s.call('batchProbe', ['a']),
      s.call('sleep', [20]),
      s.call('batchProbe', ['b']),
    ]);
    expect(await s.call('takeBatchEvents')).toEqual([['a', true], 'end', ['b', false], 'end']);
    await s.close();
  });

  it('ends a batch before a large result waits to stream', async () => {
    const streaming = await pool.openSession();
    const other = await pool.openSession(); // on the same worker: the pool has one thread
    const probe = streaming.call('batchProbe', ['a']);
    // Rows that keep coming until openGate: the stream waits for them, its session's batch ended.
    const rows = streaming.call('growingRows', [5_000, 10]);
    await probe;
    await sleep(50);
    expect(await other.call('takeBatchEvents')).toEqual([['a', true], 'end']);
    await other.call('openGate');
    expect(((await rows) as { rows: unknown[] }).rows).toHaveLength(5_010);
    await other.close();
    await streaming.close();
  });
});
