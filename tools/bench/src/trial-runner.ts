// The child process of one run: `node trial-runner.js <suite> <trial> <driver> [--quick]`.
// A fresh process per run keeps runs independent: no JIT state, heap, open worker or leftover
// timer of one driver can colour another's numbers.
import { monitorRegion, type RegionReport } from './loop-monitor.js';
import type { RunMessage } from './protocol.js';
import type { TrialContext } from './suite.js';
import { SUITES } from './suites/index.js';

async function main(): Promise<RunMessage> {
  const [suiteName, trialName, driverName, quick] = process.argv.slice(2);
  const notes: string[] = [];
  try {
    const load = SUITES[suiteName];
    if (load === undefined) throw new Error(`no suite ${suiteName}`);
    const suite = await load();
    const trial = suite.trials.find((t) => t.name === trialName);
    const driver = trial?.drivers.find((d) => d.name === driverName);
    if (driver === undefined)
      throw new Error(`no driver ${driverName} in ${suiteName} / ${trialName}`);
    let region: RegionReport | undefined;
    const ctx: TrialContext = {
      quick: quick === '--quick',
      async measure(fn) {
        if (region !== undefined) throw new Error('measure() may wrap one region per run');
        region = await monitorRegion(fn);
        return region;
      },
      note: (text) => void notes.push(text),
    };
    const outcome = await driver.run(ctx);
    if (region === undefined) throw new Error('the trial never called measure()');
    return { ok: true, outcome, region, notes };
  } catch (err) {
    return {
      ok: false,
      error: err instanceof Error ? (err.stack ?? err.message) : String(err),
      notes,
    };
  }
}

// Hold the process open until the run has reported. Without this a run can end early with exit
// code 13: @unblock/core unrefs a session's port while no call is pending, including while
// `session.close()` waits for the worker's 'closed' answer, so `await pool.close()` at the end
// of a script may find an empty event loop (reported to the core owner).
const keepAlive = setInterval(() => undefined, 1 << 30);
const message = await main();
clearInterval(keepAlive);
// Exit as soon as the parent has the result: a driver that leaves a handle open must not
// hold the run past its time limit.
process.send!(message, () => process.exit(message.ok ? 0 : 1));
