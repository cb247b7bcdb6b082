import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { packageDirs, packageJson, root } from './packages.js';

const run = promisify(execFile);

/** The paths in the tarball `npm pack` would publish for package `dir` (nothing is written). */
async function tarball(dir: string): Promise<string[]> {
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: join(root, 'packages', dir),
  });
  const [pack] = JSON.parse(stdout) as [{ files: { path: string }[] }];
  return pack.files.map((f) => f.path).sort();
}

/** The relative links of a markdown file, outside code blocks, without their #anchor. */
function relativeLinks(text: string): string[] {
  const prose = text.replace(/```[\s\S]*?```/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1]!.split('#')[0]!)
    .filter((link) => link !== '' && !/^[a-z]+:/i.test(link));
}

describe.each(packageDirs)('the npm tarball of packages/%s', (dir) => {
  it('ships what its package.json and docs point to, and no build state', async () => {
    const files = await tarball(dir);
    const shipped = new Set(files);
    expect(files.length, `packages/${dir}: build it first`).toBeGreaterThan(3);
    // tsc's incremental state (dist/.tsbuildinfo) is for the build, not for users.
    expect(files.filter((f) => f.endsWith('.tsbuildinfo'))).toEqual([]);

    const { exports } = packageJson(dir);
    const targets = Object.values(exports).flatMap((t) =>
      typeof t === 'string' ? [t] : [t.types, t.default],
    );
    expect(targets.map((t) => t.replace(/^\.\//, '')).filter((t) => !shipped.has(t))).toEqual([]);

    // A link of a shipped markdown file to a file of the package must reach a shipped file
    // (npmjs.com and a user's node_modules have nothing else). Links out of the package point
    // at the repository and are not checked here.
    const broken: string[] = [];
    for (const doc of files.filter((f) => f.endsWith('.md'))) {
      const text = readFileSync(join(root, 'packages', dir, doc), 'utf8');
      for (const link of relativeLinks(text)) {
        const target = relative('.', join(dirname(doc), link)).replace(/\/$/, '');
        if (target.startsWith('..')) continue;
        if (!shipped.has(target) && !files.some((f) => f.startsWith(`${target}/`)))
          broken.push(`${doc} -> ${link}`);
      }
    }
    expect(broken).toEqual([]);
  });
});
