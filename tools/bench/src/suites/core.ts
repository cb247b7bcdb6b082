// Core alone: a session call to a driver that does nothing, beside a raw MessagePort
// ping-pong with a worker measured in the same run. The gap between the two is what core's
// protocol costs (batching, encoding, the interrupt slots, stack capture).
import { whyNotImportable } from '../can-import.js';
import type { Suite, Trial, TrialContext, TrialDriver, TrialOutcome } from '../suite.js';
import { inFlight, isolated, sequential, type Call } from '../workloads.js';

const RAW = 'raw MessagePort';
const UNBLOCK = 'unblock (captureStacks: false)';
const UNBLOCK_STACKS = 'unblock (captureStacks: true)';
const WIDTH = 64;

interface Caller {
  call: Call;
  close(): Promise<void>;
}

async function openCaller(driver: string): Promise<Caller> {
  if (driver === RAW) {
    const { openRawPort } = await import('../drivers/raw-port.js');
    const port = await openRawPort();
    return { call: (i) => port.call(i), close: () => port.close() };
  }
  const { createPool } = await import('@unblock/core');
  const pool = createPool({
    driver: new URL('../fixtures/noop-driver.js', import.meta.url),
    threads: 1,
    captureStacks: driver === UNBLOCK_STACKS,
  });
  const session = await pool.openSession();
  return { call: (i) => session.call('noop', [i]), close: () => pool.close() };
}

/** Each driver of a core trial: open the caller, warm it up, measure, close. */
function drivers(
  measure: (caller: Caller, ctx: TrialContext) => Promise<TrialOutcome>,
): TrialDriver[] {
  return [RAW, UNBLOCK, UNBLOCK_STACKS].map((name): TrialDriver => ({
    name,
    async run(ctx) {
      const caller = await openCaller(name);
      try {
        await sequential(caller.call, ctx.quick ? 500 : 5_000);
        await inFlight(caller.call, ctx.quick ? 2_000 : 20_000, WIDTH);
        return await measure(caller, ctx);
      } finally {
        await caller.close();
      }
    },
  }));
}

const sequentialTrial: Trial = {
  name: 'sequential round trip',
  description: 'One caller awaits each no-op call before making the next.',
  unit: 'µs/call',
  better: 'lower',
  target: {
    text: '≤ raw port (±5%; ~17 µs)',
    met: (value, raw) => raw !== undefined && value <= raw * 1.05,
  },
  drivers: drivers(async (caller, ctx) => {
    const n = ctx.quick ? 2_000 : 40_000;
    const { wallMs: ms } = await ctx.measure(() => sequential(caller.call, n));
    return { value: (ms * 1000) / n, ops: n };
  }),
};

const inFlightTrial: Trial = {
  name: `throughput, ${WIDTH} in flight`,
  description: `${WIDTH} callers, each making its next no-op call as soon as the last one is answered.`,
  unit: 'calls/s',
  better: 'higher',
  target: { text: '≥ 500k calls/s (raw port ~950k/s)', met: (value) => value >= 500_000 },
  drivers: drivers(async (caller, ctx) => {
    const n = ctx.quick ? 10_000 : 300_000;
    const { wallMs: ms } = await ctx.measure(() => inFlight(caller.call, n, WIDTH));
    return { value: n / (ms / 1000), ops: n };
  }),
};

const isolatedTrial: Trial = {
  name: 'isolated calls (1 per ms)',
  description:
    'One no-op call every millisecond, so each finds the worker idle; latency from call to answer.',
  unit: 'µs median latency',
  better: 'lower',
  drivers: drivers(async (caller, ctx) => {
    const n = ctx.quick ? 100 : 1_000;
    let result = { medianUs: NaN, p99Us: NaN };
    await ctx.measure(async () => {
      result = await isolated(caller.call, n, 1);
    });
    return { value: result.medianUs, ops: n, extra: { 'p99 µs': result.p99Us } };
  }),
};

export const suite: Suite = {
  name: 'core',
  title: '@unblock/core: a no-op session call vs a raw MessagePort round trip',
  unavailable: () => whyNotImportable('@unblock/core'),
  trials: [sequentialTrial, inFlightTrial, isolatedTrial],
};
