import { CallsInFlight } from '@unblock/core';
import { describe, expect, it, vi } from 'vitest';

// What the uniform clients' close() waits on: their calls in flight, for up to a grace period.
describe('CallsInFlight', () => {
  it('settles at once when no call is in flight', async () => {
    const calls = new CallsInFlight();
    let done = false;
    void calls.settled(60_000).then(() => (done = true));
    await Promise.resolve();
    expect(done).toBe(true);
  });

  it('settles when the last call leaves, not before', async () => {
    const calls = new CallsInFlight();
    calls.enter();
    calls.enter();
    let done = false;
    const settled = calls.settled(60_000).then(() => (done = true));
    calls.leave();
    await new Promise((resolve) => setImmediate(resolve));
    expect(done).toBe(false);
    expect(calls.count).toBe(1);
    calls.leave();
    await settled;
    expect(calls.count).toBe(0);
  });

  it('settles after the grace period when calls are still in flight', async () => {
    vi.useFakeTimers();
    try {
      const calls = new CallsInFlight();
      calls.enter();
      let done = false;
      const settled = calls.settled(20).then(() => (done = true));
      await vi.advanceTimersByTimeAsync(19);
      expect(done).toBe(false);
      await vi.advanceTimersByTimeAsync(1);
      await settled;
      expect(calls.count).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });

  it('lets every waiter go, and a later leave() without enter() changes nothing', async () => {
    const calls = new CallsInFlight();
    calls.enter();
    const waits = [calls.settled(60_000), calls.settled(60_000)];
    calls.leave();
    await Promise.all(waits);
    calls.leave();
    expect(calls.count).toBe(0);
    calls.enter();
    expect(calls.count).toBe(1);
  });
});
