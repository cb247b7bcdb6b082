import type { RegionReport } from './loop-monitor.js';

// The shapes a suite file fills in. A suite lists its trials; each trial names the drivers it
// compares, the first of which is the baseline that ratios are computed against.

/** How a trial's headline number reads: larger is better (rates) or smaller is (times). */
export type Better = 'higher' | 'lower';

/**
 * What one run of a trial for one driver reports back to the parent process.
 *
 * @example
 * ```ts
 * return { value: calls / seconds, ops: calls, extra: { 'p99 µs': p99 } };
 * ```
 */
export interface TrialOutcome {
  /** The headline number, in the trial's `unit`. */
  value: number;
  /** Operations done inside the measured region (gives main-thread time per operation). */
  ops?: number;
  /** Secondary numbers shown beside the headline (medians over runs). */
  extra?: Record<string, number>;
}

/**
 * What the runner hands a trial. `measure` must wrap the timed region exactly once: event-loop
 * delay and main-thread time are recorded only inside it, so set-up and warm-up stay out.
 *
 * @example
 * ```ts
 * const { wallMs } = await ctx.measure(async () => { for (let i = 0; i < n; i++) await call(); });
 * ```
 */
export interface TrialContext {
  /** Fewer iterations (a smoke check, not a measurement). */
  readonly quick: boolean;
  /** Runs `fn` with the monitors on; resolves with what they saw (`wallMs` is its wall time). */
  measure(fn: () => Promise<void>): Promise<RegionReport>;
  /** Prints a note into the report (say, why a number is missing). */
  note(text: string): void;
}

/**
 * One driver of a trial: a name shown in the table and the code measured.
 *
 * @example
 * ```ts
 * { name: 'raw port', run: (ctx) => pingPong(ctx) }
 * ```
 */
export interface TrialDriver {
  name: string;
  run(ctx: TrialContext): Promise<TrialOutcome>;
}

/**
 * A trial: one workload measured once per driver per run, each in a fresh child process.
 *
 * @example
 * ```ts
 * { name: 'sequential', unit: 'µs/call', better: 'lower', drivers: [raw, unblock] }
 * ```
 */
export interface Trial {
  name: string;
  /** One sentence: what the trial does and what it shows. */
  description: string;
  unit: string;
  better: Better;
  /** The goal printed beside the result, with a check against the measured median. */
  target?: { text: string; met(value: number, baseline: number | undefined): boolean };
  /**
   * The drivers, baseline first. Their `run` imports the driver itself (dynamically), so the
   * parent process can list trials without loading any driver.
   */
  drivers: readonly TrialDriver[];
  /** The baseline driver name; ratios are against it. Defaults to the first driver. */
  baseline?: string;
}

/**
 * A suite: trials over one driver family, plus a check that says why it cannot run here.
 *
 * @example
 * ```ts
 * export const suite: Suite = { name: 'core', unavailable: async () => undefined, trials };
 * ```
 */
export interface Suite {
  name: string;
  title: string;
  /** Resolves with a reason when the suite cannot run (a package not built, no server). */
  unavailable(): Promise<string | undefined>;
  /** Resolves with a reason when `driver` cannot run here (a peer not installed). */
  driverUnavailable?(driver: string): Promise<string | undefined>;
  trials: readonly Trial[];
}
