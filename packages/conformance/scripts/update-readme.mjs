// Rewrites the case list of README.md from the suite's case table (run after `tsc -b`):
//   npm run readme            rewrite it
//   npm run readme -- --check exit 1 if it is out of date
import { readFileSync, writeFileSync } from 'node:fs';
import { renderCaseList } from '../dist/case-table.js';

const readme = new URL('../README.md', import.meta.url);
const start = '<!-- cases:start -->';
const end = '<!-- cases:end -->';
const text = readFileSync(readme, 'utf8');
const from = text.indexOf(start);
const to = text.indexOf(end);
if (from === -1 || to === -1) throw new Error(`README.md lacks the ${start} / ${end} markers`);
const next = `${text.slice(0, from + start.length)}\n${renderCaseList()}\n${text.slice(to)}`;
if (process.argv.includes('--check')) {
  if (next !== text) {
    console.error(
      'README.md case list is out of date: run `npm run readme` in packages/conformance',
    );
    process.exit(1);
  }
} else if (next !== text) {
  writeFileSync(readme, next);
  console.log('README.md case list updated');
}
