import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { filesUnder, packageDirs, root, shown } from './packages.js';

// Members marked @internal are for the packages' own use: tsconfig.base.json's `stripInternal`
// leaves them out of the declaration files, so an editor never offers them to a user and no
// user's code can compile against them. This reads what is published: every built .d.ts.
describe('published declarations', () => {
  it('covers every package', () => {
    expect(packageDirs).toEqual([
      'better-sqlite3',
      'conformance',
      'core',
      'mysql2',
      'sqlite-interrupt',
    ]);
  });

  it.each(packageDirs)('%s: no @internal declaration in dist/**/*.d.ts', (dir) => {
    const files = filesUnder(join(root, 'packages', dir, 'dist'), '.d.ts');
    expect(files.length, `packages/${dir}/dist has no .d.ts: build it first`).toBeGreaterThan(0);
    const found = files.flatMap((file) =>
      readFileSync(file, 'utf8')
        .split('\n')
        .flatMap((line, i) =>
          line.includes('@internal') ? [`${shown(file)}:${i + 1}: ${line.trim()}`] : [],
        ),
    );
    expect(found).toEqual([]);
  });
});
