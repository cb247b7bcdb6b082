// Prints the directory holding the SQLite headers that better-sqlite3 ships, for binding.gyp.
//
// The addon compiles against these headers rather than system ones so the `sqlite3_api_routines`
// layout it uses matches the SQLite that will call it. It never links SQLite: every call goes
// through the routine table the extension entry point receives.
//
// Run by gyp as `<!(node scripts/sqlite-include-dir.mjs)`; fails with a readable message rather
// than letting the compiler report a missing sqlite3ext.h.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

let packageDir;
try {
  packageDir = dirname(require.resolve('better-sqlite3/package.json'));
} catch (cause) {
  console.error(
    '@unblock/sqlite-interrupt: better-sqlite3 is not installed; its SQLite headers are needed to build.',
  );
  console.error(String(cause));
  process.exit(1);
}

const includeDir = join(packageDir, 'deps', 'sqlite3');
for (const header of ['sqlite3.h', 'sqlite3ext.h']) {
  if (!existsSync(join(includeDir, header))) {
    console.error(`@unblock/sqlite-interrupt: ${header} not found in ${includeDir}.`);
    process.exit(1);
  }
}
console.log(includeDir);
