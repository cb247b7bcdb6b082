// The README's install line must match package.json: mysql2 is a dependency pinned to one
// version (this package builds on its internal modules), not a peer the user installs.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  name: string;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
};

describe('README', () => {
  it('installs the package and its peers only, and names the mysql2 version it brings', () => {
    const install = /^## Install\n\n```sh\n(.*)\n```$/m.exec(readme)?.[1];
    expect(install).toBe(
      ['npm install', pkg.name, ...Object.keys(pkg.peerDependencies ?? {})].join(' '),
    );
    const mysql2 = pkg.dependencies?.mysql2;
    expect(mysql2).toMatch(/^\d+\.\d+\.\d+$/); // pinned exactly
    expect(readme).toContain(`pinned to one version (${mysql2})`);
  });
});
