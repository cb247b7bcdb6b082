import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, afterEach, describe, expect, it } from 'vitest';

import { loadSqliteInterrupt } from '@unblock/sqlite-interrupt';

import { ConnectionWorker, now, sleep, stopAllWorkers, within } from './connection-worker.js';

const sqliteInterrupt = loadSqliteInterrupt()!;
const tempDir = mkdtempSync(join(tmpdir(), 'sqlite-interrupt-'));

afterEach(stopAllWorkers);
afterAll(() => rmSync(tempDir, { recursive: true, force: true }));

// Generous: a working interrupt lands in well under a millisecond of SQLite time; one that does
// nothing never lands, and this is the bound that turns that into a failure.
const LANDS_WITHIN_MS = 2_000;

const interrupted = {
  ok: false,
  error: { name: 'SqliteError', code: 'SQLITE_INTERRUPT', isSqliteError: true },
};

describe.each([
  { kind: ':memory:', filename: () => ':memory:' },
  { kind: 'a file', filename: () => join(tempDir, `interrupt-${Date.now()}.db`) },
])('a query running in a worker on $kind', ({ kind, filename }) => {
  it('stops with SQLITE_INTERRUPT when interrupted from the main thread, and the connection still works', async () => {
    const worker = new ConnectionWorker();
    const { conn, id } = await worker.open(filename());
    expect(sqliteInterrupt.isRegistered(id)).toBe(true);

    const run = worker.runForever(conn);
    const startedAt = await run.started;
    await sleep(100);
    const interruptedAt = now();
    expect(sqliteInterrupt.interrupt(id)).toBe(true);
    const outcome = await within(run.finished, LANDS_WITHIN_MS, 'interrupted query');

    expect(outcome).toMatchObject(interrupted);
    // It really was running: it ended only after the interrupt, not at once.
    expect(outcome.at - startedAt).toBeGreaterThanOrEqual(90);
    const latency = outcome.at - interruptedAt;
    expect(latency).toBeLessThan(LANDS_WITHIN_MS);
    console.info(`[${kind}] interrupt() -> SqliteError in the worker: ${latency.toFixed(3)} ms`);

    expect(await worker.get(conn, 'select 1')).toBe(1);
    expect(sqliteInterrupt.isRegistered(id)).toBe(true);
  });
});

describe('several connections', () => {
  it('interrupting one leaves a query running concurrently on another untouched', async () => {
    const [a, b] = [new ConnectionWorker(), new ConnectionWorker()];
    const [connA, connB] = await Promise.all([a.open(':memory:'), b.open(':memory:')]);
    const runA = a.runForever(connA.conn);
    const runB = b.runForever(connB.conn);
    let bSettled = false;
    void runB.finished.then(
      () => (bSettled = true),
      () => (bSettled = true),
    );
    await Promise.all([runA.started, runB.started]);
    await sleep(100);

    expect(sqliteInterrupt.interrupt(connA.id)).toBe(true);
    expect(await within(runA.finished, LANDS_WITHIN_MS, 'query A')).toMatchObject(interrupted);
    expect(await a.get(connA.conn, 'select 2')).toBe(2);

    // B is still running well after A stopped.
    await sleep(300);
    expect(bSettled).toBe(false);

    expect(sqliteInterrupt.interrupt(connB.id)).toBe(true);
    expect(await within(runB.finished, LANDS_WITHIN_MS, 'query B')).toMatchObject(interrupted);
  });

  it('interrupting an idle connection does not fail its next statement', async () => {
    const worker = new ConnectionWorker();
    const { conn, id } = await worker.open(':memory:');
    expect(sqliteInterrupt.interrupt(id)).toBe(true);
    // SQLite clears the flag when a statement starts on a connection with no active statement.
    expect(await worker.get(conn, 'select 3')).toBe(3);
  });
});
