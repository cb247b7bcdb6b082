import { defineCases } from '../case.js';
import { collect, count, settle, within } from '../util.js';

export const loadCases = defineCases('load', [
  {
    id: 'load.concurrent.10k-answered-once',
    title: '10,000 concurrent calls are each answered exactly once, with their own result',
    timeout: 120_000,
    run: async ({ client, expect }) => {
      const answers = new Array<number>(10_000).fill(0);
      const results = await Promise.all(
        Array.from({ length: 10_000 }, (_, i) =>
          client.query<{ v: number }>('select ? as v', [i]).then((r) => {
            answers[i]++;
            return Number(r.rows[0].v);
          }),
        ),
      );
      expect(results).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
      expect(answers.every((n) => n === 1)).toBe(true);
    },
  },
  {
    id: 'load.concurrent.writes',
    title: '2,000 concurrent inserts all land, each once',
    timeout: 120_000,
    run: async ({ client, table, expect }) => {
      const t = await table({ v: 'int' });
      await Promise.all(
        Array.from({ length: 2000 }, (_, i) =>
          client.query(`insert into ${t} (v) values (?)`, [i]),
        ),
      );
      expect(await count(client, t)).toBe(2000);
      const { rows } = await client.query(`select count(distinct v) as n from ${t}`);
      expect(Number(rows[0].n)).toBe(2000);
    },
  },
  {
    id: 'load.concurrent.transactions',
    title: '200 concurrent transactions each commit their row',
    timeout: 120_000,
    run: async ({ client, table, expect }) => {
      const t = await table({ v: 'int' });
      await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          client.transaction(
            async () => void (await client.query(`insert into ${t} (v) values (?)`, [i])),
          ),
        ),
      );
      expect(await count(client, t)).toBe(200);
    },
  },
  {
    id: 'load.concurrent.mixed',
    title: 'iterations and 1,000 queries at once all return correct results',
    timeout: 120_000,
    run: async ({ client, sql, expect }) => {
      const iterations = Array.from({ length: 5 }, () =>
        collect(client.iterate(sql.series(2000), [], { batchSize: 100 })),
      );
      const queries = Array.from({ length: 1000 }, (_, i) =>
        client.query<{ v: number }>('select ? as v', [i]),
      );
      const [rows, answers] = await Promise.all([Promise.all(iterations), Promise.all(queries)]);
      for (const r of rows) expect(r).toHaveLength(2000);
      expect(answers.map((a) => Number(a.rows[0].v))).toEqual(
        Array.from({ length: 1000 }, (_, i) => i),
      );
    },
  },
  {
    id: 'load.max-queue.rejects-cleanly',
    title:
      'past maxQueue, calls reject with UNBLOCK_ERR_QUEUE_FULL and the accepted ones answer correctly',
    run: async ({ open, expect }) => {
      const client = await open({ maxQueue: 8 });
      const done = await within(
        Promise.all(
          Array.from({ length: 200 }, (_, i) =>
            settle(client.query<{ v: number }>('select ? as v', [i])),
          ),
        ),
        30_000,
        '200 calls on a client with maxQueue 8',
      );
      const refused = done.filter((d) => !d.ok);
      expect(refused.length).toBeGreaterThan(0);
      expect(refused.length).toBeLessThan(200);
      for (const d of refused)
        expect((d.error as { code?: string }).code).toBe('UNBLOCK_ERR_QUEUE_FULL');
      done.forEach(
        (d, i) => d.ok && expect(Number((d.value as { rows: { v: number }[] }).rows[0].v)).toBe(i),
      );
    },
  },
  {
    id: 'load.max-queue.recovers',
    title: 'after a queue-full burst, calls within the limit are accepted again',
    run: async ({ open, expect }) => {
      const client = await open({ maxQueue: 8 });
      await Promise.all(Array.from({ length: 100 }, () => settle(client.query('select 1 as one'))));
      const again = await Promise.all(
        Array.from({ length: 4 }, (_, i) => client.query('select ? as v', [i])),
      );
      expect(again.map((r) => Number(r.rows[0].v))).toEqual([0, 1, 2, 3]);
    },
  },
]);
