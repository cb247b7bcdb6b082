import { describe, expect, it } from 'vitest';
import diagnostics_channel from 'node:diagnostics_channel';
import { getPriority } from 'node:os';
import {
  HandleClosedError,
  PoolClosedError,
  QueueFullError,
  SessionClosedError,
  createPool,
  offload,
  type CallEvent,
  type ReceivedRows,
  type RemoteHandle,
  type Session,
} from '@unblock/core';
import { threadNiceValues } from '@unblock/core/testing';
import { cancellableDriver, pool as makePool } from './helpers.js';

describe('pool lifecycle, backpressure and observability', () => {
  it('rejects calls past maxQueue with UNBLOCK_ERR_QUEUE_FULL and recovers', async () => {
    const pool = makePool({ maxQueue: 2 });
    const s = await pool.openSession();
    const a = s.call('spin', [50]);
    const b = s.call('echo', [2]);
    const c = await s.call('echo', [3]).catch((e: unknown) => e);
    expect(c).toBeInstanceOf(QueueFullError);
    expect((c as QueueFullError).code).toBe('UNBLOCK_ERR_QUEUE_FULL');
    expect(await Promise.all([a, b])).toEqual([50, 2]);
    expect(await s.call('echo', [4])).toBe(4);
    await pool.close();
  });

  it('spreads calls of run() made together over the workers, from a fresh pool too', async () => {
    const pool = makePool({ threads: 2 });
    try {
      // Made in one tick: each must see the ones before it, not only the calls already sent.
      const fresh = await Promise.all(Array.from({ length: 4 }, () => pool.run('threadId')));
      expect(new Set(fresh).size).toBe(2);
      const warm = await Promise.all(Array.from({ length: 6 }, () => pool.run('threadId')));
      for (const id of new Set(warm)) expect(warm.filter((x) => x === id)).toHaveLength(3);
    } finally {
      await pool.close();
    }
  });

  it('rejects a call of run() aborted while it waits for a worker at once, and counts it', async () => {
    const pool = makePool({ threads: 1 });
    try {
      const order: string[] = [];
      const controller = new AbortController();
      // The worker is still starting: these calls wait for it and its connection.
      const plain = pool.run('echo', [0]).then(() => order.push('answered'));
      const aborted = pool
        .run('echo', [1], { signal: controller.signal })
        .catch((e: unknown) => (order.push('aborted'), e));
      const timedOut = pool
        .run('echo', [2], { timeout: 1 })
        .catch((e: unknown) => (order.push('timed out'), e));
      setTimeout(() => controller.abort(new Error('gone')), 1);
      const [, abortError, timeoutError] = await Promise.all([plain, aborted, timedOut]);
      // Rejected while waiting, not once the worker could take them.
      expect(order.indexOf('answered')).toBe(2);
      expect(abortError).toMatchObject({ name: 'AbortError', state: 'queued' });
      expect((abortError as Error).cause).toEqual(new Error('gone'));
      expect(timeoutError).toMatchObject({ name: 'AbortError', state: 'queued' });
      expect((timeoutError as Error).cause).toMatchObject({ code: 'UNBLOCK_ERR_TIMEOUT' });
      expect(pool.stats().aborted).toBe(2);
      expect(await pool.run('echo', [3])).toBe(3);
    } finally {
      await pool.close();
    }
  });

  it("counts a run() call's timeout and wait from the call, not from when its worker took it", async () => {
    // Each worker's connection takes 300 ms to open: a first call waits that long for it.
    const slowOpen = { threads: 1, defaultOptions: { openDelayMs: 300 } };
    const timed = makePool(slowOpen);
    const waited = makePool(slowOpen);
    try {
      // The workers started, their stateless connections not opened yet.
      await Promise.all([timed, waited].map(async (p) => (await p.openSession({})).close()));
      const late = await timed.run('sleep', [350], { timeout: 400 }).catch((e: unknown) => e);
      expect(late).toMatchObject({ name: 'AbortError', state: 'running' });
      expect((late as Error).cause).toMatchObject({ code: 'UNBLOCK_ERR_TIMEOUT', timeout: 400 });
      // Stopping it took its worker (the driver cannot interrupt): a new one serves the next.
      expect(await timed.run('sleep', [50])).toBe(50);
      expect(await waited.run('sleep', [10])).toBe(10);
      expect(waited.stats().waitTime.max).toBeGreaterThanOrEqual(250);
    } finally {
      await Promise.all([timed.close(), waited.close()]);
    }
  });

  it('closes gracefully: work in flight finishes, later calls are refused, close is idempotent', async () => {
    const pool = makePool();
    const s = await pool.openSession();
    const running = s.call('spin', [150]);
    const closing = pool.close();
    expect(pool.close()).toBe(closing);
    await expect(s.call('echo', [1])).rejects.toBeInstanceOf(PoolClosedError);
    expect(await running).toBe(150);
    await closing;
    await expect(pool.openSession()).rejects.toBeInstanceOf(PoolClosedError);
  });

  it('closes pools, sessions and handles at the end of an `await using` block', async () => {
    let outer: ReturnType<typeof makePool>;
    let session: Session;
    let handle: RemoteHandle;
    {
      await using pool = makePool({ threads: 1 });
      outer = pool;
      {
        await using s = await pool.openSession();
        session = s;
        {
          await using counter = (await s.call('counter', [1])) as RemoteHandle;
          handle = counter;
          expect(await counter.call('add', [1])).toBe(2);
        }
        await expect(handle.call('value')).rejects.toBeInstanceOf(HandleClosedError);
        expect(await s.call('releasedCounters')).toBe(1);
      }
      expect(session.ended).toBe(true);
      await expect(session.call('echo', [1])).rejects.toBeInstanceOf(SessionClosedError);
      expect(await pool.run('echo', ['pool still open'])).toBe('pool still open');
    }
    await expect(outer.run('echo', [1])).rejects.toBeInstanceOf(PoolClosedError);
  });

  it('rejects calls in flight after closeTimeout', async () => {
    const pool = makePool({ closeTimeout: 50 });
    const s = await pool.openSession();
    const running = s.call('sleep', [2000]).catch((e: unknown) => e);
    await pool.close();
    expect(await running).toBeInstanceOf(PoolClosedError);
  });

  it('stops waiting after closeTimeout for a call aborted while running that its driver does not stop', async () => {
    const pool = createPool({ driver: cancellableDriver, threads: 1, closeTimeout: 50 });
    const s = await pool.openSession();
    const other = await pool.openSession();
    // The driver's cancel does not reach `thingLater`: it runs on, and nobody awaits it.
    const ac = new AbortController();
    const aborted = s.call('thingLater', [60_000], { signal: ac.signal }).catch((e: unknown) => e);
    await expect.poll(() => s.busy).toBe(true);
    ac.abort();
    expect(await aborted).toMatchObject({ name: 'AbortError', state: 'running' });
    expect(s.busy).toBe(true);
    let closed = false;
    const closing = pool.close().then(() => (closed = true));
    // Its session's close would wait behind that call for a minute.
    await expect.poll(() => closed, { timeout: 4_000 }).toBe(true);
    await closing;
    expect(pool.stats()).toMatchObject({ sessions: 0, threads: 0, running: 0, queued: 0 });
    expect(other.ended).toBe(true);
  });

  it('stops waiting after closeTimeout too when that call holds the thread of other sessions', async () => {
    const pool = createPool({ driver: cancellableDriver, threads: 1, closeTimeout: 50 });
    const s = await pool.openSession();
    const other = await pool.openSession();
    expect(other.threadId).toBe(s.threadId);
    // Blocking: the driver's cancel cannot run, and the other session's close is not answered.
    const ac = new AbortController();
    const aborted = s.call('block', [20_000], { signal: ac.signal }).catch((e: unknown) => e);
    await expect.poll(() => s.busy).toBe(true);
    ac.abort();
    expect(await aborted).toMatchObject({ name: 'AbortError', state: 'running' });
    let closed = false;
    const closing = pool.close().then(() => (closed = true));
    await expect.poll(() => closed, { timeout: 4_000 }).toBe(true);
    await closing;
    expect(other.ended).toBe(true);
    expect(pool.stats()).toMatchObject({ sessions: 0, threads: 0 });
  });

  it('counts as queued the calls of a session behind a call aborted but still running', async () => {
    const pool = createPool({ driver: cancellableDriver, threads: 1, closeTimeout: 10 });
    const a = await pool.openSession();
    const b = await pool.openSession();
    const ac = new AbortController();
    const abandoned = a
      .call('thingLater', [60_000], { signal: ac.signal })
      .catch((e: unknown) => e);
    await expect.poll(() => a.busy).toBe(true);
    ac.abort();
    expect(await abandoned).toMatchObject({ name: 'AbortError', state: 'running' });
    const calls = [b.call('sleep', [60_000]), a.call('record', [1]), a.call('record', [2])];
    const settled = Promise.allSettled(calls);
    await expect.poll(() => a.busy && b.busy).toBe(true);
    // Running: the abandoned call and b's sleep; queued: both records, behind a's abandoned call.
    expect(pool.stats()).toMatchObject({ running: 2, queued: 2 });
    await pool.close();
    await settled;
  });

  it('stops waiting after closeTimeout for a driver whose close or open does not settle', async () => {
    const pool = makePool({ threads: 1, closeTimeout: 100 });
    try {
      // The driver's close of this connection takes a minute, and so does the next open.
      await pool.openSession({ closeDelayMs: 60_000 });
      const opening = pool.openSession({ openDelayMs: 60_000 }).catch((e: unknown) => e);
      let closed = false;
      const closing = pool.close().then(() => (closed = true));
      // It waited for both without a limit.
      await expect.poll(() => closed, { timeout: 4_000 }).toBe(true);
      await closing;
      expect(await opening).toBeInstanceOf(PoolClosedError);
      expect(pool.stats()).toMatchObject({ sessions: 0, threads: 0 });
    } finally {
      await pool.destroy();
    }
  });

  it("gives the driver's close of each session a grace period of its own, after the calls used theirs", async () => {
    const pool = makePool({ threads: 2, closeTimeout: 200 });
    try {
      const busy = await pool.openSession();
      // Its driver's close takes 50 ms, then fails: that failure is what its close reports.
      const idle = await pool.openSession({ closeDelayMs: 50, failClose: true });
      expect(idle.threadId).not.toBe(busy.threadId);
      // Runs past the whole grace period (and is then terminated with its worker).
      const running = busy.call('spin', [1_000]).catch((e: unknown) => e);
      await pool.close();
      // Cut short, it would have resolved, as a session the pool drops does.
      await expect(idle.close()).rejects.toMatchObject({ code: 'E_CLOSE' });
      expect(await running).toBeInstanceOf(PoolClosedError);
    } finally {
      await pool.destroy();
    }
  });

  it('destroys at once, rejecting work in flight with the given error', async () => {
    const pool = makePool();
    const s = await pool.openSession();
    const running = s.call('spin', [300]).catch((e: unknown) => e);
    const reason = new Error('going down');
    await pool.destroy(reason);
    expect(await running).toBe(reason);
    await pool.destroy();
  });

  it('resolves destroy() and close() called after destroy() once its workers are gone', async () => {
    for (const again of ['destroy', 'close'] as const) {
      const pool = makePool({ threads: 2 });
      const s = await pool.openSession();
      await expect.poll(() => pool.stats().threads).toBe(2);
      const running = s.call('spin', [300]).catch((e: unknown) => e);
      const first = pool.destroy();
      await pool[again]();
      // Idempotent: the second call has nothing more to do, but it does not resolve sooner.
      expect(pool.stats().threads).toBe(0);
      await first;
      expect(await running).toBeInstanceOf(PoolClosedError);
    }
  });

  it('settles every openSession() made before destroy(), and close() after it', async () => {
    const hang = Symbol('hang');
    const within = <T>(promise: Promise<T>): Promise<T | typeof hang> => {
      let timer: NodeJS.Timeout | undefined;
      return Promise.race([
        promise.finally(() => clearTimeout(timer)),
        new Promise<typeof hang>((resolve) => (timer = setTimeout(resolve, 3_000, hang))),
      ]);
    };
    for (let round = 0; round < 5; round++) {
      const pool = makePool({ threads: 1 });
      await (await pool.openSession()).close();
      // Some open before the destroy, some are opening when it comes.
      const opens = Array.from({ length: 20 }, () => pool.openSession());
      await new Promise((resolve) => setTimeout(resolve, round));
      await pool.destroy();
      const outcomes = await Promise.all(
        opens.map((open) =>
          within(
            open.then(
              () => 'opened',
              (err: { code?: string }) => err.code,
            ),
          ),
        ),
      );
      expect(outcomes.filter((outcome) => outcome === hang)).toEqual([]);
      expect(await within(pool.close().then(() => 'closed'))).toBe('closed');
    }
  });

  it('rejects an openSession() still waiting for its worker to start when the pool is destroyed', async () => {
    const pool = makePool({ threads: 2 });
    let settled = false;
    const opening = pool
      .openSession()
      .then(
        () => 'opened',
        (err: { code?: string }) => err.code,
      )
      .finally(() => (settled = true));
    await pool.destroy();
    // Settled by then, not by a timer a script's end would not wait for.
    expect(settled).toBe(true);
    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      opening,
      new Promise((resolve) => (timer = setTimeout(resolve, 3_000, 'hang'))),
    ]);
    clearTimeout(timer);
    expect(outcome).toBe('UNBLOCK_ERR_POOL_CLOSED');
  });

  it('counts calls, percentiles and live handles in stats()', async () => {
    const pool = makePool();
    const s = await pool.openSession();
    await Promise.all([s.call('echo', [1]), s.call('echo', [2])]);
    await s.call('failType').catch(() => undefined);
    await s.call('spin', [500], { timeout: 10 }).catch(() => undefined);
    const stats = pool.stats();
    expect(stats.threads).toBe(2);
    expect(stats.completed).toBe(2);
    expect(stats.failed).toBe(1);
    expect(stats.aborted).toBe(1);
    expect(stats.runTime.count).toBe(3);
    expect(stats.runTime.p50).toBeGreaterThan(0);
    await pool.destroy();
  });

  it('tells a call queued in the worker (waitTime) from one running (runTime)', async () => {
    const pool = makePool({ threads: 1 });
    const s = await pool.openSession();
    const first = s.call('spin', [150]);
    const second = s.call('spin', [150]);
    await expect.poll(() => pool.stats().running).toBe(1);
    expect(pool.stats()).toMatchObject({ running: 1, queued: 1 });
    await Promise.all([first, second]);
    const { runTime, waitTime } = pool.stats();
    expect(runTime.count).toBe(2);
    // Each ran for its 150 ms; the second waited behind the first, in the worker's queue. Its
    // run is about as long as that wait: counted in, the wait would double it and leave little
    // wait behind.
    expect(runTime.p50).toBeGreaterThanOrEqual(149);
    expect(runTime.max).toBeLessThan(waitTime.max + 100);
    expect(waitTime.max).toBeGreaterThanOrEqual(140);
    await pool.close();
  });

  it('counts in runTime how long a large row set took to make, not to be delivered', async () => {
    // At the caller's priority: a loaded machine could otherwise starve the worker's few ms.
    const pool = makePool({ threads: 1, workerNice: 0 });
    const s = await pool.openSession();
    // Three chunks and the rest: the third waits for credit, which this thread holds back 400 ms.
    const rows = s.call('rows', [8_000]);
    await null; // the call goes out (a microtask)
    const until = performance.now() + 400;
    while (performance.now() < until);
    expect(((await rows) as ReceivedRows).rows).toHaveLength(8_000);
    const { runTime, waitTime } = pool.stats();
    // Made in a few ms; the rest of the call's 400 ms went waiting for credit.
    expect(runTime.max).toBeLessThan(200);
    expect(waitTime.max).toBeGreaterThan(200);
    await pool.close();
  });

  it('publishes call start, end and error on diagnostics_channel', async () => {
    const pool = makePool({ name: 'diag' });
    const seen: string[] = [];
    const on = (kind: string) => (m: unknown) => {
      if ((m as CallEvent).pool === 'diag') seen.push(`${kind}:${(m as CallEvent).op}`);
    };
    const start = on('start');
    const end = on('end');
    const error = on('error');
    diagnostics_channel.subscribe('unblock:call:start', start);
    diagnostics_channel.subscribe('unblock:call:end', end);
    diagnostics_channel.subscribe('unblock:call:error', error);
    const s = await pool.openSession();
    await s.call('echo', [1]);
    await s.call('failType').catch(() => undefined);
    diagnostics_channel.unsubscribe('unblock:call:start', start);
    diagnostics_channel.unsubscribe('unblock:call:end', end);
    diagnostics_channel.unsubscribe('unblock:call:error', error);
    expect(seen).toEqual(['start:echo', 'end:echo', 'start:failType', 'error:failType']);
    await pool.close();
  });

  it('validates options with TypeError/RangeError naming the option', () => {
    expect(() => makePool({ threads: 0 })).toThrow(/options.threads/);
    expect(() => makePool({ maxQueue: 1.5 })).toThrow(TypeError);
    expect(() => makePool({ interrupt: 3 as never })).toThrow(/options.interrupt/);
    expect(() => makePool({ captureStacks: 'yes' as never })).toThrow(/options.captureStacks/);
    expect(() => makePool({ multiplexSessions: 1 as never })).toThrow(/options.multiplexSessions/);
    expect(() => makePool({ leaseKinds: 'cursor' as never })).toThrow(/options.leaseKinds/);
    expect(() => makePool({ leaseKinds: [1] as never })).toThrow(TypeError);
    expect(() => makePool({ workerNice: 20 })).toThrow(/options.workerNice/);
    expect(() => makePool({ workerNice: -1 })).toThrow(RangeError);
  });

  it('refuses values no pool or timer can honour: Infinity threads, delays past 2^31 - 1 ms', () => {
    // Node runs a timer set past 2^31 - 1 ms after 1 ms: close() would give no grace at all,
    // and every lease would be reported at once.
    for (const name of ['closeTimeout', 'leakDetectionThreshold'] as const) {
      for (const value of [Infinity, 2 ** 31]) {
        expect(() => makePool({ [name]: value })).toThrow(RangeError);
        expect(() => makePool({ [name]: value })).toThrow(`options.${name}`);
      }
    }
    // A pool of Infinity threads would start workers until the process died.
    expect(() => makePool({ threads: Infinity })).toThrow(RangeError);
    expect(() => makePool({ threads: Infinity })).toThrow('options.threads');
  });

  it('refuses more threads than it can start (it tried, synchronously, in the constructor)', () => {
    // 1e10 held the event loop for good while memory grew; 257 would take seconds and 1.5 GB.
    for (const threads of [257, 1e10, Number.MAX_SAFE_INTEGER]) {
      expect(() => makePool({ threads })).toThrow(RangeError);
      expect(() => makePool({ threads })).toThrow('options.threads must be at most 256');
    }
  });

  it('refuses a misspelled option with a TypeError naming it, and the option it resembles', () => {
    expect(() => makePool({ thread: 2 } as never)).toThrow(TypeError);
    expect(() => makePool({ thread: 2 } as never)).toThrow(
      'options.thread is not a pool option; did you mean threads?',
    );
    expect(() => makePool({ closeTimout: 10 } as never)).toThrow('did you mean closeTimeout?');
    expect(() => makePool({ maxqueue: 10 } as never)).toThrow('did you mean maxQueue?');
    // Undefined too: a misspelled key is a mistake whatever its value.
    expect(() => makePool({ leaseKind: undefined } as never)).toThrow('did you mean leaseKinds?');
    expect(() => makePool({ frobnicate: true } as never)).toThrow(
      /^options\.frobnicate is not a pool option$/,
    );
    expect(() => offload('node:os', { thread: 1 } as never)).toThrow('did you mean threads?');
  });

  it('validates name, execArgv and resourceLimits too, naming the option', () => {
    expect(() => makePool({ name: 7 as never })).toThrow(TypeError);
    expect(() => makePool({ name: 7 as never })).toThrow('options.name');
    expect(() => makePool({ execArgv: [1] as never })).toThrow('options.execArgv');
    expect(() => makePool({ execArgv: null as never })).toThrow(TypeError);
    // Node takes these without a word; the worker then cannot start, or runs without the limit.
    const limits = (value: unknown) => () => makePool({ resourceLimits: value as never });
    expect(limits({ maxOldGenerationSizeMb: -1 })).toThrow(RangeError);
    expect(limits({ maxOldGenerationSizeMb: -1 })).toThrow(
      'options.resourceLimits.maxOldGenerationSizeMb',
    );
    expect(limits({ stackSizeMb: Infinity })).toThrow(RangeError);
    expect(limits({ maxOldGenerationSizeMb: '64' })).toThrow(TypeError);
    expect(limits({ maxOldGenerationSizeMb: NaN })).toThrow(TypeError);
    expect(limits({ maxOldGenSizeMb: 64 })).toThrow('options.resourceLimits.maxOldGenSizeMb');
    expect(limits([64])).toThrow('options.resourceLimits');
  });

  it.runIf(process.platform === 'linux')(
    "runs its worker threads below the caller thread's priority (workerNice), the caller unchanged",
    async () => {
      const base = getPriority();
      const lowered = makePool({ threads: 1 });
      const s = await lowered.openSession();
      const nice = (await s.call('threadNice')) as number;
      expect(nice).toBe(Math.min(19, base + 5));
      expect(getPriority()).toBe(base);
      // What test authors read: this thread's own value, and the worker's among the others.
      const values = threadNiceValues();
      expect(values.get(process.pid)).toBe(base);
      expect([...values.values()]).toContain(nice);
      await lowered.close();
      const left = makePool({ threads: 1, workerNice: 0 });
      const t = await left.openSession();
      expect(await t.call('threadNice')).toBe(base);
      await left.close();
    },
  );

  it('refuses call arguments that are not an array, and a thread that does not exist', async () => {
    const pool = makePool({ threads: 1 });
    const s = await pool.openSession();
    expect(() => s.call('echo', 'not a list' as never)).toThrow(/args must be an array/);
    expect(await s.call('echo', ['still fine'])).toBe('still fine');
    await expect(pool.openSession(undefined, { threadId: -5 })).rejects.toThrow(/-5/);
    await pool.close();
  });

  it('streams large row sets in chunks with flow control and rebuilds every shape', async () => {
    const pool = makePool();
    const s = await pool.openSession();
    const big = (await s.call('rows', [30_000])) as ReceivedRows;
    expect(big.rows).toHaveLength(30_000);
    expect(big.rows[29_999]).toEqual({
      id: 29_999,
      name: 'name 29999',
      half: 29_999 / 2,
      blob: Buffer.from([29_999 & 255]),
    });
    expect(big.rows[3]).toMatchObject({ half: null });
    const arrays = (await s.call('rows', [3, 'array'])) as ReceivedRows;
    expect(arrays.rows[2]).toEqual([2, 'name 2', 1, Buffer.from([2])]);
    const plucked = (await s.call('rows', [3, 'pluck'])) as ReceivedRows;
    expect(plucked.rows).toEqual([0, 1, 2]);
    // a 1 ms timer keeps firing while 200k rows arrive
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const huge = (await s.call('rows', [200_000])) as ReceivedRows;
    clearInterval(timer);
    expect(huge.rows).toHaveLength(200_000);
    expect(ticks).toBeGreaterThan(2);
    await pool.close();
  });
});
