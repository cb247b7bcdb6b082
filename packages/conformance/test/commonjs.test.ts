import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';

describe('CommonJS', () => {
  it('can require() the package and use the suite helpers', () => {
    const script = `
      const { conformanceCases, runConformanceSuite, selectAdapters } = require('@unblock/conformance');
      const picked = selectAdapters([{ name: 'sqlite-file' }, { name: 'mysql' }], 'mysql');
      console.log(typeof runConformanceSuite, conformanceCases.length > 0, JSON.stringify(picked));
    `;
    const out = execFileSync(process.execPath, ['-e', script], {
      cwd: import.meta.dirname,
      encoding: 'utf8',
    });
    expect(out.trim()).toBe('function true [{"name":"mysql"}]');
  });
});
