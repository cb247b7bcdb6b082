import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { areas, conformanceCases, renderCaseList, selectAdapters } from '@unblock/conformance';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('case table', () => {
  it('has at least 80 cases, several in every area', () => {
    expect(conformanceCases.length).toBeGreaterThanOrEqual(80);
    for (const area of areas)
      expect(conformanceCases.filter((c) => c.area === area).length, area).toBeGreaterThanOrEqual(
        3,
      );
  });

  it('has unique ids, each starting with its area', () => {
    const ids = conformanceCases.map((c) => c.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const c of conformanceCases) expect(c.id.startsWith(`${c.area}.`)).toBe(true);
  });

  it('README.md lists every case, exactly as the table renders it (npm run readme)', () => {
    const start = readme.indexOf('<!-- cases:start -->') + '<!-- cases:start -->'.length;
    const listed = readme.slice(start, readme.indexOf('<!-- cases:end -->')).trim();
    expect(listed).toBe(renderCaseList().trim());
    for (const c of conformanceCases) expect(readme).toContain(`\`${c.id}\``);
  });
});

describe('selectAdapters', () => {
  const list = [{ name: 'sqlite-file' }, { name: 'sqlite-memory' }, { name: 'mysql' }];
  it('keeps all without a filter, and matches parts of names case-insensitively', () => {
    expect(selectAdapters(list, undefined)).toEqual(list);
    expect(selectAdapters(list, 'MEMORY, mysql').map((a) => a.name)).toEqual([
      'sqlite-memory',
      'mysql',
    ]);
  });
  it('throws on a filter that matches nothing', () => {
    expect(() => selectAdapters(list, 'postgres')).toThrow(/matches none/);
  });
});
