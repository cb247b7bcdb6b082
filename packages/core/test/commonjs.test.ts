import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';

describe('CommonJS', () => {
  it('can require() the package and run a call', () => {
    const script = `
      const { offload } = require('@unblock/core');
      const { defineDriver } = require('@unblock/core/worker');
      const os = offload('node:os', { threads: 1 });
      os.cpus().then((cpus) => { console.log(typeof defineDriver, cpus.length > 0); return os[Symbol.asyncDispose](); });
    `;
    const out = execFileSync(process.execPath, ['-e', script], {
      cwd: import.meta.dirname,
      encoding: 'utf8',
    });
    expect(out.trim()).toBe('function true');
  });

  it('can require() @unblock/core/testing and check a pool for leaks', () => {
    const script = `
      const { offload, poolOf } = require('@unblock/core');
      const { watchLeaks } = require('@unblock/core/testing');
      const os = offload('node:os', { threads: 1 });
      const leaks = watchLeaks(poolOf(os));
      os.cpus()
        .then(() => leaks.check())
        .then((report) => { console.log(JSON.stringify(report)); leaks.stop(); return os[Symbol.asyncDispose](); });
    `;
    // check() needs gc() to find dropped handles.
    const out = execFileSync(process.execPath, ['--expose-gc', '-e', script], {
      cwd: import.meta.dirname,
      encoding: 'utf8',
    });
    expect(out.trim()).toBe('{"events":[],"live":{}}');
  });
});
