import { afterAll, describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { scryptSync } from 'node:crypto';
import { relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { offload, poolOf } from '@unblock/core';

describe('offload()', () => {
  const zlib = offload<typeof import('node:zlib')>('node:zlib', { threads: 2 });
  const crypto = offload<typeof import('node:crypto')>('node:crypto', { threads: 1 });
  afterAll(async () => {
    await zlib[Symbol.asyncDispose]();
    await crypto[Symbol.asyncDispose]();
  });

  it('runs zlib gzipSync in a worker and returns a Buffer', async () => {
    const input = Buffer.alloc(100_000, 'abc');
    const packed = await zlib.gzipSync(input);
    expect(Buffer.isBuffer(packed)).toBe(true);
    expect(gunzipSync(packed).equals(input)).toBe(true);
    expect(poolOf(zlib).stats().completed).toBeGreaterThan(0);
  });

  it('runs crypto scryptSync with the same result as the main thread', async () => {
    const key = await crypto.scryptSync('password', 'salt', 32);
    expect(Buffer.from(key).equals(scryptSync('password', 'salt', 32))).toBe(true);
  });

  it('keeps class instances in the worker as proxies with async methods', async () => {
    const hash = await crypto.createHash('sha256');
    await hash.update('hello ', 'utf8');
    await hash.update('world', 'utf8');
    const digest = await hash.digest('hex');
    expect(digest).toBe('b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9');
    await hash[Symbol.asyncDispose]();
  });

  it('gives back the same proxy from a method that returns its own object, with no new handle', async () => {
    const live = (): number => poolOf(crypto).stats().handles.total;
    const before = live();
    const hash = await crypto.createHash('sha256');
    // Hash#update returns the Hash, for chaining.
    const chained = await hash.update('hello', 'utf8');
    expect(chained).toBe(hash);
    expect(await (await chained.update(' world', 'utf8')).digest('hex')).toBe(
      'b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9',
    );
    expect(live()).toBe(before + 1);
    await hash[Symbol.asyncDispose]();
    expect(live()).toBe(before);
  });

  it('serializes a proxy with JSON.stringify without calling a remote toJSON', async () => {
    const hash = await crypto.createHash('sha256');
    const { completed, failed } = poolOf(crypto).stats();
    expect(JSON.stringify({ hash, crypto })).toBe('{"hash":{},"crypto":{}}');
    // A remote call would have been made (and failed, unheard): none was.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(poolOf(crypto).stats()).toMatchObject({ completed, failed });
    await hash[Symbol.asyncDispose]();
  });

  it('names an argument that cannot cross as the caller wrote it', async () => {
    await expect(zlib.gzipSync({ level: 1, cb() {} } as never)).rejects.toMatchObject({
      code: 'UNBLOCK_ERR_DATA_CLONE',
      message: 'Argument args[0].cb is a function, which cannot be sent to a worker thread',
    });
  });

  it('refuses a proxy given back as an argument, naming it, rather than sending an empty object', async () => {
    const key = await crypto.createSecretKey('k', 'utf8');
    await expect(crypto.createHmac('sha256', key as never)).rejects.toMatchObject({
      code: 'UNBLOCK_ERR_DATA_CLONE',
      message:
        'Argument args[1] is an instance of OffloadedObject, which cannot be sent to a worker thread',
    });
    await expect(zlib.gzipSync([zlib] as never)).rejects.toMatchObject({
      code: 'UNBLOCK_ERR_DATA_CLONE',
      path: 'args[0][0]',
    });
    await key[Symbol.asyncDispose]();
  });

  it('gives back what the module returns without a prototype so (querystring.parse)', async () => {
    const querystring = offload<typeof import('node:querystring')>('node:querystring', {
      threads: 1,
    });
    try {
      const parsed = await querystring.parse('a=1&b=2&b=3');
      expect(Object.getPrototypeOf(parsed)).toBeNull();
      expect({ ...parsed }).toEqual({ a: '1', b: ['2', '3'] });
    } finally {
      await querystring[Symbol.asyncDispose]();
    }
  });

  it('keeps error classes from the module', async () => {
    await expect(zlib.gunzipSync(Buffer.from('not gzip'))).rejects.toMatchObject({
      code: 'Z_DATA_ERROR',
    });
  });
});

describe('offload() of a module whose functions use this', () => {
  it('calls an export on its module, and a member of the default export on it', async () => {
    const fixture = new URL('./fixtures/offload-this.mjs', import.meta.url);
    const direct = await import(fixture.href);
    const mod = offload<{ usesThis(): string; tagged(text: string): string }>(fixture, {
      threads: 1,
    });
    try {
      expect(await mod.usesThis()).toBe(direct.usesThis());
      expect(await mod.tagged('x')).toBe(direct.default.tagged('x'));
      expect(await mod.tagged('x')).toBe('default:x');
    } finally {
      await mod[Symbol.asyncDispose]();
    }
  });
});

describe('offload() of a CommonJS module', () => {
  it('calls its functions on module.exports, as require(x).fn() does', async () => {
    const mod = offload<{ increment(): number }>(
      new URL('./fixtures/offload-cjs.cjs', import.meta.url),
      { threads: 1 },
    );
    try {
      expect([await mod.increment(), await mod.increment()]).toEqual([1, 2]);
    } finally {
      await mod[Symbol.asyncDispose]();
    }
  });
});

describe('offload() of an ES module whose default export is a CommonJS module', () => {
  it('reaches its own exports, on its namespace', async () => {
    const mod = offload<{ own(): string; increment(): number }>(
      new URL('./fixtures/offload-reexport.mjs', import.meta.url),
      { threads: 1 },
    );
    try {
      expect(await mod.own()).toBe('own export');
      // A name it does not export is looked up on its default export.
      expect(await mod.increment()).toBe(1);
    } finally {
      await mod[Symbol.asyncDispose]();
    }
  });
});

describe('offload() of a relative path', () => {
  it('resolves it from the working directory, as new Worker() does, not from core', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/offload-this.mjs', import.meta.url));
    const specifier = `.${sep}${relative(process.cwd(), fixture)}`;
    const mod = offload<{ helper(): string }>(specifier, { threads: 1 });
    try {
      expect(await mod.helper()).toBe('helper');
    } finally {
      await mod[Symbol.asyncDispose]();
    }
  });
});

describe('offload() of a native addon', () => {
  it('runs the project addon (@unblock/sqlite-interrupt) in a worker', async () => {
    const { createRequire } = await import('node:module');
    const require = createRequire(import.meta.url);
    const addonPath = require
      .resolve('@unblock/sqlite-interrupt/package.json')
      .replace(/package\.json$/, 'build/Release/sqlite_interrupt.node');
    const addon = offload<{ registeredCount(): number; isRegistered(id: number): boolean }>(
      addonPath,
      { threads: 1 },
    );
    expect(await addon.registeredCount()).toBe(0);
    expect(await addon.isRegistered(12345)).toBe(false);
    await expect(addon.isRegistered('x' as never)).rejects.toBeInstanceOf(TypeError);
    await addon[Symbol.asyncDispose]();
    // The same addon named by a file URL.
    const byUrl = offload<{ registeredCount(): number }>(pathToFileURL(addonPath), { threads: 1 });
    try {
      expect(await byUrl.registeredCount()).toBe(0);
    } finally {
      await byUrl[Symbol.asyncDispose]();
    }
  });

  it('reports an instance still open at close in plain English ("an instance")', async () => {
    const os = offload<typeof import('node:crypto')>('node:crypto', { threads: 1 });
    const messages: string[] = [];
    const onWarning = (warning: Error & { code?: string }): void => {
      if (warning.code === 'UNBLOCK_WARN_LEAK') messages.push(warning.message);
    };
    process.on('warning', onWarning);
    try {
      await os.createHash('sha256');
      await os[Symbol.asyncDispose]();
      // Warnings are emitted on a later tick.
      await expect.poll(() => messages.length).toBe(1);
    } finally {
      process.off('warning', onWarning);
    }
    expect(messages[0]).toMatch(
      /^pool \d+ closed with an instance still open\. It was taken at:\n/,
    );
  });
});
