// Records what the main thread went through while a trial's timed region ran.
//
// Event-loop delay is taken two ways, because each misses something the other sees:
// - `monitorEventLoopDelay({ resolution: 1 })` samples libuv's timer lateness into a histogram
//   in native code, so it costs almost nothing and catches stalls of any length;
// - a 1 ms `setInterval` records the gap between its own ticks in JavaScript, which is what a
//   user's timers and I/O callbacks actually wait for (it includes the time to run queued
//   callbacks, not only the timer's lateness).
//
// Main-thread time: `process.cpuUsage()` sums every thread of the process, worker threads
// included, so it cannot say what the main thread paid. `performance.eventLoopUtilization()`
// is per thread: `active` is the time this thread's loop spent outside its idle wait for I/O,
// which covers running JavaScript, decoding results and blocking native calls (a synchronous
// SQLite query on the main thread counts in full, as it should). It is wall time, not CPU time,
// but a thread that is active and not waiting for I/O is on the CPU, so the two agree here.
// The process-wide CPU time is reported beside it as the total cost across all threads.
//
// Main-thread GC: the pauses of this thread's garbage collector (PerformanceObserver 'gc'
// entries, which each thread sees for its own heap) that began in the region. Rows kept by the
// caller must be collected there whatever the driver, so this is the part of the main thread's
// time that no wire format or decoder can take away.
import { PerformanceObserver, monitorEventLoopDelay } from 'node:perf_hooks';
import { percentile } from './stats.js';

/**
 * What one timed region cost the main thread.
 *
 * @example
 * ```ts
 * const { loopDelayMax, mainActiveMs } = await monitorRegion(work);
 * ```
 */
export interface RegionReport {
  wallMs: number;
  /** `monitorEventLoopDelay` percentiles, in ms; it measures tick to tick, so 1 is ideal. */
  loopDelayP99: number;
  loopDelayMax: number;
  /** Gaps between the ticks of a 1 ms interval, in ms (1 is ideal). */
  gapP99: number;
  gapMax: number;
  /** Time the main thread's event loop was active (eventLoopUtilization), in ms. */
  mainActiveMs: number;
  /** Of that time, the main thread's garbage-collection pauses, in ms. */
  mainGcMs: number;
  /** CPU time of the whole process, all threads, in ms. */
  processCpuMs: number;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Runs `fn` with both delay monitors on and reads the main thread's time around it.
 *
 * @example
 * ```ts
 * const report = await monitorRegion(async () => { for (let i = 0; i < 1000; i++) await call(); });
 * ```
 */
export async function monitorRegion(fn: () => Promise<void>): Promise<RegionReport> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const gaps: number[] = [];
  let last = performance.now();
  const ticker = setInterval(() => {
    const now = performance.now();
    gaps.push(now - last);
    last = now;
  }, 1);
  histogram.enable();
  await sleep(3);
  // Drop the start-up samples. `reset()` also forgets the histogram's previous tick, and the
  // delay is measured from tick to tick, so a stall that began before its next tick would go
  // unrecorded (checked on Node 20): let it tick again before the region starts.
  histogram.reset();
  await sleep(2);
  gaps.length = 0;
  last = performance.now();

  const gcPauses: { startTime: number; duration: number }[] = [];
  const gc = new PerformanceObserver((list) => void gcPauses.push(...list.getEntries()));
  gc.observe({ entryTypes: ['gc'] });
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const start = performance.now();
  await fn();
  const end = performance.now();
  const wallMs = end - start;
  const used = performance.eventLoopUtilization(elu);
  const cpuUsed = process.cpuUsage(cpu);

  // A stall that ended with `fn` is recorded only when the timers fire next; give them a turn.
  await sleep(3);
  histogram.disable();
  clearInterval(ticker);
  gc.disconnect();
  let mainGcMs = 0;
  for (const pause of gcPauses)
    if (pause.startTime >= start && pause.startTime < end) mainGcMs += pause.duration;
  const ns = 1e6;
  const report: RegionReport = {
    wallMs,
    loopDelayP99: histogram.count > 0 ? histogram.percentile(99) / ns : NaN,
    loopDelayMax: histogram.count > 0 ? histogram.max / ns : NaN,
    gapP99: percentile(gaps, 99),
    gapMax: gaps.length > 0 ? Math.max(...gaps) : NaN,
    mainActiveMs: used.active,
    mainGcMs,
    processCpuMs: (cpuUsed.user + cpuUsed.system) / 1000,
  };
  return report;
}
