import { getPriority } from 'node:os';
import { describe, expect, it } from 'vitest';
import { threadNiceValues } from '@unblock/core/testing';
import Database from '@unblock/better-sqlite3';

const threadsAt = (nice: number): number =>
  [...threadNiceValues().values()].filter((value) => value === nice).length;

describe.runIf(process.platform === 'linux')('workerNice', () => {
  it('runs the worker threads below the caller thread, by 5 unless told otherwise', async () => {
    const base = getPriority();
    const db = await Database.open(':memory:');
    expect(threadsAt(Math.min(19, base + 5))).toBeGreaterThanOrEqual(1);
    await db.close();
    // An increment nothing else uses, so that only this database's worker can show it.
    const seven = await Database.open(':memory:', { workerNice: 7 });
    expect(await (await seven.prepare('select 1 as x')).get()).toEqual({ x: 1 });
    expect(threadsAt(Math.min(19, base + 7))).toBe(1);
    expect(getPriority()).toBe(base);
    await seven.close();
    expect(() => new Database(':memory:', { workerNice: 20 })).toThrow(/workerNice/);
  });
});
