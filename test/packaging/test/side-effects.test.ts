import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { filesUnder, packageDirs, packageJson, root } from './packages.js';

// A bundler drops a module none of whose exports are used when its package says it has no side
// effects: a codec registration, a hidden-frames registration or a worker entry would then be
// lost. So every module of dist/ that does something when imported, beyond defining its own
// bindings, must be listed in `sideEffects`, and nothing else. What counts: a top-level
// statement other than a declaration (variable initializers are taken to compute their binding
// only), or a class static block doing more than assigning the module's own variables; and
// each module imported for its effects alone (`import './x.js'`).

/** Modules whose top-level loops touch nothing but what the module itself defines. */
const ownStateOnly: Record<string, string> = {
  'core/dist/error-codec.js': 'fills its own table of error classes',
  'core/dist/errors.js': "sets `name` on its own classes' prototypes",
  'conformance/dist/case-table.js': 'checks its own case ids (throws on a duplicate)',
};

/** Assigns a variable of the module, or defines a property on a class's own prototype. */
function onlyTouchesItsOwn(statement: ts.Statement): boolean {
  if (!ts.isExpressionStatement(statement)) return false;
  const e = statement.expression;
  if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.EqualsToken)
    return ts.isIdentifier(e.left);
  return (
    ts.isCallExpression(e) &&
    e.expression.getText() === 'Object.defineProperty' &&
    /^\w+\.prototype$/.test(e.arguments[0]?.getText() ?? '')
  );
}

function hasEffects(statement: ts.Statement): boolean {
  if (
    ts.isImportDeclaration(statement) ||
    ts.isExportDeclaration(statement) ||
    ts.isExportAssignment(statement) ||
    ts.isFunctionDeclaration(statement) ||
    ts.isVariableStatement(statement) ||
    ts.isEmptyStatement(statement)
  )
    return false;
  if (ts.isClassDeclaration(statement))
    return statement.members.some(
      (m) => ts.isClassStaticBlockDeclaration(m) && !m.body.statements.every(onlyTouchesItsOwn),
    );
  return !onlyTouchesItsOwn(statement);
}

/** The modules of `dir`'s dist/ that have effects when imported, as `./dist/...` paths. */
function modulesWithEffects(dir: string): string[] {
  const pkg = join(root, 'packages', dir);
  const found = new Set<string>();
  for (const file of filesUnder(join(pkg, 'dist'), '.js')) {
    const source = ts.createSourceFile(
      file,
      readFileSync(file, 'utf8'),
      ts.ScriptTarget.Latest,
      true,
    );
    const own = relative(join(root, 'packages'), file) in ownStateOnly;
    if (!own && source.statements.some(hasEffects)) found.add(file);
    for (const s of source.statements)
      if (
        ts.isImportDeclaration(s) &&
        s.importClause === undefined &&
        ts.isStringLiteral(s.moduleSpecifier)
      )
        if (s.moduleSpecifier.text.startsWith('.'))
          found.add(join(dirname(file), s.moduleSpecifier.text));
  }
  return [...found].map((file) => `./${relative(pkg, file)}`).sort();
}

describe('sideEffects in package.json', () => {
  it('finds the codec registration that only an import of worker/host.js keeps', () => {
    expect(modulesWithEffects('core')).toContain('./dist/row-batch.js');
  });

  it.each(packageDirs)('%s: lists exactly the modules with effects on import', (dir) => {
    const { sideEffects } = packageJson(dir);
    expect(
      sideEffects,
      'sideEffects: true says nothing a bundler can use: list the files',
    ).not.toBe(true);
    const listed = Array.isArray(sideEffects) ? [...sideEffects].sort() : [];
    expect(listed).toEqual(modulesWithEffects(dir));
  });
});
