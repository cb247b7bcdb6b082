import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const read = (path: string): string => readFileSync(new URL(path, import.meta.url), 'utf8');

/** The anchor GitHub gives a heading: lower case, punctuation dropped, spaces as hyphens. */
function anchorOf(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/ /g, '-');
}

/** The fenced `sh` blocks of a Markdown text. */
function shBlocks(text: string): string[] {
  return [...text.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

describe('docs/api.md', () => {
  const api = read('../docs/api.md');
  const seen = new Map<string, number>();
  const prose = api.replace(/^```[\s\S]*?^```$/gm, '');
  const headings = [...prose.matchAll(/^(#+) (.+)$/gm)].map((m) => {
    // A repeated heading gets -1, -2, ... after its anchor.
    const anchor = anchorOf(m[2]);
    const count = seen.get(anchor) ?? 0;
    seen.set(anchor, count + 1);
    return { level: m[1].length, anchor: count === 0 ? anchor : `${anchor}-${count}` };
  });

  it('lists every section in its table of contents', () => {
    const toc = api.slice(0, api.indexOf('\n# ', 1));
    const listed = [...toc.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
    const sections = headings.filter((h) => h.level === 1).map((h) => h.anchor);
    expect(listed).toEqual(sections.slice(1)); // all but the title, in order
  });

  it('links only to headings it has', () => {
    const anchors = new Set(headings.map((h) => h.anchor));
    const links = [...api.matchAll(/\]\(#([^)]+)\)/g)].map((m) => m[1]);
    expect(links.filter((link) => !anchors.has(link))).toEqual([]);
  });
});

describe('the READMEs on the interrupt addon', () => {
  const readmes = {
    'better-sqlite3': read('../README.md'),
    'sqlite-interrupt': read('../../sqlite-interrupt/README.md'),
  };

  it.each(Object.entries(readmes))(
    '%s: the install steps build the addon, which npm does not',
    (_, text) => {
      const install = shBlocks(text)[0].trim().split('\n');
      expect(install[install.length - 1]).toBe(
        'npm explore @unblock/sqlite-interrupt -- npx node-gyp rebuild',
      );
    },
  );

  it.each(Object.entries(readmes))(
    '%s: the command that tells whether the addon loads says "loaded" where it is built',
    async (_, text) => {
      const check = shBlocks(text).find((block) => block.startsWith('node -e '));
      expect(check).toBeDefined();
      // Run as a shell would, from this package (where @unblock/sqlite-interrupt resolves).
      const { stdout } = await run('sh', ['-c', check!], {
        cwd: new URL('..', import.meta.url),
      });
      expect(stdout.trim()).toBe('loaded');
    },
  );
});
