import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { root } from './packages.js';

// Drop-in for TypeScript too: code written against a driver's type names compiles against the
// built declarations of its drop-in, and what the drop-in refuses at run time fails to compile
// where the compiler can tell. Each fixture marks the lines that must not compile with
// `@ts-expect-error`: a type that let one through would leave the directive unused, itself an
// error, so every fixture must compile cleanly.
const fixtures = {
  "@types/better-sqlite3's names and type parameters":
    'packages/better-sqlite3/test/fixtures/typed-usage.ts',
  "mysql2's options, less those that cannot reach a worker":
    'packages/mysql2/test/fixtures/typed-options.ts',
};

function compileErrors(file: string): string[] {
  const program = ts.createProgram([file], {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: ['node'],
  });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file?.getLineAndCharacterOfPosition(d.start ?? 0);
    return `${where === undefined ? '' : `line ${where.line + 1}: `}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

describe('typed usage', () => {
  for (const [what, fixture] of Object.entries(fixtures)) {
    it(`compiles ${what} (${fixture})`, () => {
      expect(compileErrors(join(root, fixture))).toEqual([]);
    });
  }
});
