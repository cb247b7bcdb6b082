// The benchmark CLI: `node tools/bench/dist/main.js [suite...] [--runs N] [--quick]`.
//
// For every suite, trial and run index it forks one child process per driver (trial-runner.js),
// so every measurement starts from a fresh process, and interleaves the drivers run by run,
// so run i of every driver saw the same machine state and ratios compare neighbours. Progress
// goes to stderr; the markdown table goes to stdout and to results/<suite>.md with a chart.
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { renderChart } from './chart.js';
import type { RunMessage, RunnerArgs } from './protocol.js';
import { renderMarkdown, type RunSetup } from './report.js';
import type { Suite } from './suite.js';
import { SUITES } from './suites/index.js';
import { summarise, type RunRecord, type TrialSummary } from './summary.js';

/** A run that takes longer than this is killed and counted as failed. */
const RUN_TIMEOUT_MS = 30_000;
const runner = new URL('./trial-runner.js', import.meta.url);
const resultsDir = new URL('../results/', import.meta.url);

function runOnce(args: RunnerArgs): Promise<RunMessage> {
  return new Promise((resolve) => {
    const child = fork(runner, args.filter(Boolean), {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // As a service runs in production: the drop-ins then skip capturing the caller's stack
      // on every call. The core suite measures what that capture costs (captureStacks: true).
      env: { ...process.env, NODE_ENV: process.env.NODE_ENV ?? 'production' },
    });
    let message: RunMessage | undefined;
    const timer = setTimeout(() => {
      message ??= { ok: false, error: `killed after ${RUN_TIMEOUT_MS / 1000} s`, notes: [] };
      child.kill('SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.on('message', (m: RunMessage) => (message ??= m));
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(
        message ?? {
          ok: false,
          error: `exited with ${signal ?? code} before reporting`,
          notes: [],
        },
      );
    });
  });
}

async function runSuite(suite: Suite, runs: number, quick: boolean): Promise<void> {
  const setup: RunSetup = { runs, quick, startedAt: new Date(), loadAverage: loadavg()[0] };
  const notes = new Set<string>();
  const reason = await suite.unavailable();
  if (reason !== undefined) {
    console.log(`Suite ${suite.name} skipped: ${reason}\n`);
    return;
  }
  const summaries: TrialSummary[] = [];
  const unavailableDrivers = new Map<string, string | undefined>();
  for (const trial of suite.trials) {
    const records = new Map<string, (RunRecord | undefined)[]>();
    const skipped = new Map<string, string>();
    const failures = new Map<string, string[]>();
    for (const { name } of trial.drivers) {
      if (!unavailableDrivers.has(name)) {
        const why = await suite.driverUnavailable?.(name);
        unavailableDrivers.set(name, why);
        if (why !== undefined) {
          notes.add(`${name} skipped: ${why}`);
          console.error(`  ${name} skipped: ${why}`);
        }
      }
      if (unavailableDrivers.get(name) !== undefined) skipped.set(name, 'skipped');
    }
    for (let run = 0; run < runs; run++) {
      for (const { name } of trial.drivers) {
        if (skipped.has(name)) continue;
        const started = performance.now();
        const message = await runOnce([suite.name, trial.name, name, quick ? '--quick' : '']);
        for (const note of message.notes) notes.add(`${trial.name}, ${name}: ${note}`);
        const list = records.get(name) ?? [];
        records.set(name, list);
        const secs = ((performance.now() - started) / 1000).toFixed(1);
        if (message.ok) {
          list[run] = { outcome: message.outcome, region: message.region };
          console.error(
            `  ${suite.name} / ${trial.name} / ${name} run ${run + 1}: ${message.outcome.value.toPrecision(4)} ${trial.unit} (${secs} s)`,
          );
        } else {
          list[run] = undefined;
          const first = message.error.split('\n')[0];
          (failures.get(name) ?? failures.set(name, []).get(name)!).push(first);
          notes.add(`${trial.name}, ${name}: run ${run + 1} failed: ${first}`);
          console.error(
            `  ${suite.name} / ${trial.name} / ${name} run ${run + 1} FAILED: ${message.error}`,
          );
        }
      }
    }
    summaries.push(summarise(trial, records, skipped, failures));
  }
  mkdirSync(resultsDir, { recursive: true });
  // A --quick smoke check must not overwrite a real measurement.
  const base = quick ? `${suite.name}.quick` : suite.name;
  const chartFile = `${base}.svg`;
  const markdown = renderMarkdown(suite.title, summaries, [...notes], setup, chartFile);
  writeFileSync(new URL(chartFile, resultsDir), renderChart(suite.title, summaries));
  writeFileSync(new URL(`${base}.md`, resultsDir), markdown);
  console.log(markdown);
  console.error(`  wrote tools/bench/results/${base}.md and ${chartFile}\n`);
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    runs: { type: 'string', default: '5' },
    quick: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
const names = positionals.length > 0 ? positionals : Object.keys(SUITES);
const runs = Number(values.runs);
if (
  values.help ||
  !Number.isInteger(runs) ||
  runs < 1 ||
  names.some((n) => SUITES[n] === undefined)
) {
  console.error(
    `usage: node tools/bench/dist/main.js [${Object.keys(SUITES).join('|')}...] [--runs N] [--quick]`,
  );
  process.exit(values.help ? 0 : 2);
}
for (const name of names) await runSuite(await SUITES[name](), runs, values.quick);
