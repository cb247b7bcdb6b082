import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// The conventions ask for TSDoc with an @example (a ```ts snippet) on every export. This reads
// the built declaration files (what an editor shows a user), follows each entry point's
// re-exports to the declarations, and lists the exports none of whose declarations carries one.
const entries = ['index.d.ts', 'worker/index.d.ts', 'testing.d.ts'].map((file) =>
  fileURLToPath(new URL(`../dist/${file}`, import.meta.url)),
);

function exportsWithoutExample(): Record<string, string[]> {
  const program = ts.createProgram(entries, {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    noEmit: true,
    skipLibCheck: true,
  });
  const checker = program.getTypeChecker();
  const missing: Record<string, string[]> = {};
  for (const entry of entries) {
    const source = program.getSourceFile(entry);
    if (source === undefined) throw new Error(`${entry} not found: build @unblock/core first`);
    const moduleSymbol = checker.getSymbolAtLocation(source);
    if (moduleSymbol === undefined) throw new Error(`${entry} is not a module`);
    const exported = checker.getExportsOfModule(moduleSymbol);
    expect(exported.length).toBeGreaterThan(0);
    const names: string[] = [];
    for (const symbol of exported) {
      const target =
        symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      const declarations = target.declarations ?? [];
      const documented = declarations.some((declaration) =>
        ts
          .getJSDocTags(declaration)
          .some(
            (tag) =>
              tag.tagName.text === 'example' &&
              (ts.getTextOfJSDocComment(tag.comment) ?? '').includes('```ts'),
          ),
      );
      if (!documented) names.push(symbol.name);
    }
    missing[entry.slice(entry.lastIndexOf('dist/') + 5)] = names.sort();
  }
  return missing;
}

describe('TSDoc', () => {
  it('every export of the entry points has an @example', () => {
    expect(exportsWithoutExample()).toEqual({
      'index.d.ts': [],
      'worker/index.d.ts': [],
      'testing.d.ts': [],
    });
  });
});
