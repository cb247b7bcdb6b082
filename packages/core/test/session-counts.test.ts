import { AbortError, type Pool, type Session } from '@unblock/core';
import { startSessionCountsAt } from '@unblock/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { callReached, MAX_CALL_ID, nextCallId } from '../src/session-counts.js';
import {
  countPosts,
  interruptibleDriver,
  isCalls,
  pool as makePool,
  raiseFlag,
} from './helpers.js';

// A session's message counts and call ids are kept in Int32 slots, and a long-lived session
// (a database's writer) makes more than 2^31 calls: both must go round. The sessions here start
// a few calls short of the limit, and each way a call travels is taken past it.
const NEAR = { count: 2 ** 31 - 1 - 12, lastCallId: MAX_CALL_ID - 12 };

describe('call ids', () => {
  it('go from the largest back to 1, and are compared the short way round', () => {
    expect(nextCallId(0)).toBe(1);
    expect(nextCallId(MAX_CALL_ID)).toBe(1);
    expect(callReached(0, 1)).toBe(false);
    expect(callReached(5, 5)).toBe(true);
    expect(callReached(5, 6)).toBe(false);
    expect(callReached(1, MAX_CALL_ID)).toBe(true);
    expect(callReached(MAX_CALL_ID, 1)).toBe(false);
  });
});

describe('a session past 2^31 messages and calls', () => {
  let pool: Pool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  async function openNear(
    options: Parameters<typeof makePool>[0] = {},
    start = NEAR,
  ): Promise<Session> {
    pool = makePool({ threads: 1, ...options });
    const before = startSessionCountsAt(start);
    try {
      return await pool.openSession();
    } finally {
      startSessionCountsAt(before);
    }
  }

  for (const multiplexSessions of [false, true]) {
    it(`answers calls awaited one by one and made together (multiplexSessions: ${multiplexSessions})`, async () => {
      const session = await openNear({ multiplexSessions });
      // Awaited in turn: by lane when the session has one, each a message of its own.
      const posts = countPosts(isCalls);
      try {
        for (let i = 0; i < 40; i++) expect(await session.call('echo', [i])).toBe(i);
      } finally {
        posts.restore();
      }
      // Some went by lane (a call sent by lane posts nothing), so the lane went round too.
      if (!multiplexSessions) expect(posts.count).toBeLessThan(40);
      // Made together: batches by port.
      const values = Array.from({ length: 40 }, (_, i) => `v${i}`);
      expect(await Promise.all(values.map((v) => session.call('echo', [v])))).toEqual(values);
      for (let i = 0; i < 20; i++) expect(await session.call('echo', [i])).toBe(i);
    });

    it(`skips a call aborted while queued behind the last id (multiplexSessions: ${multiplexSessions})`, async () => {
      // The running call has the largest id, the aborted one id 1.
      const session = await openNear(
        { multiplexSessions },
        { count: NEAR.count, lastCallId: MAX_CALL_ID - 1 },
      );
      const controller = new AbortController();
      const slow = session.call('sleep', [50]);
      const skipped = session.call('echo', ['never'], { signal: controller.signal });
      controller.abort();
      await expect(skipped).rejects.toMatchObject({ name: 'AbortError', state: 'queued' });
      expect(await slow).toBe(50);
      expect(await session.call('echo', ['after'])).toBe('after');
    });
  }

  it('interrupts the running call with the first id after the last, and only it', async () => {
    // The last call done has the largest id; the interrupted one has id 1.
    const session = await openNear(
      { driver: interruptibleDriver, interrupt: raiseFlag },
      { count: NEAR.count, lastCallId: MAX_CALL_ID },
    );
    const controller = new AbortController();
    const running = session.call('spin', [5_000], { signal: controller.signal });
    const next = session.call('spin', [1, 'next']);
    setTimeout(() => controller.abort(), 50);
    const error = await running.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).toBeInstanceOf(AbortError);
    expect(error).toMatchObject({ state: 'running' });
    expect(await next).toBe(1);
    expect(await session.call('log')).toContain('next');
  });
});
