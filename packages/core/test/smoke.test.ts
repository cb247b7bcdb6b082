import { describe, expect, it, afterAll } from 'vitest';
import { createPool } from '@unblock/core';

const driver = new URL('./fixtures/echo-driver.mjs', import.meta.url);

describe('smoke', () => {
  const pool = createPool({ driver, threads: 2 });
  afterAll(() => pool.close());

  it('opens a session and calls in order', async () => {
    const s = await pool.openSession({ tag: 'a' });
    expect(s.info).toMatchObject({ tag: 'a' });
    const results = await Promise.all([1, 2, 3].map((x) => s.call('record', [x])));
    expect(results).toEqual([1, 2, 3]);
    expect(await s.call('log')).toEqual([1, 2, 3]);
    const rows = (await s.call('rows', [3])) as { rows: unknown[] };
    expect(rows.rows[1]).toEqual({ id: 1, name: 'name 1', half: 0.5, blob: Buffer.from([1]) });
    await s.close();
  });
});
