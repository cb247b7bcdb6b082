import { createHistogram, type RecordableHistogram } from 'node:perf_hooks';

/**
 * Percentiles of a duration histogram, in milliseconds: `waitTime` and `runTime` of
 * {@link PoolStats}.
 *
 * @example
 * ```ts
 * const { waitTime, runTime } = pool.stats();
 * metrics.gauge('db.wait.p99', waitTime.p99);
 * metrics.gauge('db.run.p50', runTime.p50);
 * ```
 */
export interface DurationSummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

/**
 * Counts calls and records how long they ran (the operation in the worker, as the worker
 * timed it) and waited (the rest: queued on either side, and the trips there and back).
 */
export class CallStats {
  completed = 0;
  failed = 0;
  aborted = 0;
  private readonly wait: RecordableHistogram = createHistogram();
  private readonly run: RecordableHistogram = createHistogram();

  /** Records one answered call: `performance.now()` at the call and at its answer, and its run time (µs). */
  record(queuedAt: number, answeredAt: number, ranUs: number): void {
    const totalNs = (answeredAt - queuedAt) * 1e6;
    const ranNs = ranUs * 1e3;
    this.wait.record(Math.max(1, Math.round(totalNs - ranNs)));
    this.run.record(Math.max(1, Math.round(ranNs)));
  }

  waitTime(): DurationSummary {
    return summarize(this.wait);
  }

  runTime(): DurationSummary {
    return summarize(this.run);
  }
}

function summarize(h: RecordableHistogram): DurationSummary {
  const ms = (ns: number): number => (Number.isFinite(ns) ? ns / 1e6 : 0);
  return {
    count: h.count,
    mean: h.count === 0 ? 0 : ms(h.mean),
    p50: h.count === 0 ? 0 : ms(h.percentile(50)),
    p90: h.count === 0 ? 0 : ms(h.percentile(90)),
    p99: h.count === 0 ? 0 : ms(h.percentile(99)),
    max: h.count === 0 ? 0 : ms(h.max),
  };
}
