// Turns the runs of a trial into the numbers a report shows: medians over runs, and ratios
// against the baseline driver of the same run index (runs are interleaved, so run i of every
// driver ran back to back and saw the same machine state).
import type { RegionReport } from './loop-monitor.js';
import type { Trial, TrialOutcome } from './suite.js';
import { median } from './stats.js';

/**
 * One finished run of one driver.
 *
 * @example
 * ```ts
 * const run: RunRecord = { outcome: { value: 17 }, region };
 * ```
 */
export interface RunRecord {
  outcome: TrialOutcome;
  region: RegionReport;
}

/**
 * Medians of one driver over its runs.
 *
 * @example
 * ```ts
 * console.log(`${s.driver}: ${s.value} (${s.ratio}× raw)`);
 * ```
 */
export interface DriverSummary {
  driver: string;
  /** Runs that finished (a failed or timed-out run leaves a gap, not a zero). */
  runs: number;
  /** Why the driver did not run at all, if it did not. */
  skipped?: string;
  failures: string[];
  value: number;
  /** Median of per-run ratios against the baseline, oriented so that > 1 is better. */
  ratio: number;
  extra: Record<string, number>;
  region: RegionReport;
  /** Main-thread active time per operation, µs. */
  mainUsPerOp: number;
}

/**
 * One trial's drivers, baseline first.
 *
 * @example
 * ```ts
 * for (const d of summary.drivers) console.log(d.driver, d.value);
 * ```
 */
export interface TrialSummary {
  trial: Trial;
  baseline: string;
  drivers: DriverSummary[];
}

const REGION_KEYS = [
  'wallMs',
  'loopDelayP99',
  'loopDelayMax',
  'gapP99',
  'gapMax',
  'mainActiveMs',
  'mainGcMs',
  'processCpuMs',
] as const satisfies readonly (keyof RegionReport)[];

/**
 * `value` relative to `baseline`, so that > 1 always means better than the baseline.
 *
 * @example
 * ```ts
 * orientedRatio(10, 20, 'lower'); // 2: half the time, twice as good
 * ```
 */
export function orientedRatio(value: number, baseline: number, better: Trial['better']): number {
  return better === 'higher' ? value / baseline : baseline / value;
}

/**
 * Summarises one trial. `runs` maps a driver to its run records by run index (holes for
 * failed runs).
 *
 * @example
 * ```ts
 * const summary = summarise(trial, runs, skipped, failures);
 * ```
 */
export function summarise(
  trial: Trial,
  runs: Map<string, (RunRecord | undefined)[]>,
  skipped: Map<string, string>,
  failures: Map<string, string[]>,
): TrialSummary {
  const baseline = trial.baseline ?? trial.drivers[0].name;
  const base = runs.get(baseline) ?? [];
  const drivers = trial.drivers.map(({ name }): DriverSummary => {
    const records = runs.get(name) ?? [];
    const done = records.filter((r): r is RunRecord => r !== undefined);
    const ratios: number[] = [];
    records.forEach((record, i) => {
      const b = base[i];
      if (record !== undefined && b !== undefined) {
        ratios.push(orientedRatio(record.outcome.value, b.outcome.value, trial.better));
      }
    });
    const extraKeys = [...new Set(done.flatMap((r) => Object.keys(r.outcome.extra ?? {})))];
    const region = Object.fromEntries(
      REGION_KEYS.map((key) => [key, median(done.map((r) => r.region[key]))]),
    ) as unknown as RegionReport;
    return {
      driver: name,
      runs: done.length,
      skipped: skipped.get(name),
      failures: failures.get(name) ?? [],
      value: median(done.map((r) => r.outcome.value)),
      ratio: median(ratios),
      extra: Object.fromEntries(
        extraKeys.map((key) => [
          key,
          median(done.map((r) => r.outcome.extra?.[key] ?? NaN).filter((v) => !Number.isNaN(v))),
        ]),
      ),
      region,
      mainUsPerOp: median(
        done
          .filter((r) => (r.outcome.ops ?? 0) > 0)
          .map((r) => (r.region.mainActiveMs * 1000) / r.outcome.ops!),
      ),
    };
  });
  return { trial, baseline, drivers };
}
