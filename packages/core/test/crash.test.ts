import { afterAll, describe, expect, it } from 'vitest';
import { SessionBrokenError, WorkerExitedError } from '@unblock/core';
import { pool as makePool } from './helpers.js';

describe('crash recovery', () => {
  const pool = makePool();
  afterAll(() => pool.close());

  async function sessionsOnTwoWorkers() {
    const victim = await pool.openSession();
    let bystander = await pool.openSession();
    while (bystander.threadId === victim.threadId) {
      await bystander.close();
      bystander = await pool.openSession();
    }
    return { victim, bystander };
  }

  it('rejects the running call with the exit code and leaves other sessions alone', async () => {
    const { victim, bystander } = await sessionsOnTwoWorkers();
    const queuedOnBystander = bystander.call('spin', [100]);
    const err = (await victim.call('exit', [7]).catch((e: unknown) => e)) as WorkerExitedError;
    expect(err).toBeInstanceOf(WorkerExitedError);
    expect(err.code).toBe('UNBLOCK_ERR_WORKER_EXITED');
    expect(err.exitCode).toBe(7);
    await expect(victim.call('echo', [1])).rejects.toBeInstanceOf(SessionBrokenError);
    expect(await queuedOnBystander).toBe(100);
    expect(await bystander.call('echo', ['still here'])).toBe('still here');
    await bystander.close();
    const replacement = await pool.openSession();
    expect(await replacement.call('echo', ['new'])).toBe('new');
    await replacement.close();
  });

  it('rejects calls queued behind the crash too, and nothing hangs', async () => {
    const s = await pool.openSession();
    const calls = [s.call('exit', [1]), s.call('echo', [1]), s.call('echo', [2])];
    const results = await Promise.allSettled(calls);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      expect((r as PromiseRejectedResult).reason).toBeInstanceOf(WorkerExitedError);
    }
    // The running call had started; those behind it never ran, and say so.
    const started = results.map(
      (r) => ((r as PromiseRejectedResult).reason as WorkerExitedError).started,
    );
    expect(started).toEqual([true, false, false]);
  });

  it('runs stateless calls queued behind a crash on another worker', async () => {
    const single = makePool({ threads: 1 });
    // The default session's worker is the only one: the calls queue behind the crash.
    expect(await single.run('echo', ['warm'])).toBe('warm');
    const crash = single.run('exit', [3]);
    const queued = [single.run('echo', ['a']), single.run('echo', ['b'])];
    const err = (await crash.catch((e: unknown) => e)) as WorkerExitedError;
    expect(err).toMatchObject({ code: 'UNBLOCK_ERR_WORKER_EXITED', exitCode: 3, started: true });
    expect(await Promise.all(queued)).toEqual(['a', 'b']);
    await single.close();
  });

  it('handles an uncaught exception in the worker', async () => {
    const s = await pool.openSession();
    const err = await s.call('throwAsync').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerExitedError);
    expect(await pool.run('echo', ['pool still works'])).toBe('pool still works');
  });

  it('handles a worker running out of memory (resourceLimits)', async () => {
    const small = makePool({ threads: 1, resourceLimits: { maxOldGenerationSizeMb: 16 } });
    const s = await small.openSession();
    const err = await s.call('allocate', [1024]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkerExitedError);
    const again = await small.openSession();
    expect(await again.call('echo', [1])).toBe(1);
    await small.close();
  });
});
