import { afterAll, describe, expect, it } from 'vitest';
import type { ReceivedRows } from '@unblock/core';
import { pool as makePool } from './helpers.js';

describe('row sets', () => {
  const pool = makePool({ threads: 1 });
  afterAll(() => pool.close());

  async function roundTrip(columns: string[], rows: unknown[][], shape = 'object') {
    const s = await pool.openSession();
    const got = (await s.call('rowSet', [columns, rows, shape])) as ReceivedRows;
    await s.close();
    return got.rows;
  }

  // 2 rows travel as rows, 20 packed by column: each way has its own object builder.
  it.each([1, 10])(
    'rebuilds objects as assigning each column in turn would (x%i)',
    async (times) => {
      const columns = ['a', 'b', 'a', '__proto__', '2', 'x"y'];
      const base = [
        [1, 'one', 3, 'p', 'two', null],
        [4, 'four', 6, 'q', 'six', 'z'],
      ];
      const rows = Array.from({ length: times }, () => base).flat();
      const expected = rows.map((row) => {
        const o: Record<string, unknown> = {};
        columns.forEach((c, i) =>
          Object.defineProperty(o, c, {
            value: row[i],
            enumerable: true,
            writable: true,
            configurable: true,
          }),
        );
        return o;
      });
      const got = (await roundTrip(columns, rows)) as Record<string, unknown>[];
      expect(got).toEqual(expected);
      expect(Object.keys(got[0])).toEqual(Object.keys(expected[0]));
      expect(Object.getPrototypeOf(got[0])).toBe(Object.prototype);
      expect(Object.hasOwn(got[0], '__proto__')).toBe(true);
      expect(got[0].a).toBe(3);
    },
  );

  it.each([1, 10])(
    'gives array rows one value per column, whatever the rows held (x%i)',
    async (times) => {
      const rows = Array.from({ length: times }, () => [[1], [2, 3, 4]]).flat();
      const got = await roundTrip(['a', 'b'], rows, 'array');
      expect(got).toHaveLength(2 * times);
      expect(got.slice(-2)).toEqual([
        [1, undefined],
        [2, 3],
      ]);
    },
  );

  it('packs columns that start with nulls, and sends a column that changes kind as plain values', async () => {
    const rows = Array.from({ length: 20 }, (_, i) => [
      i < 3 ? null : i,
      null,
      i === 15 ? 'fifteen' : i,
      i < 2 ? null : new Date(1_700_000_000_000 + i),
      i < 1 ? null : `s${i}`,
      i === 19 ? new Date(0) : `t${i}`,
    ]);
    const got = await roundTrip(['n', 'none', 'mixed', 'd', 's', 'mixed2'], rows, 'array');
    expect(got).toEqual(rows);
    expect((got[19] as unknown[])[5]).toBeInstanceOf(Date);
  });

  // 3 rows travel as rows, 30 packed by column: both must give the same values.
  it.each([1, 10])(
    'keeps dates, numbers, strings, nulls and mixed columns (x%i)',
    async (times) => {
      const d = new Date(1_700_000_000_123);
      const base = [
        [d, 1.5, 'a', 1n],
        [null, null, null, Buffer.from('b')],
        [new Date(Number.NaN), -0, '', 'mixed'],
      ];
      const rows = Array.from({ length: times }, () => base).flat();
      const got = (await roundTrip(['d', 'n', 's', 'm'], rows, 'array')) as unknown[][];
      expect(got).toHaveLength(3 * times);
      const last = got.slice(-3);
      expect(last[0]).toEqual([d, 1.5, 'a', 1n]);
      expect(last[0][0]).toBeInstanceOf(Date);
      expect(last[1]).toEqual([null, null, null, Buffer.from('b')]);
      expect(Number.isNaN((last[2][0] as Date).getTime())).toBe(true);
      expect(Object.is(last[2][1], -0)).toBe(true);
      expect(last[2][2]).toBe('');
      const objects = (await roundTrip(['d', 'n', 's', 'm'], rows, 'object')) as Record<
        string,
        unknown
      >[];
      expect(objects[objects.length - 3]).toEqual({ d, n: 1.5, s: 'a', m: 1n });
      const plucked = await roundTrip(['d', 'n', 's', 'm'], rows, 'pluck');
      expect(plucked[plucked.length - 2]).toBeNull();
    },
  );
});
