import { describe, expect, it } from 'vitest';

import { loadSqliteInterrupt } from '@unblock/sqlite-interrupt';

const sqliteInterrupt = loadSqliteInterrupt()!;

const notSafeIntegers: [string, unknown][] = [
  ['a numeric string', '1'],
  ['a fraction', 1.5],
  ['NaN', NaN],
  ['Infinity', Infinity],
  ['2 ** 53', 2 ** 53],
  ['undefined', undefined],
  ['null', null],
  ['a bigint', 1n],
  ['a symbol', Symbol('id')],
  ['an object', { id: 1 }],
];

describe.each(['interrupt', 'isRegistered'] as const)('%s()', (method) => {
  const call = (id: unknown): boolean => (sqliteInterrupt[method] as (id: unknown) => boolean)(id);

  it.each(notSafeIntegers)('throws a TypeError for %s', (_, id) => {
    let thrown: unknown;
    try {
      call(id);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(TypeError);
    expect(thrown).toMatchObject({
      code: 'UNBLOCK_ERR_INVALID_ARG',
      message: expect.stringMatching(/^The "id" argument must be a safe integer\. Received /),
    });
  });

  it('throws a TypeError when called with no argument', () => {
    expect(() => (sqliteInterrupt[method] as () => boolean)()).toThrow(TypeError);
  });

  it.each([0, -1, Number.MAX_SAFE_INTEGER, -0])('returns false for the unknown id %d', (id) => {
    expect(call(id)).toBe(false);
  });
});

describe('registeredCount()', () => {
  it('returns a non-negative integer', () => {
    const count = sqliteInterrupt.registeredCount();
    expect(Number.isInteger(count) && count >= 0).toBe(true);
  });
});
