import { afterAll, describe, expect, it } from 'vitest';
import {
  AbortError,
  PoolClosedError,
  SessionBrokenError,
  TimeoutError,
  WorkerExitedError,
  createPool,
  withCallOptions,
  type CallOptions,
  type Session,
} from '@unblock/core';
import {
  cancellableDriver,
  interruptibleDriver,
  pool as makePool,
  raiseFlag,
  sleep,
} from './helpers.js';
import { SKIP_MARKS } from '../src/protocol.js';

describe('cancellation of a blocking driver without an interrupt hook', () => {
  const pool = makePool();
  afterAll(() => pool.close());

  it('never runs a call aborted while queued', async () => {
    const s = await pool.openSession();
    const ac = new AbortController();
    const first = s.call('spin', [300]);
    const second = s.call('record', ['must not run'], { signal: ac.signal });
    setTimeout(() => ac.abort(new Error('changed my mind')), 50);
    const err = (await second.catch((e: unknown) => e)) as AbortError;
    expect(err).toBeInstanceOf(AbortError);
    expect(err).toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', state: 'queued' });
    expect((err.cause as Error).message).toBe('changed my mind');
    expect(await first).toBe(300);
    expect(await s.call('log')).toEqual([]);
    await s.close();
  });

  it('rejects an already aborted signal without sending', async () => {
    const s = await pool.openSession();
    const err = await s
      .call('record', [1], { signal: AbortSignal.abort('no') })
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ state: 'queued', cause: 'no' });
    expect(await s.call('log')).toEqual([]);
    await s.close();
  });

  it('stops a running call by replacing its worker; the session breaks, a new one works', async () => {
    const s = await pool.openSession();
    const started = performance.now();
    const err = (await s
      .call('spin', [5000], { signal: AbortSignal.timeout(100) })
      .catch((e: unknown) => e)) as AbortError;
    expect(performance.now() - started).toBeLessThan(2000);
    expect(err).toBeInstanceOf(AbortError);
    expect(err.state).toBe('running');
    await sleep(100);
    const later = await s.call('echo', [1]).catch((e: unknown) => e);
    expect(later).toBeInstanceOf(SessionBrokenError);
    expect((later as SessionBrokenError).cause).toBeInstanceOf(WorkerExitedError);
    const fresh = await pool.openSession();
    expect(await fresh.call('echo', ['ok'])).toBe('ok');
    await fresh.close();
  });

  it('never fails a stateless call queued behind one stopped by replacing its worker', async () => {
    const single = makePool({ threads: 1 });
    expect(await single.run('echo', ['warm'])).toBe('warm');
    const stopped = single.run('spin', [5000], { signal: AbortSignal.timeout(100) });
    const queued = [single.run('echo', ['other caller']), single.run('echo', ['and another'])];
    await expect(stopped).rejects.toMatchObject({ name: 'AbortError', state: 'running' });
    expect(await Promise.all(queued)).toEqual(['other caller', 'and another']);
    await single.close();
  });

  it('never fails a stateless call sent in the same batch before one stopped by replacing its worker', async () => {
    const single = makePool({ threads: 1 });
    expect(await single.run('echo', ['warm'])).toBe('warm');
    // One message carries all three: the first is answered before the stopped one starts (its
    // answer would otherwise wait for the batch, and die with the worker).
    const before = single.run('echo', ['before']);
    const stopped = single.run('spin', [5000], { signal: AbortSignal.timeout(100) });
    const after = single.run('echo', ['after']);
    await expect(stopped).rejects.toMatchObject({ name: 'AbortError', state: 'running' });
    expect(await Promise.all([before, after])).toEqual(['before', 'after']);
    await single.close();
  });

  it('never fails a finished call of the same batch on a multiplexed session either', async () => {
    const muxed = makePool({ threads: 1, multiplexSessions: true });
    const s = await muxed.openSession();
    expect(await s.call('echo', ['warm'])).toBe('warm');
    // A mux sends once per turn of the worker's loop: the answer must go before the call starts.
    const before = s.call('echo', ['before']);
    const stopped = s.call('spin', [5000], { signal: AbortSignal.timeout(100) });
    await expect(stopped).rejects.toMatchObject({ name: 'AbortError', state: 'running' });
    expect(await before).toBe('before');
    await muxed.destroy();
  });

  it('times out with an AbortError caused by a TimeoutError', async () => {
    const s = await pool.openSession();
    const first = s.call('spin', [200]);
    const err = (await s.call('echo', [1], { timeout: 20 }).catch((e: unknown) => e)) as AbortError;
    expect(err).toBeInstanceOf(AbortError);
    expect(err.cause).toBeInstanceOf(TimeoutError);
    expect((err.cause as TimeoutError).code).toBe('UNBLOCK_ERR_TIMEOUT');
    await first;
    await s.close();
  });

  it('changes nothing when the abort comes after the call finished', async () => {
    const s = await pool.openSession();
    const ac = new AbortController();
    expect(await s.call('record', ['x'], { signal: ac.signal })).toBe(1);
    ac.abort();
    expect(await s.call('log')).toEqual(['x']);
    expect(await s.call('echo', [2])).toBe(2);
    await s.close();
  });

  it('applies withCallOptions to every call inside its async context', async () => {
    const s = await pool.openSession();
    const first = s.call('spin', [200]);
    const ac = new AbortController();
    const inner = withCallOptions({ signal: ac.signal }, async () => {
      await Promise.resolve();
      return s.call('record', ['inside']);
    });
    ac.abort();
    await expect(inner).rejects.toBeInstanceOf(AbortError);
    await first;
    expect(await s.call('log')).toEqual([]);
    expect(() => withCallOptions({ timeout: -1 }, () => 1)).toThrow(RangeError);
    // A misspelling would leave the scope's calls without a timeout: refused, with a hint.
    const misspelled = { timout: 100 } as unknown as CallOptions;
    expect(() => withCallOptions(misspelled, () => 1)).toThrow(
      new TypeError('options.timout is not a call option; did you mean timeout?'),
    );
    await s.close();
  });
});

