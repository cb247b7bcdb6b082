// better-sqlite3 on the main thread (the baseline) against the @unblock/better-sqlite3
// drop-in and, where it is installed, node-sqlite3. Raw better-sqlite3 wins on speed: it
// never leaves the thread. What the drop-in buys is a free event loop, so every trial also
// records the main thread's event-loop delay and active time.
import { whyNotImportable } from '../can-import.js';
import {
  DROP_IN,
  FOREVER,
  NODE_SQLITE3,
  RAW,
  calibrateCount,
  createFixture,
  insertRows,
  openSubject,
  type SqliteFixture,
  type SqliteSubject,
} from '../drivers/sqlite-subjects.js';
import type { Suite, Trial, TrialContext, TrialDriver, TrialOutcome } from '../suite.js';
import { median } from '../stats.js';
import { inFlight, isolated, sequential } from '../workloads.js';

const WIDTH = 64;
const INSERTS = 10_000;

type Body = (db: SqliteSubject, ctx: TrialContext, fixture: SqliteFixture) => Promise<TrialOutcome>;

/** Drivers that each open the fixture, run `body`, and clean up. `tables` are created empty. */
function drivers(
  names: readonly string[],
  body: Body,
  tables: (quick: boolean) => string[] = () => [],
): TrialDriver[] {
  return names.map((name): TrialDriver => ({
    name,
    async run(ctx) {
      const fixture = await createFixture(tables(ctx.quick));
      try {
        const db = await openSubject(name, fixture);
        try {
          return await body(db, ctx, fixture);
        } finally {
          await db.close();
        }
      } finally {
        fixture.remove();
      }
    },
  }));
}

const randomId = (): number => 1 + Math.floor(Math.random() * 10_000);

async function warmPointGets(db: SqliteSubject, quick: boolean): Promise<void> {
  await sequential(() => db.pointGet(randomId()), quick ? 200 : 2_000);
}

const ALL = [RAW, DROP_IN, NODE_SQLITE3];

const pointInFlight: Trial = {
  name: `point select, ${WIDTH} in flight`,
  description: `${WIDTH} callers each awaiting \`get(id)\` by primary key on a 10k-row table (raw runs them back to back: it cannot overlap).`,
  unit: 'queries/s',
  better: 'higher',
  drivers: drivers(ALL, async (db, ctx) => {
    // Warmed up the way it is measured: sequential calls would warm one reader only (each goes
    // to the least busy, the first), and the other would run cold code through the measurement
    // (75k against 150k+ selects/s on the first 50k here).
    await inFlight(() => db.pointGet(randomId()), ctx.quick ? 500 : 10_000, WIDTH);
    const n = ctx.quick ? 2_000 : 50_000;
    const { wallMs } = await ctx.measure(() => inFlight(() => db.pointGet(randomId()), n, WIDTH));
    return { value: n / (wallMs / 1000), ops: n };
  }),
};

const pointSequential: Trial = {
  name: 'point select, one at a time',
  description: 'One caller awaiting each `get(id)` before the next.',
  unit: 'µs/query',
  better: 'lower',
  drivers: drivers(ALL, async (db, ctx) => {
    await warmPointGets(db, ctx.quick);
    const n = ctx.quick ? 1_000 : 20_000;
    const { wallMs } = await ctx.measure(() => sequential(() => db.pointGet(randomId()), n));
    return { value: (wallMs * 1000) / n, ops: n };
  }),
};

/** Measures `call` made once a millisecond: its median latency, and the p99 beside it. */
async function isolatedOutcome(
  ctx: TrialContext,
  call: (i: number) => unknown,
): Promise<TrialOutcome> {
  const n = ctx.quick ? 100 : 1_000;
  let result = { medianUs: NaN, p99Us: NaN };
  await ctx.measure(async () => {
    result = await isolated(call, n, 1);
  });
  return { value: result.medianUs, ops: n, extra: { 'p99 µs': result.p99Us } };
}

const RAW_PORT = 'raw MessagePort (no query)';

/** The reference of the isolated-call target: a plain port round trip, measured in the same run. */
const rawPortIsolated: TrialDriver = {
  name: RAW_PORT,
  async run(ctx) {
    const { openRawPort } = await import('../drivers/raw-port.js');
    const port = await openRawPort();
    try {
      await sequential((i) => port.call(i), ctx.quick ? 200 : 2_000);
      return await isolatedOutcome(ctx, (i) => port.call(i));
    } finally {
      await port.close();
    }
  },
};

const pointIsolated: Trial = {
  name: 'point select, isolated (1 per ms)',
  description:
    'One `get(id)` every millisecond; latency from call to result. Beside it, a raw MessagePort ping-pong with a worker that runs no query: the target is to be no slower than that.',
  unit: 'µs median latency',
  better: 'lower',
  drivers: [
    ...drivers(ALL, async (db, ctx) => {
      await warmPointGets(db, ctx.quick);
      return isolatedOutcome(ctx, () => db.pointGet(randomId()));
    }),
    rawPortIsolated,
  ],
};

const allRows: Trial = {
  name: '10k-row all()',
  description: '`SELECT *` of the whole 10k-row, 5-column table with `all()`.',
  unit: 'ms/all()',
  better: 'lower',
  drivers: drivers(ALL, async (db, ctx) => {
    await db.allRows();
    const n = ctx.quick ? 3 : 20;
    const { wallMs } = await ctx.measure(() => sequential(() => db.allRows(), n));
    return { value: wallMs / n, ops: n };
  }),
};

/** Tables each driver fills first, unmeasured, to warm up (see timedInserts). */
const WARM_UP_TABLES = 20;

