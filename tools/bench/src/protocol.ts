// What a trial child process sends its parent over the IPC channel, once, before it exits.
import type { RegionReport } from './loop-monitor.js';
import type { TrialOutcome } from './suite.js';

/**
 * The one message of a trial run.
 *
 * @example
 * ```ts
 * process.send!({ ok: true, outcome, region, notes } satisfies RunMessage);
 * ```
 */
export type RunMessage =
  | { ok: true; outcome: TrialOutcome; region: RegionReport; notes: string[] }
  | { ok: false; error: string; notes: string[] };

/** The arguments of the trial runner: suite, trial, driver, and `--quick` or nothing. */
export type RunnerArgs = [suite: string, trial: string, driver: string, quick: '--quick' | ''];
