import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';

describe('CommonJS', () => {
  it('can require() the package and load the addon', () => {
    const script = `
      const { loadSqliteInterrupt, sqliteInterruptLoadError } = require('@unblock/sqlite-interrupt');
      const addon = loadSqliteInterrupt();
      console.log(typeof addon.registeredCount(), addon.interrupt(Number.MAX_SAFE_INTEGER), sqliteInterruptLoadError());
    `;
    const out = execFileSync(process.execPath, ['-e', script], {
      cwd: import.meta.dirname,
      encoding: 'utf8',
    });
    expect(out.trim()).toBe('number false undefined');
  });
});