/** How many tables each driver fills while measured (insertTables lists them first). */
const measuredTableCount = (quick: boolean): number => (quick ? 1 : 5);

/** The measured tables, then the warm-up ones. */
const insertTables = (prefix: string, quick: boolean): string[] => [
  ...Array.from({ length: measuredTableCount(quick) }, (_, i) => `${prefix}_${i}`),
  ...Array.from({ length: quick ? 1 : WARM_UP_TABLES }, (_, i) => `${prefix}_warm_up_${i}`),
];

/** Fills the warm-up tables, then times filling the others with `insert`. */
async function timedInserts(
  ctx: TrialContext,
  prefix: string,
  insert: (table: string, rows: unknown[][]) => unknown,
): Promise<TrialOutcome> {
  const tables = insertTables(prefix, ctx.quick);
  const measured = tables.slice(0, measuredTableCount(ctx.quick));
  const warmUps = tables.slice(measured.length);
  const rows = insertRows(INSERTS);
  // Like the point-select trials, measured once the code is warm: the first 10k awaited calls
  // of a fresh process run unoptimised code (5x slower here), which a service pays once. One
  // warm-up was not enough for the drop-in: its 2nd to 6th runMany of 10k rows took 17-38 ms
  // where later ones took 12 ms (a script; raw better-sqlite3: 9-18 ms, then 9 ms).
  await sequential((i) => insert(warmUps[i], rows), warmUps.length);
  const { wallMs } = await ctx.measure(() =>
    sequential((i) => insert(measured[i], rows), measured.length),
  );
  return { value: wallMs / measured.length, ops: INSERTS * measured.length };
}

const insertBatch: Trial = {
  name: 'insert 10k rows, runMany in one transaction',
  description:
    'Raw: a `db.transaction()` looping `run()` 10k times. Drop-in: one `runMany(rows)` inside `db.transaction(async fn)`.',
  unit: 'ms/10k rows',
  better: 'lower',
  drivers: drivers(
    [RAW, DROP_IN],
    (db, ctx) => timedInserts(ctx, 'batch', (table, rows) => db.insertBatch!(table, rows)),
    (quick) => insertTables('batch', quick),
  ),
};

const insertAwaited: Trial = {
  name: '10k awaited run() in an async transaction',
  description:
    'Raw: a `db.transaction()` looping `run()` 10k times. Drop-in: 10k `await stmt.run(row)` inside `db.transaction(async fn)`.',
  unit: 'ms/10k rows',
  better: 'lower',
  drivers: drivers(
    [RAW, DROP_IN],
    (db, ctx) => timedInserts(ctx, 'awaited', (table, rows) => db.insertAwaited!(table, rows)),
    (quick) => insertTables('awaited', quick),
  ),
};

const loopDelay: Trial = {
  name: 'event-loop delay during 200 ms queries',
  description:
    'Queries that each run ~200 ms (a recursive count calibrated on this machine), one after another; the headline is the worst main-thread event-loop delay.',
  unit: 'ms max loop delay',
  better: 'lower',
  drivers: drivers(ALL, async (db, ctx, fixture) => {
    const n = calibrateCount(fixture, 200);
    const times = ctx.quick ? 2 : 5;
    const took: number[] = [];
    const region = await ctx.measure(() =>
      sequential(async () => {
        const t0 = performance.now();
        await db.count(n);
        took.push(performance.now() - t0);
      }, times),
    );
    return { value: region.loopDelayMax, ops: times, extra: { 'query ms': median(took) } };
  }),
};

const interrupt: Trial = {
  name: 'interrupt latency',
  description:
    'A count that would run for hours is started, aborted 100 ms later with an AbortSignal; time from `abort()` to the rejection. Raw better-sqlite3 cannot take part: the query blocks the thread that would call `abort()`.',
  unit: 'ms abort → rejection',
  better: 'lower',
  drivers: drivers([DROP_IN, NODE_SQLITE3], async (db, ctx) => {
    const times = ctx.quick ? 2 : 5;
    const latencies: number[] = [];
    const names = new Set<string>();
    await ctx.measure(() =>
      sequential(async () => {
        const controller = new AbortController();
        const running = Promise.resolve(db.count(FOREVER, controller.signal));
        const settled = running.then(
          () => 'resolved',
          (err: unknown) => (err as Error)?.name ?? String(err),
        );
        await new Promise((resolve) => setTimeout(resolve, 100));
        const t0 = performance.now();
        controller.abort();
        const outcome = await Promise.race([
          settled,
          new Promise<string>((resolve) =>
            setTimeout(() => resolve('still running 10 s after abort()'), 10_000),
          ),
        ]);
        latencies.push(performance.now() - t0);
        names.add(outcome);
        // The connection must still work after the interrupt.
        await db.pointGet(1);
      }, times),
    );
    ctx.note(`settled as: ${[...names].join(', ')}`);
    return { value: median(latencies), ops: times, extra: { 'max ms': Math.max(...latencies) } };
  }),
};

export const suite: Suite = {
  name: 'better-sqlite3',
  title: 'better-sqlite3: raw on the main thread vs the @unblock/better-sqlite3 drop-in',
  async unavailable() {
    return (
      (await whyNotImportable('better-sqlite3')) ??
      (await whyNotImportable('@unblock/better-sqlite3'))
    );
  },
  async driverUnavailable(driver) {
    return driver === NODE_SQLITE3 ? whyNotImportable('sqlite3') : undefined;
  },
  trials: [
    pointInFlight,
    pointSequential,
    pointIsolated,
    allRows,
    insertBatch,
    insertAwaited,
    loopDelay,
    interrupt,
  ],
};
