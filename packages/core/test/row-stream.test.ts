import { afterAll, describe, expect, it } from 'vitest';
import { AbortError, createPool, type ReceivedRows } from '@unblock/core';
import { chunkRowCount } from '@unblock/core/worker';
import { cancellableDriver, pool as makePool, sleep } from './helpers.js';

describe('RowStream', () => {
  // One worker: the session that opens the gate counts the posts of the streaming one.
  const pool = makePool({ threads: 1 });
  afterAll(() => pool.close());

  it('sends rows in chunks while they are still being produced, and all of them in order', async () => {
    const [streaming, other] = await Promise.all([pool.openSession(), pool.openSession()]);
    await other.call('countPosts');
    await other.call('takePostCount');
    const result = streaming.call('growingRows', [5_000, 3_000]) as Promise<ReceivedRows>;
    // 5000 rows of 2 columns are more than a chunk: some go out before the source finishes
    // (within 100 ms here, later on a loaded machine). Each count holds the answer of the call
    // before it too.
    let chunksBeforeEnd = 0;
    for (let i = 0; i < 50 && chunksBeforeEnd === 0; i++) {
      await sleep(100);
      chunksBeforeEnd += ((await other.call('takePostCount')) as number) - 1;
    }
    expect(chunksBeforeEnd).toBeGreaterThan(0);
    // What went out is no longer held by the worker (a 4096-row chunk of the 5000).
    expect(await other.call('heldStreamRows')).toBe(5_000 - chunkRowCount(2));
    await other.call('openGate');
    const { rows, columns } = await result;
    expect(columns).toEqual(['id', 'name']);
    expect(rows).toHaveLength(8_000);
    expect(rows.every((row, i) => (row as { id: number }).id === i)).toBe(true);
    expect(rows[7_999]).toEqual({ id: 7_999, name: 'row 7999' });
    await Promise.all([streaming.close(), other.close()]);
  });

  it('packs the chunks of a stream as its rows come, while the caller has not caught up', async () => {
    const [streaming, other] = await Promise.all([pool.openSession(), pool.openSession()]);
    const step = chunkRowCount(2);
    const result = streaming.call('growingRows', [4 * step + 10, 5]) as Promise<ReceivedRows>;
    await new Promise<void>((resolve) => queueMicrotask(resolve)); // the call is posted
    // This thread is held: no credit goes back, so at most two chunks can be sent.
    const until = Date.now() + 300;
    while (Date.now() < until);
    // All four are packed (and their rows let go) all the same; the last 10 rows wait.
    expect(await other.call('heldStreamRows')).toBe(10);
    await other.call('openGate');
    const { rows } = await result;
    expect(rows).toHaveLength(4 * step + 15);
    expect(rows.every((row, i) => (row as { id: number }).id === i)).toBe(true);
    await Promise.all([streaming.close(), other.close()]);
  });

  it('drops the packed chunks of a stream that fails before the caller had credit for them', async () => {
    const [streaming, other] = await Promise.all([pool.openSession(), pool.openSession()]);
    await other.call('countPosts');
    await other.call('takePostCount');
    const step = chunkRowCount(2);
    // Four chunks' worth at once, and a failure 100 ms later.
    const result = streaming
      .call('growingRows', [4 * step, 0, false, 100])
      .catch((e: unknown) => e);
    await new Promise<void>((resolve) => queueMicrotask(resolve)); // the call is posted
    const until = Date.now() + 300;
    while (Date.now() < until); // no credit goes back: two of the four chunks are sent
    expect(((await result) as Error).message).toBe('source failed');
    await sleep(50);
    // Two chunks, the error, and the earlier takePostCount's answer (posted after it counted,
    // unless it went by lane): the two chunks still packed when the stream failed were not
    // sent once credit came back (6 posts when they were).
    expect(await other.call('takePostCount')).toBeLessThanOrEqual(4);
    await Promise.all([streaming.close(), other.close()]);
  });

  it('sends columns the driver packed itself in order with its rows, in the requested shape', async () => {
    const s = await pool.openSession();
    const expected: unknown[][] = [0, 1, 2].map((i) => [i, `row ${i}`, new Date(i)]);
    for (const id of [3, 7])
      expected.push(
        [id, `row ${id}`, new Date(id)],
        [id + 1, `row ${id + 1}`, new Date(id + 1)],
        [id + 2, null, new Date(Number.NaN)],
        [null, 'é', new Date(id + 3)],
      );
    expected.push([11, 'row 11', new Date(11)]);
    const arrays = (await s.call('packedStream', ['array', 2])) as ReceivedRows;
    expect(arrays.rows).toEqual(expected);
    const objects = (await s.call('packedStream', ['object', 2])) as ReceivedRows;
    expect(objects.rows).toEqual(expected.map(([id, name, at]) => ({ id, name, at })));
    const err = (await s
      .call('packedStream', ['array', 1, true])
      .catch((e: unknown) => e)) as Error;
    expect(err).toBeInstanceOf(RangeError);
    expect(err.message).toBe('a packed column holds 4 values where 3 rows were given');
    await s.close();
  });

  it('rejects with the source error when the stream fails after chunks went out, and the session goes on', async () => {
    const [streaming, other] = await Promise.all([pool.openSession(), pool.openSession()]);
    const result = streaming.call('growingRows', [5_000, 0, true]).catch((e: unknown) => e);
    await sleep(50);
    await other.call('openGate');
    const err = (await result) as Error & { code?: string };
    expect(err.message).toBe('source failed');
    expect(err.code).toBe('E_SOURCE');
    expect(await streaming.call('echo', ['after'])).toBe('after');
    await Promise.all([streaming.close(), other.close()]);
  });
});

describe('RowStream cancelled', () => {
  const pool = createPool({ driver: cancellableDriver, threads: 1 });
  afterAll(() => pool.close());

  it('counts as running until it ends: an abort reaches the driver and the session stays usable', async () => {
    const s = await pool.openSession();
    const controller = new AbortController();
    const rows = s.call('endlessRows', [], { signal: controller.signal }).catch((e: unknown) => e);
    await sleep(60);
    controller.abort();
    const err = (await rows) as AbortError;
    expect(err).toBeInstanceOf(AbortError);
    expect(err.message).toMatch(/running/);
    expect(await s.call('record', ['next'])).toBe(1);
    await s.close();
  });

  // The driver's stop can end the call before the caller has looked at whether it finished
  // (the caller's thread preempted just after posting the cancel: 3 runs in 16 on a loaded
  // machine); it must still reject as aborted, not with the error the driver's stop produced.
  it('rejects as aborted even when the driver stopped the call before the caller looked', async () => {
    const s = await pool.openSession();
    for (let i = 0; i < 30; i++) {
      const controller = new AbortController();
      const rows = s
        .call('endlessRows', [], { signal: controller.signal })
        .catch((e: unknown) => e);
      await sleep(5);
      controller.abort(new Error(`stop ${i}`));
      const err = (await rows) as AbortError;
      expect(err).toBeInstanceOf(AbortError);
      expect((err.cause as Error).message).toBe(`stop ${i}`);
    }
    await s.close();
  });
});
