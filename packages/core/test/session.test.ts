import { execFileSync } from 'node:child_process';
import { runInNewContext } from 'node:vm';
import { types } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  assertSendable,
  DataCloneError,
  UnknownOperationError,
  registerErrorClass,
  toPortableFunction,
  withCallerStack,
  type Session,
} from '@unblock/core';
import { Unclonable, countPosts, echoDriver, isCalls, pool as makePool, sleep } from './helpers.js';

describe('sessions', () => {
  const pool = makePool();
  afterAll(() => pool.close());

  it('answers calls in the order they were made', async () => {
    const s = await pool.openSession();
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => s.call('record', [i])));
    expect(results).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(await s.call('log')).toEqual(Array.from({ length: 100 }, (_, i) => i));
    await s.close();
  });

  it('sends the calls of one tick as one message', async () => {
    const s = await pool.openSession();
    const callMessages = countPosts(isCalls);
    try {
      await Promise.all(Array.from({ length: 64 }, (_, i) => s.call('echo', [i])));
      expect(callMessages.count).toBe(1);
      // Calls of later ticks travel on their own. (Each waits until the worker has gone idle: a
      // lone call to a worker still awake goes through the session's lane, not the port.)
      await sleep(20);
      await s.call('echo', [1]);
      await sleep(20);
      await s.call('echo', [2]);
      expect(callMessages.count).toBe(3);
    } finally {
      callMessages.restore();
    }
    await s.close();
  });

  it('answers a fast call without waiting for a slow one queued behind it', async () => {
    const s = await pool.openSession();
    const started = performance.now();
    const fast = s.call('echo', ['fast']).then(() => performance.now() - started);
    const slow = s.call('spin', [600]).then(() => performance.now() - started);
    const [fastAt, slowAt] = await Promise.all([fast, slow]);
    expect(slowAt).toBeGreaterThanOrEqual(590);
    expect(fastAt).toBeLessThan(400);
    await s.close();
  });

  it('keeps value types both ways', async () => {
    const s = await pool.openSession();
    const value = {
      buf: Buffer.from('hello'),
      big: 2n ** 70n,
      date: new Date(1_700_000_000_000),
      nested: [[1, [2, { three: 3 }]], null, undefined],
      u8: new Uint8Array([1, 2, 3]),
    };
    const back = (await s.call('echo', [value])) as typeof value;
    expect(Buffer.isBuffer(back.buf)).toBe(true);
    expect(back.buf.toString()).toBe('hello');
    expect(back.buf.buffer.byteLength).toBe(5); // not the whole 8 KiB pool
    expect(back.big).toBe(2n ** 70n);
    expect(back.date).toEqual(value.date);
    expect(back.nested).toEqual(value.nested);
    expect(back.u8).toBeInstanceOf(Uint8Array);
    expect(Buffer.isBuffer(back.u8)).toBe(false);
    const made = (await s.call('buffers')) as Record<string, Uint8Array>;
    expect(Buffer.isBuffer(made.small)).toBe(true);
    expect(Buffer.isBuffer(made.big)).toBe(true);
    expect(made.big.length).toBe(10000);
    expect(Buffer.isBuffer(made.u8)).toBe(false);
    await s.close();
  });

  it('keeps objects without a prototype so, both ways, by port and by lane', async () => {
    const s = await pool.openSession();
    const bare = (entries: Record<string, unknown>): Record<string, unknown> =>
      Object.assign(Object.create(null) as Record<string, unknown>, entries);
    const value = () => {
      const inner = bare({ b: 2n });
      // An own `__proto__` key on an object without a prototype is just a key.
      Object.defineProperty(inner, '__proto__', { value: 'kept', enumerable: true });
      return { top: bare({ a: 1, inner }), list: [bare({ c: 'x' })], plain: { d: 1 } };
    };
    // Awaited one after another: most go by lane once the code is warm.
    for (let i = 0; i < 50; i++) {
      const back = (await s.call('echo', [value()])) as ReturnType<typeof value>;
      expect(Object.getPrototypeOf(back.top)).toBeNull();
      expect(Object.getPrototypeOf(back.top.inner)).toBeNull();
      expect(Object.getPrototypeOf(back.list[0])).toBeNull();
      expect(Object.getPrototypeOf(back.plain)).toBe(Object.prototype);
      expect(Object.keys(back.top.inner as object)).toEqual(['b', '__proto__']);
      expect({ ...back.top, inner: { ...(back.top.inner as object) } }).toEqual({
        a: 1,
        inner: { b: 2n, ['__proto__']: 'kept' },
      });
    }
    // By port (a Buffer never takes the lane), and an own `__proto__` key of a plain object.
    const plain = JSON.parse('{"__proto__": 1, "e": 2}') as object;
    const [viaPort, withKey] = (await s.call('echo', [[value(), plain, Buffer.from('x')]])) as [
      ReturnType<typeof value>,
      object,
    ];
    expect(Object.getPrototypeOf(viaPort.top.inner)).toBeNull();
    expect(Object.keys(viaPort.top.inner as object)).toEqual(['b', '__proto__']);
    expect(Object.getPrototypeOf(withKey)).toBe(Object.prototype);
    expect(Object.keys(withKey)).toEqual(['__proto__', 'e']);
    await s.close();
  });

  it('rebuilds errors with class, own properties and both stacks', async () => {
    const s = await pool.openSession();
    const err = (await s
      .call('fail', [
        'boom',
        { code: 'ER_X', errno: 1062, sqlState: '23000', fatal: false, sqlMessage: 'dup' },
      ])
      .catch((e: unknown) => e)) as Error & Record<string, unknown>;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toBe('boom');
    expect(err).toMatchObject({
      code: 'ER_X',
      errno: 1062,
      sqlState: '23000',
      fatal: false,
      sqlMessage: 'dup',
    });
    expect(err.stack).toContain('session.test.ts');
    expect(err.stack).toContain('<worker thread>');
    expect(err.stack).toContain('echo-driver.mjs');
    // In order: the header, the caller's frames (every one of them), the marker, the worker's.
    const stack = err.stack!;
    const marker = stack.indexOf('    at <worker thread>');
    expect(stack.startsWith('Error: boom\n')).toBe(true);
    expect(stack.lastIndexOf('session.test.ts')).toBeLessThan(marker);
    expect(stack.indexOf('echo-driver.mjs')).toBeGreaterThan(marker);
    const typeErr = await s.call('failType').catch((e: unknown) => e);
    expect(typeErr).toBeInstanceOf(TypeError);
    await s.close();
  });

  it("captures the caller's stack per session when the session says so, whatever the pool's setting", async () => {
    const quietPool = makePool({ threads: 1, captureStacks: false });
    const fail = (session: Session) =>
      session.call('fail', ['boom', {}]).catch((e: unknown) => e) as Promise<Error>;
    const quiet = await quietPool.openSession();
    const loud = await quietPool.openSession(undefined, { captureStacks: true });
    expect((await fail(quiet)).stack).not.toContain('session.test.ts');
    expect((await fail(loud)).stack).toContain('session.test.ts');
    const silenced = await pool.openSession(undefined, { captureStacks: false });
    expect((await fail(silenced)).stack).not.toContain('session.test.ts');
    await silenced.close();
    await quietPool.close();
  });

  it('withCallerStack gives an error the frames of a stack captured before the call', async () => {
    const quiet = await pool.openSession(undefined, { captureStacks: false });
    const caller: { stack?: string } = {};
    (function earlierCallSite() {
      Error.captureStackTrace(caller);
    })();
    const err = (await quiet.call('fail', ['boom', {}]).catch((e: unknown) => e)) as Error;
    expect(err.stack).not.toContain('earlierCallSite');
    expect(withCallerStack(err, caller.stack)).toBe(err);
    const stack = err.stack!;
    const marker = stack.indexOf('\n    at <worker thread>\n');
    expect(stack.startsWith('Error: boom\n    at earlierCallSite')).toBe(true);
    expect(marker).toBeGreaterThan(0);
    expect(stack.indexOf('echo-driver.mjs')).toBeGreaterThan(marker);
    // Joined again (a rethrow through another such handler): the same stack, not a longer one.
    expect((withCallerStack(err, caller.stack) as Error).stack).toBe(stack);
    // A local error (no worker frames) gets the caller's frames only.
    const local = withCallerStack(new RangeError('local'), caller.stack) as Error;
    expect(local.stack!.startsWith('RangeError: local\n    at earlierCallSite')).toBe(true);
    expect(local.stack).not.toContain('<worker thread>');
    await quiet.close();
  });

  it('rebuilds native errors as native errors, and others not', async () => {
    const s = await pool.openSession();
    const failure = (op: string) =>
      s.call(op, ['boom', {}]).catch((e: unknown) => e) as Promise<Error>;
    for (const op of ['fail', 'failType', 'failCustom', 'failAggregate']) {
      const err = await failure(op);
      expect(types.isNativeError(err), op).toBe(true);
      expect(Object.prototype.toString.call(err), op).toBe('[object Error]');
    }
    const err = await failure('failNotNative');
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ message: 'not native', code: 'E_NOT_NATIVE' });
    expect(types.isNativeError(err)).toBe(false);
    await s.close();
  });

  it('rebuilds errors where Error.stackTraceLimit is frozen', () => {
    const script = `
      Object.defineProperty(Error, 'stackTraceLimit', { value: 10, writable: false });
      const { types } = require('node:util');
      const { createPool } = require('@unblock/core');
      const pool = createPool({ driver: ${JSON.stringify(echoDriver.href)}, threads: 1 });
      pool.openSession().then((s) => s.call('failType')).catch((e) => {
        console.log(e.constructor.name, e.message, types.isNativeError(e));
        return pool.close();
      });
    `;
    const out = execFileSync(process.execPath, ['-e', script], {
      cwd: import.meta.dirname,
      encoding: 'utf8',
    });
    expect(out.trim()).toBe('TypeError bad type true');
  });

  it('rebuilds registered driver error classes', async () => {
    class FixtureError extends Error {}
    Object.defineProperty(FixtureError.prototype, 'name', { value: 'FixtureError' });
    registerErrorClass(FixtureError, 'FixtureError');
    const s = await pool.openSession();
    const custom = (await s.call('failCustom').catch((e: unknown) => e)) as FixtureError & {
      code: string;
    };
    expect(custom).toBeInstanceOf(FixtureError);
    expect(custom.name).toBe('FixtureError');
    expect(custom.code).toBe('E_CUSTOM');
    expect(String(custom.stack)).toMatch(/^FixtureError: custom/);
    const unknown = await s.call('nope').catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(UnknownOperationError);
    expect((unknown as UnknownOperationError).code).toBe('UNBLOCK_ERR_UNKNOWN_OPERATION');
    await s.close();
  });

  it('refuses values that cannot cross, naming them, before sending anything', async () => {
    const s = await pool.openSession();
    const err = await s.call('record', [{ fn: () => 1 }]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataCloneError);
    expect((err as DataCloneError).code).toBe('UNBLOCK_ERR_DATA_CLONE');
    expect((err as Error).message).toContain('args[0].fn');
    await expect(s.call('record', [Symbol('x')])).rejects.toThrow(/args\[0\] is a symbol/);
    class Thing {}
    await expect(s.call('record', [new Thing()])).rejects.toThrow(/instance of Thing/);
    // nothing was sent: the session's log is empty and it still works
    expect(await s.call('log')).toEqual([]);
    await s.close();
  });

  it('carries Maps and Sets both ways with what they hold, and refuses one holding a function', async () => {
    const s = await pool.openSession();
    const sent = new Map<unknown, unknown>([
      ['buffer', Buffer.from('abc')],
      [1n, new Set([Buffer.from('x'), new Date(5), { nested: new Map([['k', 2n]]) }])],
    ]);
    const back = (await s.call('echo', [sent])) as Map<unknown, unknown>;
    expect(back).toBeInstanceOf(Map);
    expect(Buffer.isBuffer(back.get('buffer'))).toBe(true);
    expect(back.get('buffer')).toEqual(Buffer.from('abc'));
    const set = back.get(1n) as Set<unknown>;
    expect(set).toBeInstanceOf(Set);
    const [buf, date, nested] = [...set] as [Buffer, Date, { nested: Map<string, bigint> }];
    expect(Buffer.isBuffer(buf)).toBe(true);
    expect(date).toEqual(new Date(5));
    expect(nested.nested.get('k')).toBe(2n);
    // Refused before sending, naming where: no uncatchable error from postMessage.
    const refused = await s
      .call('echo', [{ m: new Map([['fn', () => 1]]) }])
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DataCloneError);
    expect((refused as Error).message).toContain("args[0].m.get('fn')");
    await expect(s.call('echo', [new Set([Symbol('s')])])).rejects.toThrow(
      /args\[0\]\.values\(\)\[0\] is a symbol/,
    );
    expect(await s.call('echo', [7])).toBe(7);
    await s.close();
  });

  it('keeps the process alive until close() has settled, when a call was in flight as it began', () => {
    // Nothing else keeps this script's event loop alive: the session's port must, until the
    // worker says the connection is closed (the call's answer comes first, and used to unref it).
    const script = `
      const { createPool } = require('@unblock/core');
      const pool = createPool({ driver: ${JSON.stringify(echoDriver.href)}, threads: 1 });
      pool.openSession({ closeDelayMs: 200 }).then((s) => {
        s.call('spin', [20]);
        return s.close();
      }).then(() => { console.log('closed'); return pool.close(); });
    `;
    const out = execFileSync(process.execPath, ['-e', script], {
      cwd: import.meta.dirname,
      encoding: 'utf8',
    });
    expect(out.trim()).toBe('closed');
  });

  it('reads memory arguments when the call is made: changing them before it is sent changes nothing', async () => {
    const s = await pool.openSession();
    const whole = Buffer.alloc(10_000, 1); // owns its ArrayBuffer (not a slice of the pool)
    const bytes = Uint8Array.of(1, 2, 3);
    const doubles = new Float64Array(64).fill(1.5).subarray(8, 10);
    const view = new DataView(new ArrayBuffer(4));
    view.setInt32(0, 7);
    const raw = Uint8Array.of(9).buffer;
    const date = new Date(5);
    let constructed = 0;
    class Bytes extends Uint8Array {
      constructor(values: number[]) {
        super(values);
        constructed++;
      }
    }
    const mine = new Bytes([4, 5]);
    const foreign = runInNewContext('new Uint16Array([6, 7])') as Uint16Array;
    const sent = s.call('echo', [[whole, bytes, doubles, view, raw, date, mine, foreign]]);
    // Copied as their base type: no constructor of the caller's runs on the way.
    expect(constructed).toBe(1);
    // Changed in the same tick, before the call leaves (at the end of the tick).
    whole.fill(2);
    bytes[0] = 0;
    doubles[0] = 0;
    view.setInt32(0, 0);
    new Uint8Array(raw)[0] = 0;
    date.setTime(6);
    mine[0] = 0;
    foreign[0] = 0;
    const [b, u, d, v, a, t, m, f] = (await sent) as [
      Buffer,
      Uint8Array,
      Float64Array,
      DataView,
      ArrayBuffer,
      Date,
      Uint8Array,
      Uint16Array,
    ];
    expect(Buffer.isBuffer(b) && b.every((x) => x === 1)).toBe(true);
    expect([...u]).toEqual([1, 2, 3]);
    // Only the view's own values crossed, not the rest of its buffer.
    expect(d).toBeInstanceOf(Float64Array);
    expect([...d]).toEqual([1.5, 1.5]);
    expect(d.buffer.byteLength).toBe(16);
    expect(v.getInt32(0)).toBe(7);
    expect([...new Uint8Array(a)]).toEqual([9]);
    expect(t.getTime()).toBe(5);
    // A subclass arrives as its base type; an array made in another realm is copied too.
    expect([...m]).toEqual([4, 5]);
    expect([...f]).toEqual([6, 7]);
    await s.close();
  });

  it('sends memory arguments whose buffer was transferred away as empty, as better-sqlite3 binds them', async () => {
    const detach = <T extends ArrayBufferView | ArrayBuffer>(value: T): T => {
      const buffer = ArrayBuffer.isView(value) ? value.buffer : value;
      structuredClone(buffer, { transfer: [buffer as ArrayBuffer] });
      return value;
    };
    const s = await pool.openSession();
    const args = [
      detach(Buffer.alloc(4, 1)),
      detach(Uint8Array.of(1, 2)),
      detach(new Int16Array(2)),
      detach(new DataView(new ArrayBuffer(4))),
      detach(new ArrayBuffer(4)),
    ];
    const [b, u, i, v, a] = (await s.call('echo', [args])) as [
      Buffer,
      Uint8Array,
      Int16Array,
      DataView,
      ArrayBuffer,
    ];
    expect(Buffer.isBuffer(b) && b.length === 0).toBe(true);
    expect(u).toBeInstanceOf(Uint8Array);
    expect(u.length).toBe(0);
    expect(i).toBeInstanceOf(Int16Array);
    expect(i.length).toBe(0);
    expect(v).toBeInstanceOf(DataView);
    expect(v.byteLength).toBe(0);
    expect(a.byteLength).toBe(0);
    await s.close();
  });

  it('shares a SharedArrayBuffer with the worker, as structured clone does', async () => {
    const s = await pool.openSession();
    const shared = new SharedArrayBuffer(4);
    const back = (await s.call('echo', [shared])) as SharedArrayBuffer;
    expect(back).toBeInstanceOf(SharedArrayBuffer);
    new Uint8Array(shared)[0] = 7; // the same memory, both ways
    expect(new Uint8Array(back)[0]).toBe(7);
    await s.close();
  });

  it('refuses a cyclic argument with a DataCloneError', async () => {
    const s = await pool.openSession();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = { back: cyclic };
    const refused = await s.call('echo', [cyclic]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DataCloneError);
    expect((refused as Error).message).toBe(
      'Argument args is a cyclic or too deeply nested value, which cannot be sent to a worker thread',
    );
    expect(await s.call('echo', [7])).toBe(7);
    await s.close();
  });

  it('refuses an argument nested too deep for structured clone, and the process goes on', async () => {
    const s = await pool.openSession();
    const nest = (levels: number): unknown => {
      let value: unknown = 'bottom';
      for (let i = 0; i < levels; i++) value = [value];
      return value;
    };
    // Deep enough to overflow the stack of postMessage, which threw in the microtask that
    // sends a tick's calls: an uncaught exception, the end of the process.
    const refused = await s.call('echo', [nest(2_500)]).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(DataCloneError);
    expect((refused as Error).message).toBe(
      'Argument args is a cyclic or too deeply nested value, which cannot be sent to a worker thread',
    );
    expect(await s.call('echo', [nest(400)])).toEqual(nest(400));
    await s.close();
  });

  it('answers a result nested too deep, or a thrown value that cannot cross, with a DataCloneError', async () => {
    const s = await pool.openSession();
    const deep = toPortableFunction(() => {
      let value: unknown = 'bottom';
      for (let i = 0; i < 5_000; i++) value = [value];
      return value;
    }, 'deep');
    // The worker could post it; this thread could not read it back, and the call never settled.
    const tooDeep = await s.call('portable', [deep, []]).catch((e: unknown) => e);
    expect(tooDeep).toBeInstanceOf(DataCloneError);
    expect((tooDeep as Error).message).toBe(
      'Result value result is a cyclic or too deeply nested value, which cannot be sent back from a worker thread',
    );
    const throwsSymbol = toPortableFunction(() => {
      throw Symbol('thrown');
    }, 'throwsSymbol');
    const thrown = await s.call('portable', [throwsSymbol, []]).catch((e: unknown) => e);
    expect(thrown).toBeInstanceOf(DataCloneError);
    expect((thrown as DataCloneError).path).toBe('thrown');
    expect((thrown as Error).message).toBe(
      'Result value thrown is a symbol, which cannot be sent back from a worker thread',
    );
    expect(await s.call('echo', [7])).toBe(7);
    await s.close();
  });

  it('rejects the one call whose value the port refuses, and answers the others sent with it', async () => {
    const s = await pool.openSession();
    const [before, refused, after] = await Promise.allSettled([
      s.call('echo', [1]),
      s.call('echo', [new Unclonable()]),
      s.call('echo', [3]),
    ]);
    expect(before).toEqual({ status: 'fulfilled', value: 1 });
    expect(after).toEqual({ status: 'fulfilled', value: 3 });
    expect(refused.status).toBe('rejected');
    const error = (refused as PromiseRejectedResult).reason as DataCloneError;
    expect(error).toBeInstanceOf(DataCloneError);
    expect(error.path).toBe('args');
    expect((error.cause as Error).name).toBe('DataCloneError');
    expect(await s.call('echo', [4])).toBe(4);
    // The same for the worker's answers: a result its port refuses is answered with the error.
    const answers = await Promise.allSettled([
      s.call('echo', [5]),
      s.call('unclonable'),
      s.call('echo', [6]),
    ]);
    expect(answers.map((a) => (a.status === 'fulfilled' ? a.value : 'rejected'))).toEqual([
      5,
      'rejected',
      6,
    ]);
    expect((answers[1] as PromiseRejectedResult).reason).toBeInstanceOf(DataCloneError);
    await s.close();
  });

  it('rebuilds an AggregateError with the errors it gathers, each in its class', async () => {
    const s = await pool.openSession();
    const err = (await s.call('failAggregate').catch((e: unknown) => e)) as AggregateError;
    expect(err).toBeInstanceOf(AggregateError);
    expect(err.message).toBe('both failed');
    expect(err.errors).toHaveLength(2);
    expect(err.errors[0]).toBeInstanceOf(TypeError);
    expect(err.errors[1]).toMatchObject({ message: 'second', code: 'E_SECOND' });
    // Not enumerable, as on an AggregateError made here.
    expect(Object.keys(err)).not.toContain('errors');
    await s.close();
  });

  it('assertSendable throws, at once, the error a call with that value would reject with', async () => {
    class Thing {}
    const value = { ok: [1, 'a', Buffer.from('b'), new Date(0), 2n], bad: [new Thing()] };
    const s = await pool.openSession();
    const fromCall = await s.call('record', [value]).catch((e: unknown) => e);
    await s.close();
    let thrown: unknown;
    try {
      assertSendable(value, 'args[0]');
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(DataCloneError);
    expect((thrown as DataCloneError).code).toBe('UNBLOCK_ERR_DATA_CLONE');
    expect((thrown as Error).message).toBe((fromCall as Error).message);
    expect((thrown as Error).message).toContain('args[0].bad[0]');
    expect(() => assertSendable(value.ok, 'ok')).not.toThrow();
  });

  it("rejects close() with the driver's close error", async () => {
    const s = await pool.openSession({ failClose: true });
    const err = await s.close().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect(err).toMatchObject({ message: 'cannot close', code: 'E_CLOSE' });
    // Closed all the same: later calls are refused, and close() stays settled.
    await expect(s.call('echo', [1])).rejects.toMatchObject({ code: 'UNBLOCK_ERR_SESSION_CLOSED' });
    const ok = await pool.openSession();
    await expect(ok.close()).resolves.toBeUndefined();
  });

  it('reports open errors with the driver error', async () => {
    const err = await pool.openSession({ failOpen: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RangeError);
    expect((err as Record<string, unknown>).code).toBe('E_OPEN');
  });

  it('pins a session to one worker and spreads sessions over workers', async () => {
    const a = await pool.openSession();
    const b = await pool.openSession();
    const ta = await Promise.all([a.call('threadId'), a.call('threadId'), a.call('threadId')]);
    expect(new Set(ta).size).toBe(1);
    expect(ta[0]).toBe(a.threadId);
    expect(b.threadId).not.toBe(a.threadId);
    await Promise.all([a.close(), b.close()]);
  });

  it('runs stateless calls on any worker', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => pool.run('echo', [i])));
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i));
  });
});
