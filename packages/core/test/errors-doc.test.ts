import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ErrorCodes } from '@unblock/core';

describe('docs/errors.md', () => {
  it('is generated from the error code map and lists every code', () => {
    const script = new URL('../scripts/errors-doc.mjs', import.meta.url);
    expect(() => execFileSync(process.execPath, [script.pathname, '--check'])).not.toThrow();
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    for (const code of Object.keys(ErrorCodes)) expect(doc).toContain(`\`${code}\``);
  });
});