describe('cancellation with an interrupt hook on the caller thread', () => {
  const pool = createPool({ driver: interruptibleDriver, threads: 1, interrupt: raiseFlag });
  afterAll(() => pool.close());

  it('interrupts the running call and keeps the session', async () => {
    const s = await pool.openSession();
    const started = performance.now();
    const err = (await s
      .call('spin', [5000, 'long'], { signal: AbortSignal.timeout(100) })
      .catch((e: unknown) => e)) as AbortError;
    expect(performance.now() - started).toBeLessThan(2000);
    expect(err).toMatchObject({ name: 'AbortError', state: 'running' });
    expect(await s.call('spin', [1, 'after'])).toBe(1);
    expect(await s.call('log')).toEqual(['after']);
    await s.close();
  });

  it('stops a call aborted before its operation looked at the interrupt', async () => {
    const s = await pool.openSession();
    // The abort lands during the set-up, before the driver clears its flag and starts to look
    // at it (as SQLite does when a statement starts): one interrupt alone would be lost.
    const err = (await s
      .call('spinAfterSetup', [50, 5000, 'long'], { signal: AbortSignal.timeout(10) })
      .catch((e: unknown) => e)) as AbortError;
    expect(err).toMatchObject({ name: 'AbortError', state: 'running' });
    expect(await s.call('spin', [1, 'after'])).toBe(1);
    expect(await s.call('log')).toEqual(['after']);
    await s.close();
  });

  it('never interrupts another call, under many aborts', async () => {
    const s = await pool.openSession();
    const results: Promise<unknown>[] = [];
    const expected: string[] = [];
    for (let i = 0; i < 200; i++) {
      const ac = new AbortController();
      const victim = i % 2 === 0;
      results.push(
        s.call('spin', [victim ? 2 : 0, `c${i}`], { signal: ac.signal }).catch((e: unknown) => e),
      );
      if (victim) setTimeout(() => ac.abort(), Math.random() * 3);
      else expected.push(`c${i}`);
    }
    const settled = await Promise.all(results);
    settled.forEach((value, i) => {
      if (i % 2 === 1) expect(value).toBe(0); // bystanders always succeed
    });
    const log = (await s.call('log')) as string[];
    for (const tag of expected) expect(log).toContain(tag);
    await s.close();
  });

  it("stops, with the hook, a call still running when close()'s grace period ends", async () => {
    // Terminating the worker instead waits for a native call to return (a SQLite query may
    // run on for minutes), and the connection is never closed by its driver.
    let interrupts = 0;
    const closing = createPool({
      driver: interruptibleDriver,
      threads: 1,
      closeTimeout: 100,
      interrupt: (token) => {
        interrupts++;
        return raiseFlag(token);
      },
    });
    const s = await closing.openSession();
    const running = s.call('spin', [60_000, 'long']).catch((e: unknown) => e);
    await sleep(20);
    await closing.close();
    expect(await running).toBeInstanceOf(PoolClosedError);
    expect(interrupts).toBeGreaterThan(0);
  });
});

