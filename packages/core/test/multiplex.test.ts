import { afterAll, describe, expect, it } from 'vitest';
import {
  AbortError,
  DataCloneError,
  WorkerExitedError,
  createPool,
  type Pool,
  type Session,
} from '@unblock/core';
import { Unclonable, cancellableDriver, countPosts, pool as makePool, sleep } from './helpers.js';

/** Messages the caller's thread posts while `fn` runs. */
async function callerPosts(fn: () => Promise<unknown>): Promise<number> {
  const posts = countPosts();
  try {
    await fn();
    await new Promise((resolve) => setImmediate(resolve)); // what the tick queued has gone out
  } finally {
    posts.restore();
  }
  return posts.count;
}

async function openMany(pool: Pool, n: number): Promise<Session[]> {
  return Promise.all(Array.from({ length: n }, () => pool.openSession()));
}

/** Both ways: messages for 8 sessions whose calls are resumed together, in one tick. */
async function messagesForEightWaits(pool: Pool): Promise<{ sent: number; answered: number }> {
  const sessions = await openMany(pool, 9);
  const opener = sessions.pop()!;
  // Each of opener's calls once the worker has gone idle: a call made while it is still awake
  // (descheduled on a loaded machine just after posting the last answer) may go, and be
  // answered, through the session's shared-memory lane, which posts nothing.
  const call = async (op: string): Promise<unknown> => {
    await sleep(20);
    return opener.call(op);
  };
  await call('countPosts');
  await call('takePostCount');
  expect(await call('takePostCount')).toBe(1); // the answer of the call before
  let waiting: Promise<unknown> | undefined;
  const sent = await callerPosts(async () => {
    waiting = Promise.all(sessions.map((s) => s.call('waitGate')));
  });
  await sleep(50);
  await call('openGate');
  expect(await waiting).toEqual(Array(8).fill('opened'));
  // Less the answers of the two calls of `opener`, which the turn's message may also carry.
  const posts = (await call('takePostCount')) as number;
  await Promise.all([...sessions, opener].map((s) => s.close()));
  return { sent, answered: posts - 1 };
}

describe('multiplexSessions', () => {
  const pool = makePool({ threads: 1, multiplexSessions: true });
  afterAll(() => pool.close());

  it('sends the calls of many sessions in one tick as one message, and their answers of one turn as one', async () => {
    expect(await messagesForEightWaits(pool)).toEqual({ sent: 1, answered: 1 });
    // Without it, each session has a port: a message each way per session.
    const separate = makePool({ threads: 1 });
    try {
      expect(await messagesForEightWaits(separate)).toEqual({ sent: 8, answered: 9 });
    } finally {
      await separate.close();
    }
  });

  it('keeps each session in order and lets a slow session hold no other', async () => {
    const [slow, fast] = await openMany(pool, 2);
    const started = performance.now();
    const slowDone = slow.call('sleep', [400]).then(() => performance.now() - started);
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) => fast.call('record', [i])),
    );
    expect(answers).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
    expect(await fast.call('log')).toEqual(Array.from({ length: 50 }, (_, i) => i));
    expect(performance.now() - started).toBeLessThan(300);
    expect(await slowDone).toBeGreaterThanOrEqual(390);
    await Promise.all([slow.close(), fast.close()]);
  });

  it('closes one session while the others carry on', async () => {
    const [a, b] = await openMany(pool, 2);
    const pending = b.call('sleep', [50]);
    await a.close();
    await expect(a.call('echo', [1])).rejects.toThrow();
    expect(await pending).toBe(50);
    expect(await b.call('echo', ['still here'])).toBe('still here');
    await b.close();
  });

  it('fails every session of a worker that dies, and a new session works', async () => {
    const [victim, bystander] = await openMany(pool, 2);
    const waiting = bystander.call('sleep', [2_000]).catch((e: unknown) => e);
    const err = await victim.call('exit', [3]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerExitedError);
    expect((err as WorkerExitedError).exitCode).toBe(3);
    expect(await waiting).toBeInstanceOf(WorkerExitedError);
    const fresh = await pool.openSession();
    expect(await fresh.call('echo', ['after'])).toBe('after');
    await fresh.close();
  });
});

describe('multiplexSessions with an asynchronous driver that cancels', () => {
  const pool = createPool({ driver: cancellableDriver, threads: 1, multiplexSessions: true });
  afterAll(() => pool.close());

  it('cancels the running call of one session only', async () => {
    const [a, b] = await openMany(pool, 2);
    const controller = new AbortController();
    const started = performance.now();
    const aborted = a
      .call('sleep', [5_000], { signal: controller.signal })
      .catch((e: unknown) => e);
    const other = b.call('sleep', [300]);
    await sleep(50);
    controller.abort();
    const err = await aborted;
    expect(err).toBeInstanceOf(AbortError);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(await other).toBe(300);
    expect(await a.call('record', ['next'])).toBe(1);
    await Promise.all([a.close(), b.close()]);
  });
});

describe('a message the shared port refuses', () => {
  it('rejects only the call whose value it refused; calls of every session sent with it are answered', async () => {
    const pool = makePool({ threads: 1, multiplexSessions: true });
    try {
      const [a, b] = await openMany(pool, 2);
      const settled = await Promise.allSettled([
        a.call('echo', [1]),
        a.call('echo', [new Unclonable()]),
        a.call('echo', [3]),
        b.call('echo', ['other session']),
      ]);
      expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : 'rejected'))).toEqual([
        1,
        'rejected',
        3,
        'other session',
      ]);
      const error = (settled[1] as PromiseRejectedResult).reason as DataCloneError;
      expect(error).toBeInstanceOf(DataCloneError);
      expect((error.cause as Error).name).toBe('DataCloneError');
      expect(await Promise.all([a.call('echo', [4]), b.call('echo', [5])])).toEqual([4, 5]);
    } finally {
      await pool.close();
    }
  });

  it("answers with a DataCloneError the one result the worker's port refuses", async () => {
    const pool = makePool({ threads: 1, multiplexSessions: true });
    try {
      const [a, b] = await openMany(pool, 2);
      const settled = await Promise.allSettled([
        a.call('echo', [1]),
        a.call('unclonable'),
        b.call('echo', ['other session']),
      ]);
      expect(settled.map((s) => (s.status === 'fulfilled' ? s.value : 'rejected'))).toEqual([
        1,
        'rejected',
        'other session',
      ]);
      expect((settled[1] as PromiseRejectedResult).reason).toBeInstanceOf(DataCloneError);
      expect(await a.call('echo', [2])).toBe(2);
    } finally {
      await pool.close();
    }
  });
});
