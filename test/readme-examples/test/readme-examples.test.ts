import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import rawMysql from 'mysql2/promise';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../../../', import.meta.url));
// Inside the workspace, so that the examples' imports resolve as in a user's project.
const workDir = mkdtempSync(join(fileURLToPath(new URL('..', import.meta.url)), '.run-'));
afterAll(() => rmSync(workDir, { recursive: true, force: true }));

/** The `index`-th fenced block of language `lang` in a README of the repository. */
function codeBlock(readme: string, lang: 'js' | 'ts', index = 0): string {
  const text = readFileSync(join(root, readme), 'utf8');
  const blocks = [...text.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].filter((m) => m[1] === lang);
  const block = blocks[index]?.[2];
  if (block === undefined) throw new Error(`${readme} has no ${lang} block #${index}`);
  return block;
}

/**
 * Runs `source` as `node <name>.mjs` (TypeScript transpiled first, as a user's build would): the
 * lines it printed. A warning it printed (a leak report, say) fails the example.
 */
async function runExample(name: string, source: string, lang: 'js' | 'ts'): Promise<string[]> {
  const js =
    lang === 'ts'
      ? ts.transpileModule(source, {
          compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
        }).outputText
      : source;
  const dir = mkdtempSync(join(workDir, `${name}-`));
  const file = join(dir, `${name}.mjs`);
  writeFileSync(file, js);
  const { stdout, stderr } = await run(process.execPath, [file], { cwd: dir, timeout: 50_000 });
  expect(stderr).not.toMatch(/Warning/);
  return stdout.trim().split('\n');
}

async function mysqlProblem(): Promise<string | undefined> {
  try {
    const conn = await rawMysql.createConnection({
      host: '127.0.0.1',
      user: 'root',
      database: 'test',
      connectTimeout: 3_000,
    });
    await conn.end();
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}
const mysqlDown = await mysqlProblem();
if (mysqlDown !== undefined && process.env.CI === 'true')
  throw new Error(
    `MariaDB at 127.0.0.1:3306 is unreachable (${mysqlDown}); CI=true, so this fails`,
  );

describe('the example in each package README runs as written and prints what it says', () => {
  it('@unblock/better-sqlite3', async () => {
    const lines = await runExample(
      'better-sqlite3',
      codeBlock('packages/better-sqlite3/README.md', 'js'),
      'js',
    );
    expect(lines).toEqual(["{ id: 1, name: 'ada' }"]);
  });

  it.skipIf(mysqlDown !== undefined)(
    '@unblock/mysql2 (needs MariaDB at 127.0.0.1:3306)',
    async () => {
      const lines = await runExample('mysql2', codeBlock('packages/mysql2/README.md', 'js'), 'js');
      expect(lines).toEqual(['42 answer', '90']);
    },
  );

  it('@unblock/core (offload)', async () => {
    const lines = await runExample('core', codeBlock('packages/core/README.md', 'ts'), 'ts');
    expect(lines).toHaveLength(2);
    // 50 MB of zeros gzip to about 48 kB.
    expect(Number(lines[0])).toBeGreaterThan(1_000);
    expect(Number(lines[0])).toBeLessThan(1_000_000);
    expect(lines[1]).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824');
  });

  it('@unblock/sqlite-interrupt', async () => {
    const lines = await runExample(
      'sqlite-interrupt',
      codeBlock('packages/sqlite-interrupt/README.md', 'js'),
      'js',
    );
    expect(lines).toEqual(['interrupted: true', 'worker failed with SQLITE_INTERRUPT']);
  });
});