describe('cancellation with an interrupt hook that throws', () => {
  it('stops the call by replacing its worker, and warns, instead of an uncaught exception', async () => {
    const pool = createPool({
      driver: interruptibleDriver,
      threads: 1,
      interrupt: () => {
        throw new Error('hook failed');
      },
    });
    const warnings: Error[] = [];
    const onWarning = (warning: Error): void => void warnings.push(warning);
    process.on('warning', onWarning);
    try {
      const s = await pool.openSession();
      const started = performance.now();
      const err = await s
        .call('spin', [5000, 'long'], { signal: AbortSignal.timeout(50) })
        .catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'AbortError', state: 'running' });
      // Stopped: a fresh session (on the replacement thread) answers long before the 5 s call
      // would have ended.
      let fresh: Awaited<ReturnType<typeof pool.openSession>> | undefined;
      for (let attempt = 0; fresh === undefined && attempt < 50; attempt++) {
        fresh = await pool.openSession().catch(async () => {
          await sleep(20); // opened on the thread being replaced: try again
          return undefined;
        });
      }
      if (fresh === undefined) throw new Error('no session could be opened');
      expect(await fresh.call('spin', [1, 'after'])).toBe(1);
      expect(performance.now() - started).toBeLessThan(3000);
      await new Promise((resolve) => setImmediate(resolve));
      expect(warnings.map((w) => (w as { code?: string }).code)).toContain(
        'UNBLOCK_WARN_INTERRUPT_FAILED',
      );
      await fresh.close();
    } finally {
      process.off('warning', onWarning);
      await pool.destroy();
    }
  });
});

/**
 * Makes two calls at once and aborts the second a few microtasks later, `n` times: how many
 * were rejected as 'queued', and how many of those the driver ran all the same.
 */
async function abortSecondOfPairs(
  s: Session,
  n: number,
): Promise<{ queued: number; ranAnyway: number }> {
  let queued = 0;
  let ranAnyway = 0;
  for (let i = 0; i < n; i++) {
    const ac = new AbortController();
    const first = s.call('record', ['first']) as Promise<number>;
    const second = s.call('record', ['second'], { signal: ac.signal });
    await null;
    await null;
    await null;
    ac.abort();
    const err = (await second.then(
      () => undefined,
      (e: unknown) => e,
    )) as AbortError | undefined;
    const before = await first;
    const after = (await s.call('record', ['probe'])) as number;
    if (err?.state !== 'queued') continue;
    queued++;
    if (after === before + 2) ranAnyway++;
  }
  return { queued, ranAnyway };
}

