import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root directory. */
export const root = fileURLToPath(new URL('../../../', import.meta.url));

/** The published packages, by directory under packages/ (the workspaces `packages/*`). */
export const packageDirs = readdirSync(join(root, 'packages'), { withFileTypes: true })
  .filter(
    (entry) =>
      entry.isDirectory() && existsSync(join(root, 'packages', entry.name, 'package.json')),
  )
  .map((entry) => entry.name)
  .sort();

export interface PackageJson {
  name: string;
  files?: string[];
  sideEffects?: boolean | string[];
  exports: Record<string, string | { types: string; default: string }>;
}

export function packageJson(dir: string): PackageJson {
  return JSON.parse(
    readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8'),
  ) as PackageJson;
}

/** Every file under `dir` (absolute) whose name ends with `suffix`, as absolute paths. */
export function filesUnder(dir: string, suffix: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith(suffix))
    .map((file) => join(dir, file))
    .sort();
}

/** `file` relative to the repository root, for messages. */
export function shown(file: string): string {
  return relative(root, file);
}
