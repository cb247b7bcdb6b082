// Drift check: whatever mysql2/promise exports, named or on its default export, the drop-in
// exports too, in both places, with the same kind of value.
import * as theirs from 'mysql2/promise';
import * as ours from '@unblock/mysql2';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);

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

// The same for types: code that names mysql2/promise's types (`QueryError`, `TypeCast`, ...)
// keeps compiling after the import changes. Read from the declaration files users compile against.
describe('type exports of mysql2/promise', () => {
  // In mysql2/promise.d.ts (re-exported from mysql2's callback API) but not values of
  // mysql2/promise at run time, nor of this package.
  const callbackOnly = ['authPlugins', 'createServer'];

  it('every name mysql2/promise.d.ts exports is exported here too', () => {
    const theirs = join(dirname(require.resolve('mysql2/package.json')), 'promise.d.ts');
    const ours = fileURLToPath(new URL('../dist/index.d.ts', import.meta.url));
    const program = ts.createProgram([theirs, ours], {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      noEmit: true,
      skipLibCheck: true,
    });
    const checker = program.getTypeChecker();
    const exportsOf = (file: string): Set<string> => {
      const source = program.getSourceFile(file);
      const symbol = source && checker.getSymbolAtLocation(source);
      if (symbol === undefined) throw new Error(`${file} is not a module`);
      return new Set(checker.getExportsOfModule(symbol).map((s) => s.name));
    };
    const ourNames = exportsOf(ours);
    const theirNames = [...exportsOf(theirs)];
    expect(theirNames).toEqual(expect.arrayContaining(['QueryError', 'TypeCast', 'RowDataPacket']));
    const missing = theirNames.filter(
      (name) => !ourNames.has(name) && !callbackOnly.includes(name),
    );
    expect(missing).toEqual([]);
  });
});