describe('cancellation of an asynchronous driver', () => {
  const pool = createPool({ driver: cancellableDriver, threads: 1 });
  afterAll(() => pool.close());

  it('lets the driver cancel the running call and keeps the session', async () => {
    const s = await pool.openSession();
    const started = performance.now();
    const err = await s
      .call('sleep', [5000], { signal: AbortSignal.timeout(100) })
      .catch((e: unknown) => e);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(err).toMatchObject({ name: 'AbortError', state: 'running' });
    expect(await s.call('sleep', [1])).toBe(1);
    await s.close();
  });

  it('releases in the worker a handle that a call aborted while running returned after all', async () => {
    const s = await pool.openSession();
    const before = (await s.call('releasedThings')) as number;
    for (let i = 0; i < 5; i++) {
      // Aborted once it runs (a 5 ms timeout found it still queued on a loaded machine).
      const ac = new AbortController();
      const call = s.call('thingLater', [150], { signal: ac.signal });
      while (!s.busy) await sleep(1);
      ac.abort();
      await expect(call).rejects.toMatchObject({ name: 'AbortError', state: 'running' });
      await sleep(200); // its answer, a handle nobody receives, has come
    }
    expect(await s.call('releasedThings')).toBe(before + 5);
    await s.close();
  });

  it('skips a queued call', async () => {
    const s = await pool.openSession();
    const ac = new AbortController();
    const first = s.call('sleep', [100]);
    const second = s.call('record', ['never'], { signal: ac.signal });
    await sleep(20);
    ac.abort();
    await expect(second).rejects.toMatchObject({ state: 'queued' });
    await first;
    expect(await s.call('log')).toEqual([]);
    await s.close();
  });

  it('never runs a call it rejected as queued, when the abort lands as the call may start', async () => {
    // The abort looks at the call's state while the worker may be starting and finishing it:
    // read in the wrong order, a call that ran in between looked never started (it slipped
    // through about once in a thousand such aborts here).
    const s = await pool.openSession();
    const { queued, ranAnyway } = await abortSecondOfPairs(s, 5_000);
    expect(queued).toBeGreaterThan(0);
    expect(ranAnyway).toBe(0);
    await s.close();
  });

  it('never starts a call aborted while queued on a multiplexed session, even beyond its marks', async () => {
    const muxed = makePool({ threads: 1, multiplexSessions: true });
    try {
      const s = await muxed.openSession();
      const ac = new AbortController();
      const ahead = s.call('spin', [20]);
      // More aborted calls than the session has marks for, each 2 ms long.
      const calls = Array.from({ length: SKIP_MARKS.count + 20 }, (_, i) =>
        s.call('spin', [2], { signal: ac.signal }).then(
          () => `ran ${i}`,
          (err: AbortError) => err.state ?? err.name,
        ),
      );
      await sleep(5);
      ac.abort();
      // The caller's thread is busy for a while (as under load): it can mark no more calls as
      // slots free up, while the worker, done with the first call, reaches the unmarked ones.
      const until = performance.now() + 60;
      while (performance.now() < until);
      const outcomes = await Promise.all(calls);
      await ahead;
      // None ran, and the worker was not terminated to stop one.
      expect(outcomes.filter((outcome) => outcome !== 'queued')).toEqual([]);
      expect(await s.call('echo', ['alive'])).toBe('alive');
      await s.close();
    } finally {
      await muxed.destroy();
    }
  });

  it('keeps aborts of calls queued on a multiplexed session behind a blocking one, many of them, aborted once or twice', async () => {
    const muxed = makePool({ threads: 1, multiplexSessions: true });
    try {
      const s = await muxed.openSession();
      // Calls aborted twice (their signal, then their timeout) must leave no mark behind...
      for (let round = 0; round < 40; round++) {
        const ac = new AbortController();
        const ahead = s.call('spin', [3]);
        const twice = s.call('record', [`twice ${round}`], { signal: ac.signal, timeout: 1 });
        await null;
        ac.abort();
        await expect(twice).rejects.toMatchObject({ state: 'queued' });
        await ahead;
      }
      // ...so that, while the worker is blocked, far more than a handful of aborts are kept:
      // each of them is marked for the worker to skip (8 marks once, and the rest were
      // ignored until the worker reached them and ran them).
      const ac = new AbortController();
      const ahead = s.call('spin', [50]);
      const calls = Array.from({ length: 60 }, (_, i) =>
        s.call('record', [`queued ${i}`], { signal: ac.signal }).then(
          () => 'ran',
          (err: AbortError) => err.state,
        ),
      );
      await sleep(10);
      ac.abort();
      const outcomes = await Promise.all(calls);
      await ahead;
      const log = (await s.call('log')) as string[];
      expect(outcomes.filter((outcome) => outcome === 'queued').length).toBeGreaterThan(50);
      // And none said to be queued ran.
      for (const [i, outcome] of outcomes.entries()) {
        if (outcome === 'queued') expect(log).not.toContain(`queued ${i}`);
      }
      expect(log.filter((entry) => entry.startsWith('twice'))).toEqual([]);
      await s.close();
    } finally {
      await muxed.destroy();
    }
  });

  it('never runs a call it rejected as queued, on sessions sharing their worker port', async () => {
    // A mux end's worker cannot pull the cancel as it starts a call: without the caller's mark
    // in the shared state, nearly every such call ran.
    const muxed = createPool({ driver: cancellableDriver, threads: 1, multiplexSessions: true });
    try {
      const s = await muxed.openSession();
      const { queued, ranAnyway } = await abortSecondOfPairs(s, 1_000);
      expect(queued).toBeGreaterThan(0);
      expect(ranAnyway).toBe(0);
      await s.close();
    } finally {
      await muxed.close();
    }
  });
});

