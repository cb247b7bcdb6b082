import { areas, type ConformanceCase } from './case.js';
import { cancellationCases } from './cases/cancellation.js';
import { columnsCases } from './cases/columns.js';
import { crashesCases } from './cases/crashes.js';
import { errorsCases } from './cases/errors.js';
import { eventLoopCases } from './cases/event-loop.js';
import { iterationCases } from './cases/iteration.js';
import { leaksCases } from './cases/leaks.js';
import { lifecycleCases } from './cases/lifecycle.js';
import { loadCases } from './cases/load.js';
import { transactionsCases } from './cases/transactions.js';
import { valuesCases } from './cases/values.js';

/**
 * Every case of the suite, area by area. The README's case list is generated from this table
 * (`npm run readme`), and a test fails when the two differ.
 *
 * @example
 * ```ts
 * import { conformanceCases } from '@unblock/conformance';
 * console.log(conformanceCases.map((c) => c.id));
 * ```
 */
export const conformanceCases: readonly ConformanceCase[] = Object.freeze([
  ...valuesCases,
  ...columnsCases,
  ...errorsCases,
  ...transactionsCases,
  ...iterationCases,
  ...cancellationCases,
  ...leaksCases,
  ...crashesCases,
  ...loadCases,
  ...eventLoopCases,
  ...lifecycleCases,
]);

const seen = new Set<string>();
for (const c of conformanceCases) {
  if (seen.has(c.id)) throw new Error(`duplicate conformance case id ${c.id}`);
  if (!/^[a-z0-9-]+(\.[a-z0-9-]+)+$/.test(c.id))
    throw new Error(`malformed conformance case id ${c.id}`);
  seen.add(c.id);
}

/**
 * The Markdown list of cases that README.md carries between its `cases` markers.
 *
 * @example
 * ```ts
 * process.stdout.write(renderCaseList());
 * ```
 */
export function renderCaseList(cases: readonly ConformanceCase[] = conformanceCases): string {
  const lines: string[] = [`${cases.length} cases.`, ''];
  for (const area of areas) {
    const mine = cases.filter((c) => c.area === area);
    if (mine.length === 0) continue;
    lines.push(
      `### ${area} (${mine.length})`,
      '',
      '| id | contract | needs |',
      '| --- | --- | --- |',
    );
    for (const c of mine)
      lines.push(
        `| \`${c.id}\` | ${c.title.replaceAll('|', '\\|')} | ${(c.requires ?? []).join(', ')} |`,
      );
    lines.push('');
  }
  return lines.join('\n');
}
