import { describe, expect, it } from 'vitest';
import Database from '@unblock/better-sqlite3';

// The driver's errors begin at the user's call (its methods are native): so do the drop-in's,
// then the worker thread's frames follow.

const FILE = 'caller-stack.test.ts';

/** The first frame of a stack, and whether the worker's frames follow the caller's. */
function shape(err: Error): { first: string; workerAfter: boolean } {
  const lines = err.stack!.split('\n');
  const first = lines.find((line) => line.startsWith('    at ')) ?? '';
  const marker = lines.indexOf('    at <worker thread>');
  return { first, workerAfter: marker > lines.indexOf(first) };
}

describe("an error's stack", () => {
  it("begins at the caller's frame, whichever method failed", async () => {
    const db = new Database(':memory:');
    try {
      await db.exec('create table t (x unique); insert into t values (1)');
      const insert = await db.prepare('insert into t values (1)');
      const calls: [string, () => Promise<unknown>][] = [
        ['prepare', () => db.prepare('select * from missing')],
        ['run', () => insert.run()],
        ['exec', () => db.exec('insert into t values (1)')],
        ['pragma', () => db.pragma('no such pragma = (')],
        ['all', async () => (await db.prepare('select abs(-9223372036854775808)')).all()],
      ];
      for (const [name, call] of calls) {
        const err = (await call().then(
          () => undefined,
          (e: unknown) => e,
        )) as Error;
        expect(err, name).toBeInstanceOf(Error);
        const { first, workerAfter } = shape(err);
        expect(first, `${name}: ${err.stack}`).toContain(FILE);
        expect(workerAfter, name).toBe(true);
      }
    } finally {
      await db.close();
    }
  });
});