describe('session.cancelQueued()', () => {
  /** Calls `ahead`, then three calls queued behind it; cancels those once `ahead` runs. */
  async function cancelBehind(s: Session, ahead: [string, unknown[]]) {
    const aborted = new AbortController();
    const running = s.call(...ahead);
    const queued = [
      s.call('record', ['queued 1']),
      s.call('record', ['queued 2']),
      s.call('record', ['aborted first'], { signal: aborted.signal }),
    ];
    const unsent = s.call('record', ['made after, in the same tick']);
    await sleep(30);
    aborted.abort();
    let made = 0;
    s.cancelQueued(() => Object.assign(new Error(`dropped ${++made}`), { code: 'E_DROPPED' }));
    const outcomes = await Promise.all(
      [...queued, unsent].map((p) =>
        p.then(
          () => 'ran',
          (e: unknown) => e,
        ),
      ),
    );
    return { running: await running, outcomes, made };
  }

  it('drops the calls queued behind the running one, which goes on, with errors of its own', async () => {
    const pool = makePool({ threads: 1 });
    try {
      const s = await pool.openSession();
      const { running, outcomes, made } = await cancelBehind(s, ['spin', [150]]);
      expect(running).toBe(150);
      expect(outcomes[0]).toMatchObject({ message: 'dropped 1', code: 'E_DROPPED' });
      expect(outcomes[1]).toMatchObject({ message: 'dropped 2', code: 'E_DROPPED' });
      // One the caller aborted before stays an AbortError.
      expect(outcomes[2]).toMatchObject({ name: 'AbortError', state: 'queued' });
      expect(outcomes[3]).toMatchObject({ message: 'dropped 3' });
      expect(made).toBe(3);
      expect(await s.call('log')).toEqual([]);
      // The session goes on: calls made afterwards run.
      expect(await s.call('record', ['later'])).toBe(1);
      await s.close();
    } finally {
      await pool.close();
    }
  });

  it('drops them on a multiplexed session of an asynchronous driver too', async () => {
    const pool = createPool({ driver: cancellableDriver, threads: 1, multiplexSessions: true });
    try {
      const s = await pool.openSession();
      const { running, outcomes } = await cancelBehind(s, ['sleep', [150]]);
      expect(running).toBe(150);
      expect(outcomes.map((e) => (e as Error).message)).toEqual([
        'dropped 1',
        'dropped 2',
        'The operation was aborted while queued',
        'dropped 3',
      ]);
      expect(await s.call('log')).toEqual([]);
      expect(await s.call('record', ['later'])).toBe(1);
      await s.close();
    } finally {
      await pool.close();
    }
  });

  it('cancels none of them when making an error throws', async () => {
    const pool = makePool({ threads: 1 });
    try {
      const s = await pool.openSession();
      const running = s.call('spin', [100]);
      const queued = [s.call('record', ['a']), s.call('record', ['b']), s.call('record', ['c'])];
      await sleep(30);
      let made = 0;
      const failure = new Error('cannot make it');
      expect(() =>
        s.cancelQueued(() => {
          if (++made === 2) throw failure;
          return new Error('dropped');
        }),
      ).toThrow(failure);
      expect(await running).toBe(100);
      expect(await Promise.all(queued)).toEqual([1, 2, 3]);
      expect(await s.call('log')).toEqual(['a', 'b', 'c']);
      await s.close();
    } finally {
      await pool.close();
    }
  });
});
