// mysql2/promise used directly against the @unblock/mysql2 drop-in. mysql2 is already
// asynchronous, but it parses every packet on the main thread; the drop-in moves that parsing
// to a worker. So the numbers that matter here are main-thread time per query and event-loop
// delay on large results, beside throughput.
import { withCallOptions } from '@unblock/core';
import type { Connection } from 'mysql2/promise';
import { whyNotImportable } from '../can-import.js';
import {
  DROP_IN,
  FIXTURE_ROWS,
  FIXTURE_TABLE,
  RAW,
  SERVER,
  ensureFixture,
  loadMysql,
  waitUntilGone,
} from '../drivers/mysql-subjects.js';
import type { Suite, Trial, TrialDriver } from '../suite.js';
import { median } from '../stats.js';
import { inFlight, sequential } from '../workloads.js';

const WIDTH = 64;
const POOL_SIZE = 8;
const KILL = 'mysql2/promise + KILL QUERY';

const pointSelect: Trial = {
  name: `point select, pool of ${POOL_SIZE}, ${WIDTH} in flight`,
  description: `\`pool.query('SELECT * FROM t WHERE id = ?')\` on a pool of ${POOL_SIZE} connections with ${WIDTH} callers; main-thread time per query is the column to read.`,
  unit: 'queries/s',
  better: 'higher',
  drivers: [RAW, DROP_IN].map((name): TrialDriver => ({
    name,
    async run(ctx) {
      await ensureFixture();
      const mysql = await loadMysql(name);
      const pool = mysql.createPool({ ...SERVER, connectionLimit: POOL_SIZE });
      try {
        const sql = `SELECT * FROM ${FIXTURE_TABLE} WHERE id = ?`;
        const call = (): Promise<unknown> =>
          pool.query(sql, [1 + Math.floor(Math.random() * FIXTURE_ROWS)]);
        await inFlight(call, ctx.quick ? 200 : 2_000, WIDTH);
        const n = ctx.quick ? 1_000 : 20_000;
        const { wallMs } = await ctx.measure(() => inFlight(call, n, WIDTH));
        return { value: n / (wallMs / 1000), ops: n };
      } finally {
        await pool.end();
      }
    },
  })),
};

const bigSelect: Trial = {
  name: '50k-row, 8-column SELECT',
  description:
    '`SELECT *` of all 50k rows on one connection: total time, main-thread busy time per query, worst event-loop delay.',
  unit: 'ms/query',
  better: 'lower',
  drivers: [RAW, DROP_IN].map((name): TrialDriver => ({
    name,
    async run(ctx) {
      await ensureFixture();
      const mysql = await loadMysql(name);
      const conn = await mysql.createConnection(SERVER);
      try {
        const sql = `SELECT * FROM ${FIXTURE_TABLE}`;
        await conn.query(sql);
        const times = ctx.quick ? 1 : 3;
        let rows = 0;
        const region = await ctx.measure(() =>
          sequential(async () => {
            const [result] = await conn.query(sql);
            rows = (result as unknown[]).length;
          }, times),
        );
        if (rows !== FIXTURE_ROWS) ctx.note(`got ${rows} rows, expected ${FIXTURE_ROWS}`);
        return {
          value: region.wallMs / times,
          ops: times,
          extra: { 'main busy ms/query': region.mainActiveMs / times },
        };
      } finally {
        await conn.end();
      }
    },
  })),
};

/** Starts a SLEEP(10) on `conn`, stops it with `stop` 200 ms later, and times the aftermath. */
async function abortOnce(
  side: Connection,
  tag: string,
  start: (sql: string) => Promise<unknown>,
  stop: () => void | Promise<unknown>,
): Promise<{ rejectMs: number; goneMs: number; outcome: string }> {
  const settled = start(`SELECT SLEEP(10) AS ${tag}`).then(
    () => 'resolved (SLEEP returned early)',
    (err: unknown) =>
      `rejected with ${(err as Error)?.name ?? 'a non-error'} ${(err as { code?: string })?.code ?? ''}`.trim(),
  );
  await new Promise((resolve) => setTimeout(resolve, 200));
  const t0 = performance.now();
  void stop();
  const outcome = await settled;
  const rejectMs = performance.now() - t0;
  const goneMs = rejectMs + (await waitUntilGone(side, tag, 15_000));
  return { rejectMs, goneMs, outcome };
}

const abortSleep: Trial = {
  name: 'abort a running SLEEP(10)',
  description:
    'A `SELECT SLEEP(10)` is stopped 200 ms after it started: by `AbortSignal` for the drop-in, by `KILL QUERY` from a second connection for raw mysql2 (it has no abort). Headline: stop → promise settled; also stop → gone from PROCESSLIST.',
  unit: 'ms to settle',
  better: 'lower',
  drivers: [KILL, DROP_IN].map((name): TrialDriver => ({
    name,
    async run(ctx) {
      const raw = await loadMysql(RAW);
      const mysql = await loadMysql(name === KILL ? RAW : DROP_IN);
      const conn = await mysql.createConnection(SERVER);
      const side = await raw.createConnection(SERVER);
      try {
        const times = ctx.quick ? 1 : 3;
        const results: { rejectMs: number; goneMs: number; outcome: string }[] = [];
        await ctx.measure(() =>
          sequential(async (i) => {
            const tag = `unblock_bench_abort_${process.pid}_${i}`;
            if (name === KILL) {
              results.push(
                await abortOnce(
                  side,
                  tag,
                  (sql) => conn.query(sql),
                  () => side.query(`KILL QUERY ${conn.threadId}`),
                ),
              );
            } else {
              const controller = new AbortController();
              results.push(
                await abortOnce(
                  side,
                  tag,
                  (sql) => withCallOptions({ signal: controller.signal }, () => conn.query(sql)),
                  () => controller.abort(),
                ),
              );
            }
            // The connection must still work afterwards.
            await conn.query('SELECT 1');
          }, times),
        );
        ctx.note(`settled as: ${[...new Set(results.map((r) => r.outcome))].join('; ')}`);
        return {
          value: median(results.map((r) => r.rejectMs)),
          ops: times,
          extra: { 'ms until gone from PROCESSLIST': median(results.map((r) => r.goneMs)) },
        };
      } finally {
        await conn.end();
        await side.end();
      }
    },
  })),
  baseline: KILL,
};

export const suite: Suite = {
  name: 'mysql2',
  title: 'mysql2: mysql2/promise direct vs the @unblock/mysql2 drop-in (MariaDB at 127.0.0.1:3306)',
  async unavailable() {
    const missing =
      (await whyNotImportable('mysql2/promise')) ?? (await whyNotImportable('@unblock/mysql2'));
    if (missing !== undefined) return missing;
    try {
      const conn = await (
        await loadMysql(RAW)
      ).createConnection({ ...SERVER, connectTimeout: 3_000 });
      await conn.end();
      return undefined;
    } catch (err) {
      return `MariaDB unreachable at ${SERVER.host}:${SERVER.port} (${(err as Error).message})`;
    }
  },
  trials: [pointSelect, bigSelect, abortSleep],
};
