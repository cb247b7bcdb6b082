import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { ErrorCodes } from '@unblock/core';

const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');

describe('docs/errors.md', () => {
  it('is generated from the error code map and lists every code', () => {
    const script = new URL('../scripts/errors-doc.mjs', import.meta.url);
    expect(() => execFileSync(process.execPath, [script.pathname, '--check'])).not.toThrow();
    for (const code of Object.keys(ErrorCodes)) expect(doc).toContain(`\`${code}\``);
  });

  it('lists every UNBLOCK_WARN_* code that a package emits', () => {
    const packages = new URL('../../', import.meta.url);
    const emitted = new Set<string>();
    for (const name of readdirSync(packages)) {
      const src = new URL(`${name}/src/`, packages);
      let files: string[];
      try {
        files = readdirSync(src, { recursive: true, encoding: 'utf8' });
      } catch {
        continue; // not a package with sources
      }
      for (const file of files.filter((f) => /\.(ts|cc)$/.test(f))) {
        const text = readFileSync(new URL(file, src), 'utf8');
        for (const [code] of text.matchAll(/\bUNBLOCK_WARN_[A-Z_]+\b/g)) emitted.add(code);
      }
    }
    // The leak warnings at least; a scan that finds nothing is broken.
    expect([...emitted]).toEqual(expect.arrayContaining(['UNBLOCK_WARN_LEAK']));
    const section = doc.slice(doc.indexOf('## Warning codes'));
    for (const code of emitted) expect(section, code).toContain(`| \`${code}\` |`);
  });
});
