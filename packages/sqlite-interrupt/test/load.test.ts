import { existsSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import {
  CONNECTION_ID_SQL,
  loadSqliteInterrupt,
  sqliteInterruptLoadError,
} from '@unblock/sqlite-interrupt';

// Internal, not exported by the package: the only way to load from a path that does not exist.
import { createAddonLoader } from '../src/load-sqlite-interrupt.js';

describe('loadSqliteInterrupt()', () => {
  it('returns a working object whose extensionPath is the built addon', () => {
    const sqliteInterrupt = loadSqliteInterrupt();
    expect(sqliteInterrupt).toBeDefined();
    expect(sqliteInterruptLoadError()).toBeUndefined();
    const { extensionPath, entryPoint } = sqliteInterrupt!;
    expect(isAbsolute(extensionPath)).toBe(true);
    expect(extensionPath.endsWith('/build/Release/sqlite_interrupt.node')).toBe(true);
    expect(existsSync(extensionPath)).toBe(true);
    expect(entryPoint).toBe('sqlite3_sqliteinterrupt_init');
    expect(typeof sqliteInterrupt!.registeredCount()).toBe('number');
    expect(sqliteInterrupt!.interrupt(Number.MAX_SAFE_INTEGER)).toBe(false);
  });

  it('returns the same frozen object on every call', () => {
    const sqliteInterrupt = loadSqliteInterrupt();
    expect(loadSqliteInterrupt()).toBe(sqliteInterrupt);
    expect(Object.isFrozen(sqliteInterrupt)).toBe(true);
  });

  it('exports the SQL that reports a connection id', () => {
    expect(CONNECTION_ID_SQL).toBe('select unblock_interrupt_id()');
  });
});

describe('when the addon cannot be loaded', () => {
  it('load() returns undefined and error() says where it looked, once', () => {
    const missing = '/nonexistent/build/Release/sqlite_interrupt.node';
    const loader = createAddonLoader(missing);
    expect(loader.load()).toBeUndefined();
    const error = loader.error();
    expect(error).toBeInstanceOf(Error);
    expect(error!.message).toContain(missing);
    expect(error!.message).toContain('cannot be interrupted');
    expect(error!.cause).toBeInstanceOf(Error);
    expect(loader.error()).toBe(error);
    expect(loader.load()).toBeUndefined();
  });

  it('rejects a module that is not the addon', () => {
    const loader = createAddonLoader(
      fileURLToPath(new URL('./fixtures/not-an-addon.json', import.meta.url)),
    );
    expect(loader.load()).toBeUndefined();
    expect(loader.error()!.message).toContain('not the @unblock/sqlite-interrupt addon');
  });
});
