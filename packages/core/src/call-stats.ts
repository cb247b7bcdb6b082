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

/** Counts calls and records how long they waited (before reaching a worker) and ran. */
export class CallStats {
  completed = 0;
  failed = 0;
  aborted = 0;
  private readonly wait: RecordableHistogram = createHistogram();
  private readonly run: RecordableHistogram = createHistogram();

  /** Records one finished call; times are `performance.now()` readings. */
  record(queuedAt: number, sentAt: number, endedAt: number): void {
    this.wait.record(Math.max(1, Math.round((sentAt - queuedAt) * 1e6)));
    this.run.record(Math.max(1, Math.round((endedAt - sentAt) * 1e6)));
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
