import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

// A child process: the warning is emitted once per process, and the addon is built here, so its
// absence is forced with the package's internal test seam.
const SCRIPT = `
import Database from '@unblock/better-sqlite3';
import { poolOf } from '@unblock/better-sqlite3/testing';
import { withCallOptions } from '@unblock/core';
const warnings = [];
process.on('warning', (w) => warnings.push({ code: w.code, message: w.message }));
const a = await Database.open(':memory:');
const b = await Database.open(':memory:', { interrupt: false });
const c = await Database.open(':memory:');
const slow = await a.prepare(
  'with recursive c(x) as (select 1 union all select x + 1 from c where x < 2000000) select count(*) from c',
);
const controller = new AbortController();
const pending = withCallOptions({ signal: controller.signal }, () => slow.get());
// Aborted once it runs: a worker that starts late would otherwise see it still queued.
for (let i = 0; i < 2000 && poolOf(a).stats().running !== 1; i++) {
  await new Promise((resolve) => setTimeout(resolve, 1));
}
controller.abort();
let aborted;
try {
  await pending;
} catch (err) {
  aborted = { name: err.name, state: err.state };
}
const after = await (await a.prepare('select 1 as one')).get();
await Promise.all([a.close(), b.close(), c.close()]);
await new Promise((resolve) => setImmediate(resolve));
console.log(JSON.stringify({ warnings, aborted, after }));
`;

describe('without the interrupt addon', () => {
  it('warns once (UNBLOCK_WARN_NO_INTERRUPT), stops an aborted statement by terminating, and the db answers again', async () => {
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', SCRIPT], {
      cwd: new URL('..', import.meta.url),
      env: { ...process.env, UNBLOCK_TEST_SQLITE_INTERRUPT_UNAVAILABLE: '1' },
    });
    const result = JSON.parse(stdout.trim().split('\n').pop()!) as {
      warnings: { code: string; message: string }[];
      aborted: unknown;
      after: unknown;
    };
    const noInterrupt = result.warnings.filter((w) => w.code === 'UNBLOCK_WARN_NO_INTERRUPT');
    expect(noInterrupt).toHaveLength(1);
    expect(noInterrupt[0].message).toMatch(/terminating its worker thread/);
    expect(result.aborted).toEqual({ name: 'AbortError', state: 'running' });
    expect(result.after).toEqual({ one: 1 });
  });

  it('interrupt: false alone gives no warning', async () => {
    const script = `
      import Database from '@unblock/better-sqlite3';
      const warnings = [];
      process.on('warning', (w) => warnings.push(w.code));
      const db = await Database.open(':memory:', { interrupt: false });
      await db.close();
      await new Promise((resolve) => setImmediate(resolve));
      console.log(JSON.stringify(warnings));
    `;
    // Without the addon, as in the test above: only interrupt: false keeps the warning away.
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], {
      cwd: new URL('..', import.meta.url),
      env: { ...process.env, UNBLOCK_TEST_SQLITE_INTERRUPT_UNAVAILABLE: '1' },
    });
    expect(JSON.parse(stdout.trim().split('\n').pop()!)).not.toContain('UNBLOCK_WARN_NO_INTERRUPT');
  });
});
