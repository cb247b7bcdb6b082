import { loadSqliteInterrupt, sqliteInterruptLoadError } from '@unblock/sqlite-interrupt';

let warned = false;

/**
 * The pool's `interrupt` hook, or undefined (core then terminates the worker to stop a running
 * call). Warns once per process when interruption was wanted but the addon is missing.
 */
export function interruptHook(wanted: boolean): ((token: unknown) => boolean) | undefined {
  if (!wanted) return undefined;
  // Internal test seam: behave as when the addon cannot be loaded (it is built in this repo).
  const unavailable = process.env.UNBLOCK_TEST_SQLITE_INTERRUPT_UNAVAILABLE === '1';
  const addon = unavailable ? undefined : loadSqliteInterrupt();
  if (addon !== undefined) return (token) => typeof token === 'number' && addon.interrupt(token);
  if (!warned) {
    warned = true;
    process.emitWarning(
      `${(unavailable ? undefined : sqliteInterruptLoadError()?.message) ?? '@unblock/sqlite-interrupt is not available.'} ` +
        '@unblock/better-sqlite3 will stop an aborted running statement by terminating its worker thread ' +
        '(an in-memory database is lost when that happens).',
      { code: 'UNBLOCK_WARN_NO_INTERRUPT' },
    );
  }
  return undefined;
}
