// Drop-in for TypeScript too: code written against @types/better-sqlite3's names and type
// parameters (fixtures/typed-usage.ts) compiles against the built declarations unchanged.
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

describe('types', () => {
  it("compiles code that uses @types/better-sqlite3's names and type parameters", () => {
    const file = fileURLToPath(new URL('./fixtures/typed-usage.ts', import.meta.url));
    const program = ts.createProgram([file], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
    });
    const errors = ts.getPreEmitDiagnostics(program).map((d) => {
      const where = d.file?.getLineAndCharacterOfPosition(d.start ?? 0);
      return `${where === undefined ? '' : `line ${where.line + 1}: `}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
    });
    expect(errors).toEqual([]);
  });
});
