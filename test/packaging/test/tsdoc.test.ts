import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { filesUnder, packageDirs, packageJson, root, shown } from './packages.js';

// The conventions ask for TSDoc with an @example (a ```ts snippet) on every export. This reads
// the built declaration files of every entry point in each package's `exports` map (what an
// editor shows a user), follows re-exports to the declarations, and lists the exports none of
// whose declarations carries one. A driver's own types that a drop-in re-exports under the
// driver's names (mysql2's FieldPacket, ResultSetHeader, ...) are declared, and documented, by
// the driver: their declarations are all in node_modules, and they are not ours to document.
const entries = packageDirs.flatMap((dir) => {
  const { name, exports } = packageJson(dir);
  return Object.entries(exports).flatMap(([subpath, target]) =>
    typeof target === 'string'
      ? [] // ./package.json
      : [{ entry: name + subpath.slice(1), file: join(root, 'packages', dir, target.types) }],
  );
});

const isFencedExample = (tag: ts.JSDocTag): boolean =>
  tag.tagName.text === 'example' && (ts.getTextOfJSDocComment(tag.comment) ?? '').includes('```ts');

function exportsWithoutExample(): Record<string, string[]> {
  const program = ts.createProgram(
    entries.map((e) => e.file),
    {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      noEmit: true,
      skipLibCheck: true,
    },
  );
  const checker = program.getTypeChecker();
  const missing: Record<string, string[]> = {};
  for (const { entry, file } of entries) {
    const source = program.getSourceFile(file);
    if (source === undefined) throw new Error(`${file} not found: build ${entry} first`);
    const moduleSymbol = checker.getSymbolAtLocation(source);
    if (moduleSymbol === undefined) throw new Error(`${file} is not a module`);
    const exported = checker.getExportsOfModule(moduleSymbol);
    expect(exported.length, entry).toBeGreaterThan(0);
    const names: string[] = [];
    for (const symbol of exported) {
      const target =
        symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      const declarations = target.declarations ?? [];
      const fromDependency =
        declarations.length > 0 &&
        declarations.every((d) => d.getSourceFile().fileName.includes('/node_modules/'));
      if (fromDependency) continue;
      const documented = declarations.some((declaration) =>
        ts.getJSDocTags(declaration).some(isFencedExample),
      );
      if (!documented) names.push(symbol.name);
    }
    missing[entry] = names.sort();
  }
  return missing;
}

describe('TSDoc', () => {
  it('reads every entry point of every package', () => {
    expect(entries.map((e) => e.entry).sort()).toEqual([
      '@unblock/better-sqlite3',
      '@unblock/better-sqlite3/testing',
      '@unblock/conformance',
      '@unblock/conformance/cases',
      '@unblock/core',
      '@unblock/core/testing',
      '@unblock/core/worker',
      '@unblock/mysql2',
      '@unblock/mysql2/testing',
      '@unblock/sqlite-interrupt',
    ]);
  });

  it('every export of every entry point has an @example', () => {
    const missing = exportsWithoutExample();
    expect(missing).toEqual(Object.fromEntries(entries.map((e) => [e.entry, []])));
  });

  it('every @example in the built declarations, members included, is a ```ts snippet', () => {
    const unfenced: string[] = [];
    const files = packageDirs.flatMap((dir) =>
      filesUnder(join(root, 'packages', dir, 'dist'), '.d.ts'),
    );
    expect(files.length).toBeGreaterThan(packageDirs.length);
    for (const file of files) {
      // With parent pointers: JSDoc tags are found through them.
      const source = ts.createSourceFile(
        file,
        readFileSync(file, 'utf8'),
        ts.ScriptTarget.ES2022,
        true,
      );
      const visit = (node: ts.Node): void => {
        for (const tag of ts.getJSDocTags(node)) {
          if (tag.tagName.text === 'example' && !isFencedExample(tag)) {
            unfenced.push(
              `${shown(file)}:${source.getLineAndCharacterOfPosition(tag.getStart()).line + 1}`,
            );
          }
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
    }
    expect(unfenced).toEqual([]);
  });
});
