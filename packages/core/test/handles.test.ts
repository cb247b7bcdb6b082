import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { HandleClosedError, RemoteHandle, type LeakEvent, type ReceivedRows } from '@unblock/core';
import { watchLeaks } from '@unblock/core/testing';
import { pool as makePool, sleep } from './helpers.js';

const gc = (globalThis as { gc?: () => void }).gc!;

async function collect(): Promise<void> {
  for (let i = 0; i < 5; i++) {
    gc();
    await sleep(20);
  }
}

describe('remote handles and leak detection', () => {
  const pool = makePool({ leakDetectionThreshold: 100, leaseKinds: ['counter'] });
  afterAll(() => pool.close());

  it('keeps objects in the worker and calls their methods in order', async () => {
    const s = await pool.openSession();
    const counter = (await s.call('counter', [10])) as RemoteHandle<{ start: number }>;
    expect(counter).toBeInstanceOf(RemoteHandle);
    expect(counter.kind).toBe('counter');
    expect(counter.meta).toEqual({ start: 10 });
    const sums = await Promise.all([
      counter.call('add', [1]),
      counter.call('add', [2]),
      counter.call('value'),
    ]);
    expect(sums).toEqual([11, 13, 13]);
    expect(pool.stats().handles.byKind.counter).toBe(1);
    const releasedBefore = (await s.call('releasedCounters')) as number;
    await counter.close();
    expect(await s.call('releasedCounters')).toBe(releasedBefore + 1);
    await expect(counter.call('value')).rejects.toBeInstanceOf(HandleClosedError);
    expect(pool.stats().handles.byKind.counter ?? 0).toBe(0);
    await s.close();
  });

  it('runs the calls made on a handle before close() in the same tick, then releases it', async () => {
    const s = await pool.openSession();
    for (let i = 0; i < 20; i++) {
      const counter = (await s.call('counter', [10])) as RemoteHandle;
      const added = counter.call('add', [i]);
      await counter.close();
      expect(await added).toBe(10 + i);
      await expect(counter.call('value')).rejects.toBeInstanceOf(HandleClosedError);
    }
    await s.close();
  });

  it('forgets the handles of a session that closed: no longer counted, never reported', async () => {
    const s = await pool.openSession();
    let counter: RemoteHandle | undefined = (await s.call('counter', [1])) as RemoteHandle;
    expect(pool.stats().handles.byKind.counter).toBe(1);
    await s.close();
    const events: LeakEvent[] = [];
    const onLeak = (event: LeakEvent): void => void events.push(event);
    pool.leaks.on('leak', onLeak);
    try {
      expect(counter.closed).toBe(true);
      expect(pool.stats().handles.byKind.counter ?? 0).toBe(0);
      counter = undefined;
      await collect();
      expect(events.filter((event) => event.kind === 'counter')).toEqual([]);
    } finally {
      pool.leaks.off('leak', onLeak);
    }
  });

  it('hands over once a handle named in the extra of a row set sent in chunks', async () => {
    const s = await pool.openSession();
    const releasedBefore = (await s.call('releasedCounters')) as number;
    // Four columns make chunks of 2048 rows: 10k rows come in five parts.
    const got = (await s.call('rowsWithCounter', [10_000])) as ReceivedRows;
    expect(got.rows).toHaveLength(10_000);
    const counter = (got.extra as { h: RemoteHandle }).h;
    expect(counter).toBeInstanceOf(RemoteHandle);
    expect(pool.stats().handles.byKind.counter).toBe(1);
    await collect();
    expect(await counter.call('add', [2])).toBe(2);
    expect(await s.call('releasedCounters')).toBe(releasedBefore);
    await counter.close();
    await s.close();
  });

  it('releases a collected unclosed handle in its worker and warns with its origin stack', async () => {
    const s = await pool.openSession();
    const events: LeakEvent[] = [];
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    pool.leaks.on('leak', (e) => events.push(e));
    const releasedBefore = (await s.call('releasedCounters')) as number;
    await (async function takeAndDrop() {
      await s.call('counter', [1]);
    })();
    await collect();
    // The worker freed its object, not only the caller's count.
    expect(await s.call('releasedCounters')).toBe(releasedBefore + 1);
    process.off('warning', onWarning);
    const collected = events.find((e) => e.reason === 'collected');
    expect(collected?.kind).toBe('counter');
    expect(collected?.stack).toContain('takeAndDrop');
    const warning = warnings.find(
      (w) => (w as Error & { code?: string }).code === 'UNBLOCK_WARN_LEAK',
    );
    expect(warning?.message).toContain('garbage-collected');
    expect(warning?.message).toContain('handles.test.ts');
    expect(pool.stats().handles.byKind.counter ?? 0).toBe(0);
    await s.close();
  });

  it('warns about a lease held past the threshold, then when it is returned', async () => {
    const s = await pool.openSession();
    const events: LeakEvent[] = [];
    const listener = (e: LeakEvent) => events.push(e);
    pool.leaks.on('leak', listener);
    const counter = (await s.call('counter', [1])) as RemoteHandle;
    await sleep(200);
    expect(events.map((e) => e.reason)).toContain('threshold');
    expect(events.find((e) => e.reason === 'threshold')?.stack).toContain('handles.test.ts');
    await counter.close();
    expect(events.map((e) => e.reason)).toContain('returned');
    pool.leaks.off('leak', listener);
    await s.close();
  });

  it('reports every handle still open when the pool closes, with a warning each', async () => {
    const other = makePool();
    const events: LeakEvent[] = [];
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    other.leaks.on('leak', (e) => events.push(e));
    const s = await other.openSession();
    const kept = [await s.call('counter', [1]), await s.call('counter', [2])];
    await other.close();
    await sleep(10);
    process.off('warning', onWarning);
    expect(events.filter((e) => e.reason === 'open-at-close')).toHaveLength(2);
    const atClose = warnings.filter(
      (w) => (w as Error & { code?: string }).code === 'UNBLOCK_WARN_LEAK',
    );
    expect(atClose).toHaveLength(2);
    expect(atClose[0].message).toContain('still open');
    expect(atClose[0].message).toContain('handles.test.ts');
    expect(kept).toHaveLength(2);
  });

  it('leaves kinds out of close-time reports when leaseKinds does not name them', async () => {
    const other = makePool({ leaseKinds: ['connection'] });
    const events: LeakEvent[] = [];
    other.leaks.on('leak', (e) => events.push(e));
    const s = await other.openSession();
    const kept = await s.call('counter', [1]);
    await other.close();
    expect(events).toEqual([]);
    expect(kept).toBeDefined();
  });

  it('gives test authors a leak check that fails on a leak', async () => {
    const s = await pool.openSession();
    const clean = watchLeaks(pool, { kinds: ['counter'] });
    const c = (await s.call('counter', [1])) as RemoteHandle;
    await c.close();
    await expect(clean.check()).resolves.toMatchObject({ events: [] });
    clean.stop();
    const dirty = watchLeaks(pool, { kinds: ['counter'] });
    const held = (await s.call('counter', [1])) as RemoteHandle;
    await expect(dirty.check()).rejects.toThrow(/still open/);
    dirty.stop();
    await held.close();
    await s.close();
  });

  it('checks handles of every kind when no kinds are given', async () => {
    const s = await pool.openSession();
    const leaks = watchLeaks(pool);
    const held = (await s.call('counter', [1])) as RemoteHandle;
    await expect(leaks.check()).rejects.toThrow(/- 1 counter handle\(s\) still open/);
    await held.close();
    await expect(leaks.check()).resolves.toEqual({ events: [], live: {} });
    leaks.stop();
    await s.close();
  });

  it('refuses to check without gc() rather than miss the leaks only a collection reveals', () => {
    // globalThis.gc cannot be removed from this process (vitest runs it with --expose-gc).
    const script = `
      import { offload, poolOf } from '@unblock/core';
      import { watchLeaks } from '@unblock/core/testing';
      const os = offload('node:os', { threads: 1 });
      const leaks = watchLeaks(poolOf(os));
      await os.cpus();
      await leaks.check().then(() => console.log('resolved'), (err) => console.log(err.message));
      await os[Symbol.asyncDispose]();
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: import.meta.dirname,
      encoding: 'utf8',
    });
    expect(out.trim()).toMatch(/^watchLeaks\(\)\.check\(\) needs globalThis\.gc .*--expose-gc/);
  });
});
