import { afterAll, describe, expect, it } from 'vitest';
import { relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { toPortableFunction } from '@unblock/core';
import { pool as makePool } from './helpers.js';

describe('toPortableFunction and loadPortableFunction', () => {
  const pool = makePool({ threads: 1 });
  afterAll(() => pool.close());

  /** Sends `fn` as source, rebuilds it in the worker and calls it there with `args`. */
  const runThere = (fn: unknown, args: unknown[], thisArg?: unknown) =>
    pool.run('portable', [toPortableFunction(fn, 'fn'), args, thisArg]);

  it('runs arrows with default parameters, async functions and generators', async () => {
    expect(await runThere((a: number, b = 10) => a + b, [1])).toBe(11);
    expect(await runThere(({ a } = { a: 5 }, ...rest: unknown[]) => a + rest.length, [])).toBe(5);
    expect(await runThere(async (a: number) => a + 1, [1])).toBe(2);
    expect(
      await runThere(
        function* (n: number) {
          yield n;
          yield n + 1;
        },
        [1],
      ),
    ).toEqual([1, 2]);
  });

  it('runs methods written in shorthand, generator methods among them', async () => {
    const object = {
      double(a: number) {
        return a * 2;
      },
      *rows(n: number) {
        yield n;
      },
      ['comp' + 'uted'](a: number) {
        return a - 1;
      },
      class(a: number) {
        return a;
      },
    };
    expect(await runThere(object.double, [3])).toBe(6);
    expect(await runThere(object.rows, [3])).toEqual([3]);
    expect(await runThere(object.computed, [3])).toBe(2);
    // A method named `class` is not a class.
    expect(await runThere(object.class, [4])).toBe(4);
  });

  it('runs a getter or a setter taken from its descriptor (they failed to compile)', async () => {
    const object = {
      get answer() {
        return 42;
      },
      set value(v: number) {
        (this as { seen?: number }).seen = v;
      },
    };
    const { get } = Object.getOwnPropertyDescriptor(object, 'answer')!;
    const { set } = Object.getOwnPropertyDescriptor(object, 'value')!;
    expect(await runThere(get, [])).toBe(42);
    expect(await runThere(set, [1], {})).toBeUndefined();
  });

  it("sends a frozen function (its prototype is read-only, as a class's is)", async () => {
    const frozen = Object.freeze(function addOne(a: number) {
      return a + 1;
    });
    expect(await runThere(frozen, [1])).toBe(2);
  });

  it('refuses a class at once: it could only fail when called', () => {
    for (const cls of [class {}, class Named {}]) {
      expect(() => toPortableFunction(cls, 'udf')).toThrow(TypeError);
      expect(() => toPortableFunction(cls, 'udf')).toThrow('udf: a class cannot be called');
    }
  });

  it('imports a module named by a relative path from the working directory, not from core', async () => {
    const fixture = fileURLToPath(new URL('./fixtures/offload-this.mjs', import.meta.url));
    const module = `.${sep}${relative(process.cwd(), fixture)}`;
    expect(await runThere({ module, export: 'helper' }, [])).toBe('helper');
  });

  it("gives a ReferenceError the function throws itself as it is, not as a closure's", async () => {
    const err = await runThere(() => {
      throw new ReferenceError('not a closure variable');
    }, []).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReferenceError);
    expect((err as ReferenceError).message).toBe('not a closure variable');
  });

  it('names the closure variable a computed method name uses', async () => {
    const key = 'fromClosure';
    const object = {
      [key](a: number) {
        return a;
      },
    };
    const err = await runThere(object[key], [1]).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(TypeError);
    expect((err as TypeError).message).toMatch(/^fn uses key from its closure/);
  });
});
