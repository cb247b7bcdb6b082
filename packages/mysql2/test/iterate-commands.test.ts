// A command sent on a connection while an iterate() loop over it is open: mysql2 runs a command
// sent behind `query().stream()` once the stream has ended, so the loop and the command both
// finish. Here the worker lets the cursor read on (its rows are kept for the loop) instead of
// pausing: without that, the command waited behind the paused stream and the loop's next batch
// behind the command, for ever.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import mysql from '@unblock/mysql2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB, dbAvailable, settleWithin } from './helpers.js';

type DropInConnection = Awaited<ReturnType<typeof mysql.createConnection>>;

const ROWS = 5000;
const SQL = `SELECT seq AS n FROM seq_1_to_${ROWS}`;

/** How `promise` settled, or `'hung'` when it has not within five seconds. */
async function within<T>(promise: Promise<T>): Promise<unknown> {
  const settled = await settleWithin(promise, 5000);
  if (settled === 'hung') return settled;
  return settled.ok ? settled.value : settled.error;
}

describe.skipIf(!dbAvailable)('a command sent while iterate() is open on the connection', () => {
  let conn: DropInConnection;
  beforeAll(async () => {
    conn = await mysql.createConnection(DB);
  });
  afterAll(() => conn.end());

  /** Iterates SQL, calling `during` at row 10 (awaited); resolves to the row count. */
  async function loop(during: () => Promise<unknown>): Promise<number> {
    let seen = 0;
    for await (const row of conn.iterate<{ n: number }>(SQL, [], { batchSize: 50 })) {
      expect(row.n).toBe(++seen);
      if (seen === 10) await during();
    }
    return seen;
  }

  it('runs an awaited query after the stream, and the loop reads every row', async () => {
    let answer: unknown;
    const seen = await within(
      loop(async () => {
        [answer] = await conn.query('SELECT 1 AS x');
      }),
    );
    expect(seen).toBe(ROWS);
    expect(answer).toEqual([{ x: 1 }]);
    expect(((await within(conn.query('SELECT 2 AS y'))) as unknown[])[0]).toEqual([{ y: 2 }]);
  });

  it('runs commands sent without awaiting them, of every kind, after the stream', async () => {
    const sent: Promise<unknown>[] = [];
    const seen = await within(
      loop(async () => {
        sent.push(conn.query('SELECT 1 AS x'), conn.execute('SELECT ? AS p', [3]), conn.ping());
        const inner: number[] = [];
        for await (const row of conn.iterate<{ n: number }>('SELECT seq AS n FROM seq_1_to_3'))
          inner.push(row.n);
        sent.push(Promise.resolve(inner));
      }),
    );
    expect(seen).toBe(ROWS);
    const [query, execute, ping, inner] = await Promise.all(sent.map(within));
    expect((query as unknown[])[0]).toEqual([{ x: 1 }]);
    expect((execute as unknown[])[0]).toEqual([{ p: 3 }]);
    expect(ping).toBe(true);
    expect(inner).toEqual([1, 2, 3]);
  });

  it('lets a prepared statement and a transaction run inside the loop', async () => {
    const stmt = await conn.prepare('SELECT ? + 1 AS v');
    const seen = await within(
      loop(async () => {
        await conn.beginTransaction();
        const [[row]] = (await stmt.execute([41])) as [{ v: number }[], unknown];
        expect(row.v).toBe(42);
        await conn.commit();
      }),
    );
    expect(seen).toBe(ROWS);
    await stmt.close();
  });
});

describe.skipIf(!dbAvailable)('many iterate() calls on one connection', () => {
  it('start together with no listener-leak warning, and each reads its rows', () => {
    // In a process of its own: the warning would come from the worker thread, on stderr.
    const script = `
      const mysql = (await import('@unblock/mysql2')).default;
      const conn = await mysql.createConnection(${JSON.stringify(DB)});
      const read = async (i) => {
        const rows = [];
        for await (const row of conn.iterate('SELECT ? AS i', [i])) rows.push(row.i);
        return rows;
      };
      console.log(JSON.stringify(await Promise.all(Array.from({ length: 12 }, (_, i) => read(i)))));
      await conn.end();
    `;
    const { stdout, stderr } = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('.', import.meta.url)),
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(JSON.parse(stdout)).toEqual(Array.from({ length: 12 }, (_, i) => [i]));
    expect(stderr).not.toContain('MaxListenersExceededWarning');
  });
});
