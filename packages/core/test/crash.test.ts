import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import diagnostics from 'node:diagnostics_channel';
import { fileURLToPath } from 'node:url';
import type { MessagePort } from 'node:worker_threads';
import {
  PoolClosedError,
  SessionBrokenError,
  WorkerExitedError,
  WorkerInitError,
} from '@unblock/core';
import { echoDriver, pool as makePool, sleep } from './helpers.js';

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

  it('counts a stateless call sent again after a crash once, by how it ended', async () => {
    const single = makePool({ threads: 1 });
    expect(await single.run('echo', ['warm'])).toBe('warm');
    const crash = single.run('exit', [3]).catch((e: unknown) => e);
    const queued = [single.run('echo', ['a']), single.run('echo', ['b'])];
    expect(await Promise.all(queued)).toEqual(['a', 'b']);
    expect(await crash).toBeInstanceOf(WorkerExitedError);
    // Four calls made: three answered, one failed (the queued ones ran on the new worker).
    const { completed, failed, aborted } = single.stats();
    expect({ completed, failed, aborted }).toEqual({ completed: 3, failed: 1, aborted: 0 });
    await single.close();
  });

  it('counts such a call once too when sending it again is refused (the pool closed meanwhile)', async () => {
    const single = makePool({ threads: 1 });
    expect(await single.run('echo', ['warm'])).toBe('warm');
    const crash = single.run('exit', [3]).catch((e: unknown) => e);
    const queued = single.run('echo', ['a']).catch((e: unknown) => e);
    // The queued call's first attempt fails unstarted: the pool closes before it is sent again.
    const closeOnUnstarted = (event: unknown): void => {
      const { error } = event as { error: unknown };
      if (error instanceof WorkerExitedError && error.started === false) void single.close();
    };
    diagnostics.subscribe('unblock:call:error', closeOnUnstarted);
    try {
      expect(await crash).toBeInstanceOf(WorkerExitedError);
      expect(await queued).toBeInstanceOf(PoolClosedError);
    } finally {
      diagnostics.unsubscribe('unblock:call:error', closeOnUnstarted);
    }
    // Three calls made: one answered, two failed.
    const { completed, failed, aborted } = single.stats();
    expect({ completed, failed, aborted }).toEqual({ completed: 1, failed: 2, aborted: 0 });
    await single.close();
  });

  it('rejects the calls of a crashed worker in a script that has nothing else to keep it alive', () => {
    // Piscina unrefs an idle worker, and a session's port stops holding the process once it
    // closes: the rejection must still come before the process would run dry and exit. That
    // race is lost or won by a few milliseconds, so the script crashes a worker five times.
    const script = `
      import { createPool } from '@unblock/core';
      for (let round = 0; round < 5; round++) {
        const pool = createPool({ driver: process.argv[1], threads: 2 });
        const session = await pool.openSession();
        const outcomes = await Promise.allSettled([session.call('exit', [7]), session.call('echo', [1])]);
        console.log(outcomes.map((o) => o.reason?.code + ':' + o.reason?.exitCode).join(' '));
        await pool.close();
      }
    `;
    const child = spawnSync(
      process.execPath,
      ['--input-type=module', '-e', script, fileURLToPath(echoDriver)],
      { cwd: import.meta.dirname, encoding: 'utf8', timeout: 30_000 },
    );
    expect(child.stderr).toBe('');
    expect(child.stdout.trim().split('\n')).toEqual(
      Array(5).fill('UNBLOCK_ERR_WORKER_EXITED:7 UNBLOCK_ERR_WORKER_EXITED:7'),
    );
    expect(child.status).toBe(0);
  });

  it('rejects an open, with the exit code, once no worker is left to start (a driver module that exits), keeping a script alive until then', () => {
    // Nothing else holds the process: without the open's own timer it would exit at once with
    // the open unsettled. Piscina replaces a first worker that dies as it starts, then starts
    // no other: the open must reject then, not wait for a worker that never comes (it waited
    // 10 s). The unreferenced timer destroys the pool if the open is still waiting at 5 s.
    const script = `
      import { createPool } from '@unblock/core';
      const pool = createPool({ driver: process.argv[1], threads: 1 });
      setTimeout(() => void pool.destroy(), 5_000).unref();
      const outcome = await pool.openSession().then(
        () => 'opened',
        (err) => err.code + ' ' + err.cause?.code + ':' + err.cause?.exitCode,
      );
      // The pool has given up: a later open does not wait either.
      const again = await pool.openSession().then(() => 'opened', (err) => err.code);
      console.log(outcome, again);
      await pool.close();
    `;
    const driver = fileURLToPath(new URL('./fixtures/exit-at-load-driver.mjs', import.meta.url));
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script, driver], {
      cwd: import.meta.dirname,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(child.stdout.trim()).toBe(
      'UNBLOCK_ERR_WORKER_INIT UNBLOCK_ERR_WORKER_EXITED:3 UNBLOCK_ERR_WORKER_INIT',
    );
    expect(child.status).toBe(0);
  });

  it('rejects an open with the error of workers that cannot start (out of memory at once)', async () => {
    const starved = makePool({
      threads: 1,
      resourceLimits: { maxOldGenerationSizeMb: 1, maxYoungGenerationSizeMb: 1 },
      closeTimeout: 100,
    });
    // Before, the open waited 10 s for a worker that would never come, and said nothing of why.
    const outcome = await Promise.race([
      starved.openSession().then(
        () => 'opened',
        (err: unknown) => err,
      ),
      sleep(5_000).then(() => 'still waiting'),
    ]);
    expect(outcome).toBeInstanceOf(WorkerInitError);
    expect((outcome as WorkerInitError).cause).toMatchObject({ code: 'ERR_WORKER_OUT_OF_MEMORY' });
    expect((outcome as WorkerInitError).message).toMatch(/memory limit/);
    await starved.destroy();
  });

  it('sends no new session to a worker that died, even before its exit event', async () => {
    const fresh = makePool({ threads: 2 });
    await (await fresh.openSession()).close();
    await expect.poll(() => fresh.threadIds().length).toBe(2);
    const victim = await fresh.openSession();
    const threadId = fresh.threadIds().find((id) => id !== victim.threadId);
    const bystanders = [
      await fresh.openSession(undefined, { threadId }),
      await fresh.openSession(undefined, { threadId }),
    ];
    // The victim's worker, with one session, is the least busy. Its port closes as it dies; the
    // exit event comes milliseconds later. Sessions opened in between must go elsewhere.
    const { port } = victim as unknown as { port: MessagePort };
    const opens = new Promise<PromiseSettledResult<unknown>[]>((resolve) =>
      port.once('close', () =>
        resolve(Promise.allSettled(Array.from({ length: 4 }, () => fresh.openSession()))),
      ),
    );
    const err = await victim.call('exit', [6]).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'UNBLOCK_ERR_WORKER_EXITED', exitCode: 6 });
    expect((await opens).map((open) => open.status)).toEqual(Array(4).fill('fulfilled'));
    for (const s of bystanders) expect(await s.call('echo', ['unharmed'])).toBe('unharmed');
    // A worker that dies while it opens a session: the open rejects with the exit code.
    const opening = await fresh.openSession({ exitAtOpen: 5 }).catch((e: unknown) => e);
    expect(opening).toMatchObject({ code: 'UNBLOCK_ERR_WORKER_EXITED', exitCode: 5 });
    await fresh.close();
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
