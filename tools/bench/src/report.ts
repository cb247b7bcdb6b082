// The markdown report of one suite: a header saying where and how it was measured, one table
// row per trial and driver, then the notes (skips, failures, what a driver could not do).
import { arch, cpus, loadavg, platform } from 'node:os';
import { formatNumber, formatRatio } from './format.js';
import type { TrialSummary } from './summary.js';

/**
 * How the suite was run, for the report's header.
 *
 * @example
 * ```ts
 * const setup: RunSetup = { runs: 5, quick: false, startedAt: new Date(), loadAverage: os.loadavg()[0] };
 * ```
 */
export interface RunSetup {
  runs: number;
  quick: boolean;
  startedAt: Date;
  /** The 1-minute load average when the suite started (other work on the machine skews numbers). */
  loadAverage: number;
}

function machine(): string {
  const list = cpus();
  return `Node ${process.version}, ${platform()} ${arch()}, ${list.length} × ${list[0]?.model.trim() ?? 'unknown CPU'}`;
}

/**
 * Renders a suite's results as markdown.
 *
 * @example
 * ```ts
 * writeFileSync('results/core.md', renderMarkdown('core', 'Core', summaries, notes, setup));
 * ```
 */
export function renderMarkdown(
  title: string,
  summaries: readonly TrialSummary[],
  notes: readonly string[],
  setup: RunSetup,
  chartFile: string | undefined,
): string {
  const lines: string[] = [];
  lines.push(`# ${title}`, '');
  lines.push(
    `${machine()}. ${setup.runs} run(s) per trial and driver, each in a fresh child process, drivers interleaved run by run;` +
      ` medians over runs${setup.quick ? '. **--quick: a smoke check with few iterations, not a measurement**' : ''}.` +
      ` Measured ${setup.startedAt.toISOString()}; load average ${setup.loadAverage.toFixed(2)} at the start,` +
      ` ${loadavg()[0].toFixed(2)} at the end (above 0 means other work shared the CPUs).`,
    '',
  );
  lines.push(
    '"vs baseline" is the median over runs of (driver / baseline of the same run), turned so that > 1 is better than the baseline' +
      ' (for times: baseline ÷ driver). Loop delay is `monitorEventLoopDelay` (resolution 1 ms); tick gap is the gap between ticks' +
      ' of a 1 ms `setInterval` (1 ms is ideal). Main thread is its event-loop active time (`eventLoopUtilization`) during the' +
      ' measured region, and per operation, with the part of it its garbage collector took (GC: pauses seen by a `PerformanceObserver`); CPU is the whole process, all threads.',
    '',
  );
  lines.push(
    '| Trial | Driver | Result | vs baseline | Target | Loop delay p99 / max (ms) | Tick gap p99 / max (ms) | Main thread ms (µs/op); GC ms | CPU all threads ms | Other |',
    '|---|---|--:|--:|---|--:|--:|--:|--:|---|',
  );
  for (const { trial, baseline, drivers } of summaries) {
    const base = drivers.find((d) => d.driver === baseline);
    drivers.forEach((d, i) => {
      const cells: string[] = [i === 0 ? `**${trial.name}**` : '', d.driver];
      if (d.runs === 0) {
        const why = d.skipped ?? (d.failures.length > 0 ? 'failed (see notes)' : 'no result');
        cells.push(`_${why}_`, '', '', '', '', '', '', '');
      } else {
        const target =
          trial.target === undefined || d.driver === baseline
            ? ''
            : `${trial.target.met(d.value, base?.runs ? base.value : undefined) ? '✅' : '❌'} ${trial.target.text}`;
        const perOp = Number.isFinite(d.mainUsPerOp) ? ` (${formatNumber(d.mainUsPerOp)})` : '';
        cells.push(
          `${formatNumber(d.value)} ${trial.unit}`,
          d.driver === baseline ? 'baseline' : formatRatio(d.ratio),
          target,
          `${formatNumber(d.region.loopDelayP99)} / ${formatNumber(d.region.loopDelayMax)}`,
          `${formatNumber(d.region.gapP99)} / ${formatNumber(d.region.gapMax)}`,
          `${formatNumber(d.region.mainActiveMs)}${perOp}; GC ${formatNumber(d.region.mainGcMs)}`,
          formatNumber(d.region.processCpuMs),
          Object.entries(d.extra)
            .map(([key, value]) => `${key} ${formatNumber(value)}`)
            .join(', '),
        );
      }
      lines.push(`| ${cells.join(' | ')} |`);
    });
  }
  lines.push('');
  lines.push('## Trials', '');
  for (const { trial, baseline } of summaries) {
    lines.push(`- **${trial.name}** (baseline: ${baseline}): ${trial.description}`);
  }
  if (notes.length > 0) {
    lines.push('', '## Notes', '');
    for (const note of notes) lines.push(`- ${note}`);
  }
  if (chartFile !== undefined) lines.push('', `![chart](./${chartFile})`);
  lines.push('');
  return lines.join('\n');
}
