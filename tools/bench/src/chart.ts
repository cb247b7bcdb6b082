// A dependency-free SVG of a suite: per trial and driver, the ratio against the baseline
// (log scale around 1, bars to the right are better) and the worst event-loop delay (log ms).
import { formatNumber, formatRatio } from './format.js';
import type { TrialSummary } from './summary.js';

const COLORS = ['#9e9e9e', '#1f77b4', '#ff7f0e', '#2ca02c', '#d62728'];
const LABEL_W = 300;
const PANEL_W = 280;
const GAP = 30;
const ROW_H = 18;
const HEAD_H = 22;
const TOP = 56;

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Maps `value` on a log10 scale from `min`..`max` to 0..PANEL_W, clamped. */
function logX(value: number, min: number, max: number): number {
  const v = Math.min(max, Math.max(min, value));
  return ((Math.log10(v) - Math.log10(min)) / (Math.log10(max) - Math.log10(min))) * PANEL_W;
}

/**
 * Renders the chart of a suite as an SVG document.
 *
 * @example
 * ```ts
 * writeFileSync('results/core.svg', renderChart('core', summaries));
 * ```
 */
export function renderChart(title: string, summaries: readonly TrialSummary[]): string {
  const ratioMin = 0.01;
  const ratioMax = 100;
  const delayMin = 0.1;
  const delayMax = 10_000;
  const ax = LABEL_W;
  const bx = LABEL_W + PANEL_W + GAP;
  const parts: string[] = [];
  let y = TOP;
  for (const { trial, baseline, drivers } of summaries) {
    parts.push(`<text x="4" y="${y + 15}" font-weight="bold">${escape(trial.name)}</text>`);
    y += HEAD_H;
    drivers.forEach((d, i) => {
      const color = COLORS[i % COLORS.length];
      parts.push(`<text x="14" y="${y + 13}">${escape(d.driver)}</text>`);
      if (d.runs > 0) {
        if (d.driver !== baseline && Number.isFinite(d.ratio)) {
          const one = logX(1, ratioMin, ratioMax);
          const at = logX(d.ratio, ratioMin, ratioMax);
          const x0 = ax + Math.min(one, at);
          parts.push(
            `<rect x="${x0.toFixed(1)}" y="${y + 3}" width="${Math.max(1, Math.abs(at - one)).toFixed(1)}" height="${ROW_H - 6}" fill="${color}"/>`,
            `<text x="${(ax + Math.max(one, at) + 3).toFixed(1)}" y="${y + 13}" font-size="10">${formatRatio(d.ratio)}</text>`,
          );
        }
        const delay = d.region.loopDelayMax;
        if (Number.isFinite(delay)) {
          const w = Math.max(1, logX(delay, delayMin, delayMax));
          parts.push(
            `<rect x="${bx}" y="${y + 3}" width="${w.toFixed(1)}" height="${ROW_H - 6}" fill="${color}"/>`,
            `<text x="${(bx + w + 3).toFixed(1)}" y="${y + 13}" font-size="10">${formatNumber(delay)} ms</text>`,
          );
        }
      } else {
        parts.push(
          `<text x="${ax + 4}" y="${y + 13}" font-size="10" fill="#888">${escape(d.skipped ?? 'no result')}</text>`,
        );
      }
      y += ROW_H;
    });
  }
  const height = y + 30;
  const width = bx + PANEL_W + 60;
  const axis = (
    x0: number,
    ticks: number[],
    min: number,
    max: number,
    label: (t: number) => string,
  ): string =>
    ticks
      .map((t) => {
        const x = x0 + logX(t, min, max);
        return (
          `<line x1="${x.toFixed(1)}" y1="${TOP - 4}" x2="${x.toFixed(1)}" y2="${y}" stroke="#ddd"/>` +
          `<text x="${x.toFixed(1)}" y="${y + 14}" font-size="10" text-anchor="middle">${label(t)}</text>`
        );
      })
      .join('');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="4" y="18" font-size="15" font-weight="bold">${escape(title)}</text>`,
    `<text x="${ax}" y="${TOP - 12}" font-weight="bold">vs baseline (log, right of 1× is better)</text>`,
    `<text x="${bx}" y="${TOP - 12}" font-weight="bold">main-thread event-loop delay max (log ms)</text>`,
    axis(ax, [0.01, 0.1, 1, 10, 100], ratioMin, ratioMax, (t) => `${t}×`),
    `<line x1="${(ax + logX(1, ratioMin, ratioMax)).toFixed(1)}" y1="${TOP - 4}" x2="${(ax + logX(1, ratioMin, ratioMax)).toFixed(1)}" y2="${y}" stroke="#444"/>`,
    axis(bx, [0.1, 1, 10, 100, 1000, 10000], delayMin, delayMax, (t) => `${t}`),
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
