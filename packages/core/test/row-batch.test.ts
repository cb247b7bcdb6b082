import { afterAll, describe, expect, it } from 'vitest';
import { RowBatch } from '@unblock/core';
import { pool as makePool } from './helpers.js';

describe('RowBatch', () => {
  const pool = makePool({ threads: 1 });
  afterAll(() => pool.close());

  it('reaches the worker as the rows themselves, every value kept', async () => {
    const s = await pool.openSession();
    const rows = Array.from({ length: 500 }, (_, i) => [
      i,
      i % 7 === 0 ? null : `name ${i} é`,
      i / 3,
      i % 5 === 0 ? null : BigInt(i) * 10n ** 20n,
      Buffer.from([i & 255]),
      i % 2 === 0 ? -0 : Number.NaN,
    ]);
    const received = (await s.call('echo', [new RowBatch(rows, 6)])) as unknown[][];
    expect(received).toStrictEqual(rows);
    expect(Object.is(received[0][5], -0)).toBe(true);
    // A few rows travel as they are; they arrive the same.
    expect(await s.call('echo', [new RowBatch(rows.slice(0, 3), 6)])).toStrictEqual(
      rows.slice(0, 3),
    );
    expect(await s.call('echo', [new RowBatch([], 2)])).toEqual([]);
    await s.close();
  });

  it('refuses rows that are not arrays of its width', () => {
    expect(() => new RowBatch([[1, 2], [3]], 2)).toThrow(TypeError);
    expect(() => new RowBatch([{ a: 1 }] as unknown as unknown[][], 1)).toThrow(
      'Every row of a RowBatch must be an array of 1 values',
    );
  });
});
