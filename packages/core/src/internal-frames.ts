import { realpathSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

// A caller's stack is captured where core is called, so it begins with the frames of the code
// between the user's call and core's (an adapter's methods, core's own). A driver's errors begin
// at the user's call (mysql2/promise cuts its own frames; better-sqlite3's are native), so the
// stacks core builds from a caller's stack leave those leading frames out.

/** Locations (file URLs and paths, each ending with a separator) whose frames are internal. */
const internal: string[] = [];

/** The script node was started with, as a real path; undefined without one (a REPL, `-e`). */
function entryScript(): string | undefined {
  const script = process.argv[1];
  if (script === undefined) return undefined;
  try {
    return realpathSync(script);
  } catch {
    return undefined;
  }
}

/** Looked up once, as core loads: core and each adapter declare their directories then. */
const entry = entryScript();

/** As a path that ends with a separator. */
function directoryPath(directory: URL | string): string {
  const given =
    directory instanceof URL || directory.startsWith('file:')
      ? fileURLToPath(directory)
      : resolve(directory);
  return given.endsWith(sep) ? given : given + sep;
}

/**
 * Declares the files under each directory internal: frames of them at the top of a caller's
 * stack are left out of the stacks core builds from it (errors from workers, errors given
 * frames by `withCallerStack`, leak reports), so those begin at the user's own call, as the
 * driver's do. Frames further down stay. Core's own files are internal already; an adapter
 * declares its own: its built files, and its sources as source maps name them. A relative path
 * is taken from the working directory. Directories given together are ignored when one of them
 * holds the script node was started with: bundled into an application, an adapter's
 * `import.meta.url` names the application's directory, whose frames are the user's.
 *
 * @example
 * ```ts
 * import { hideInternalFrames } from '@unblock/core';
 * hideInternalFrames(new URL('.', import.meta.url), new URL('../src/', import.meta.url));
 * ```
 */
export function hideInternalFrames(...directories: (URL | string)[]): void {
  const paths = directories.map(directoryPath);
  if (entry !== undefined && paths.some((path) => entry.startsWith(path))) return;
  for (const path of paths) {
    // ES modules' frames name their file by URL, CommonJS ones' (and source-mapped) by path.
    for (const location of [path, pathToFileURL(path).href]) {
      if (!internal.includes(location)) internal.push(location);
    }
  }
}

hideInternalFrames(new URL('.', import.meta.url), new URL('../src/', import.meta.url));

/** Whether a stack line is a frame of an internal file. */
function isInternal(line: string): boolean {
  return line.startsWith('    at ') && internal.some((location) => line.includes(location));
}

/**
 * `stack` without the internal frames at the top of its frames (its header lines kept); as it
 * is when every frame is internal, or when it has none.
 *
 * @example
 * ```ts
 * trimInternalFrames(origin.stack); // 'Error\n    at handler (file:///app/routes.js:12:9)\n...'
 * ```
 */
export function trimInternalFrames(stack: string): string {
  const start = stack.indexOf('\n    at ') + 1;
  if (start === 0) return stack;
  let at = start;
  for (;;) {
    const end = stack.indexOf('\n', at);
    if (!isInternal(end === -1 ? stack.slice(at) : stack.slice(at, end))) break;
    // Every frame is internal: all of them are all there is to show.
    if (end === -1) return stack;
    at = end + 1;
  }
  return at === start ? stack : stack.slice(0, start) + stack.slice(at);
}
