import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { types } from 'node:util';
import { expect } from 'vitest';
import type Database from '@unblock/better-sqlite3';
import { poolOf } from '@unblock/better-sqlite3/testing';

const require = createRequire(import.meta.url);

/** The real driver, for differential comparisons. */

export const Raw = require('better-sqlite3') as any;

/** A fresh directory for database files, removed by the returned cleanup. */
export function tempDir(): { dir: string; file(name: string): string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'unblock-bs3-'));
  return {
    dir,
    file: (name) => join(dir, name),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Waits until `db` has `sessions` sessions open, the writer's and the readers' (readers open in
 * the background once the database is in WAL mode), and fails if they do not within 3 s.
 */
export async function readersOpen(db: Database, sessions: number): Promise<void> {
  for (let i = 0; i < 300 && poolOf(db).stats().sessions < sessions; i++)
    await new Promise((resolve) => setTimeout(resolve, 10));
  expect(poolOf(db).stats().sessions).toBe(sessions);
}

/** What a call produced, in a form both drivers can be compared on. */
export type Outcome =
  { ok: unknown } | { error: { name: string; message: string; code: unknown; native: boolean } };

export async function outcome(fn: () => unknown): Promise<Outcome> {
  try {
    return { ok: await fn() };
  } catch (err) {
    const e = err as { name: string; message: string; code?: unknown };
    // Native or not, as util.types.isNativeError() and loggers tell (the driver's SqliteError is
    // not; its TypeErrors are).
    return {
      error: { name: e.name, message: e.message, code: e.code, native: types.isNativeError(e) },
    };
  }
}
