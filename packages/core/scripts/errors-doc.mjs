// Writes docs/errors.md from the one map of error codes (src/error-codes.ts, built to dist/).
// `node scripts/errors-doc.mjs --check` fails when the file is stale; a test runs that check.
import { readFileSync, writeFileSync } from 'node:fs';
import { ErrorCodes } from '../dist/error-codes.js';

// Warning codes of process.emitWarning(). They are listed here rather than in a map that the
// emitting code imports: they are emitted from several packages (core's leak detector,
// @unblock/better-sqlite3), each with its code as a literal. errors-doc.test.ts fails when a
// package's src emits an UNBLOCK_WARN_* code that is missing here.
const WarningCodes = {
  UNBLOCK_WARN_LEAK:
    'Core (type `UnblockLeakWarning`): a remote handle was garbage-collected without being closed, a lease was held longer than `leakDetectionThreshold`, or a lease was still open when its pool closed. The message carries the stack that took it; `pool.leaks` emits the same as a `leak` event.',
  UNBLOCK_WARN_LEAK_RETURNED:
    'Core (type `UnblockLeakWarning`): a lease reported as held too long was returned at last, after the time the message gives.',
  UNBLOCK_WARN_INTERRUPT_FAILED:
    "Core: a pool's `interrupt(token)` hook threw while a running call was being aborted; the call was stopped by terminating its worker thread instead (the message carries the hook's error).",
  UNBLOCK_WARN_NO_INTERRUPT:
    '@unblock/better-sqlite3, once per process: `@unblock/sqlite-interrupt` could not be loaded, so an aborted running statement is stopped by terminating its worker thread.',
  UNBLOCK_WARN_DATABASE_LOST:
    '@unblock/better-sqlite3: the worker thread of an in-memory database exited (terminated to stop a running statement, or crashed); the database starts again empty.',
};

const target = new URL('../docs/errors.md', import.meta.url);
const table = (map) => Object.entries(map).map(([code, meaning]) => `| \`${code}\` | ${meaning} |`);
const text = `# Error codes

Generated from \`src/error-codes.ts\` by \`scripts/errors-doc.mjs\`; do not edit by hand.
Match on \`err.code\`: codes are stable, messages are not. Every error below is an \`UnblockError\`
(with a class of its own) except \`UNBLOCK_ERR_INVALID_ARG\`: arguments a caller can fix are
rejected synchronously with a plain \`TypeError\` or \`RangeError\`. Core's own checks set no code
on those; \`UNBLOCK_ERR_INVALID_ARG\` is the code an adapter sets on such a \`TypeError\` where it
checks an argument itself (\`@unblock/sqlite-interrupt\` for a connection id that is not a safe
integer, for instance).
Cancellation rejects with \`AbortError\` (\`code: 'ABORT_ERR'\`, \`cause\`: the signal's reason or a
\`TimeoutError\`), and driver errors keep the driver's own class and code.

| code | meaning |
| --- | --- |
${table(ErrorCodes).join('\n')}

## Warning codes

Emitted with \`process.emitWarning()\`; listen with \`process.on('warning', (w) => w.code)\`.

| code | meaning |
| --- | --- |
${table(WarningCodes).join('\n')}
`;

if (process.argv.includes('--check')) {
  if (readFileSync(target, 'utf8') !== text) {
    console.error('docs/errors.md is stale: run node packages/core/scripts/errors-doc.mjs');
    process.exit(1);
  }
} else {
  writeFileSync(target, text);
}
