import { describe, expect, it } from 'vitest';
import Database from '@unblock/better-sqlite3';
import { outcome, Raw, type Outcome } from './helpers.js';

// What the `verbose` option hears, on the real driver and on the drop-in. Calls without
// parameters and single-statement exec() are compared: there the driver's expanded SQL is the
// source the drop-in logs (the other differences are documented in docs/api.md).

/** Runs the same calls on `db`, an open database whose verbose log is `log`, then closed. */
async function calls(db: any, log: string[]): Promise<[Outcome, string[]][]> {
  const seen: [Outcome, string[]][] = [];
  const step = async (fn: () => unknown): Promise<void> => {
    const before = log.length;
    const result = await outcome(fn);
    seen.push([result, log.slice(before)]);
  };
  await step(() => db.exec('create table t (x)'));
  await step(() => db.pragma('user_version', { simple: true }));
  const read = await db.prepare('select 1 as one');
  const write = await db.prepare('insert into t values (1)');
  await step(() => read.get());
  await step(() => write.run());
  await step(async () => {
    const rows: unknown[] = [];
    for await (const row of read.iterate()) rows.push(row);
    return rows;
  });
  await db.close();
  // Refused: nothing runs, and the driver logs nothing.
  await step(() => db.exec('select 2'));
  await step(() => db.pragma('user_version'));
  await step(() => read.get());
  await step(() => write.run());
  await step(() => read.iterate().next());
  return seen;
}

describe('verbose differential: raw better-sqlite3 vs @unblock/better-sqlite3', () => {
  it('logs what runs, and nothing for calls on a closed database', async () => {
    const rawLog: string[] = [];
    const dropLog: string[] = [];
    const raw = new Raw(':memory:', { verbose: (sql: string) => rawLog.push(sql) });
    const drop = new Database(':memory:', { verbose: (sql) => dropLog.push(sql as string) });
    const expected = await calls(raw, rawLog);
    expect(expected[0]).toEqual([{ ok: raw }, ['create table t (x)']]);
    expect(expected.at(-1)).toEqual([
      {
        error: {
          name: 'TypeError',
          message: 'The database connection is not open',
          code: undefined,
          native: true,
        },
      },
      [],
    ]);
    const actual = await calls(drop, dropLog);
    // exec() gives its own database.
    expect(actual).toEqual(
      expected.map(([result, logged], i) => [i === 0 ? { ok: drop } : result, logged]),
    );
  });
});
