// Writes docs/errors.md from the one map of error codes (src/error-codes.ts, built to dist/).
// `node scripts/errors-doc.mjs --check` fails when the file is stale; a test runs that check.
import { readFileSync, writeFileSync } from 'node:fs';
import { ErrorCodes } from '../dist/error-codes.js';

const target = new URL('../docs/errors.md', import.meta.url);
const rows = Object.entries(ErrorCodes).map(([code, meaning]) => `| \`${code}\` | ${meaning} |`);
const text = `# Error codes

Generated from \`src/error-codes.ts\` by \`scripts/errors-doc.mjs\`; do not edit by hand.
Match on \`err.code\`: codes are stable, messages are not. Every error below is an \`UnblockError\`.
Cancellation rejects with \`AbortError\` (\`code: 'ABORT_ERR'\`, \`cause\`: the signal's reason or a
\`TimeoutError\`), and driver errors keep the driver's own class and code.

| code | meaning |
| --- | --- |
${rows.join('\n')}
`;

if (process.argv.includes('--check')) {
  if (readFileSync(target, 'utf8') !== text) {
    console.error('docs/errors.md is stale: run node packages/core/scripts/errors-doc.mjs');
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
}
