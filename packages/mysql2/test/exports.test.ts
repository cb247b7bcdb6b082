// Drift check: whatever mysql2/promise exports, named or on its default export, the drop-in
// exports too, in both places, with the same kind of value.
import * as theirs from 'mysql2/promise';
import * as ours from '@unblock/mysql2';
import { describe, expect, it } from 'vitest';

const theirDefault = theirs.default as unknown as Record<string, unknown>;
const ourDefault = ours.default as unknown as Record<string, unknown>;
const ourNamed = ours as unknown as Record<string, unknown>;
const names = [
  ...new Set([
    ...Object.keys(theirs).filter((key) => key !== 'default'),
    ...Object.keys(theirDefault),
  ]),
].sort();

describe('exports of mysql2/promise', () => {
  it('mysql2/promise exports what this test expects to compare', () => {
    expect(names).toEqual(expect.arrayContaining(['createConnection', 'createPool', 'Types']));
  });

  it.each(names)('%s is a named export and on the default export, of the same kind', (name) => {
    const kind = typeof theirDefault[name];
    expect(ourNamed[name], `named export ${name}`).toBeDefined();
    expect(ourDefault[name], `default export's ${name}`).toBeDefined();
    expect(typeof ourNamed[name]).toBe(kind);
    expect(typeof ourDefault[name]).toBe(kind);
  });
});
