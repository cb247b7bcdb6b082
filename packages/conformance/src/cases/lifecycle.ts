import { defineCases } from '../case.js';
import { collect, rejection, settle, sleep, within } from '../util.js';

const closedCode = 'UNBLOCK_ERR_POOL_CLOSED';

export const lifecycleCases = defineCases('lifecycle', [
  {
    id: 'lifecycle.dialect',
    title: "client.dialect names the descriptor's dialect",
    run: async ({ client, adapter, expect }) => {
      expect(client.dialect).toBe(adapter.dialect);
    },
  },
  {
    id: 'lifecycle.stats.counts',
    title: 'stats() counts completed and failed calls',
    run: async ({ open, expect }) => {
      const client = await open();
      const before = client.stats();
      await client.query('select 1 as one');
      await rejection(client.query('selec 1'));
      const after = client.stats();
      expect(after.completed).toBeGreaterThan(before.completed);
      expect(after.failed).toBeGreaterThan(before.failed);
      expect(after.threads).toBeGreaterThanOrEqual(1);
    },
  },
  {
    id: 'lifecycle.close.in-flight-finishes',
    title: 'close() lets a call in flight finish, then resolves',
    run: async ({ open, sql, expect }) => {
      const client = await open();
      const call = settle(client.query(sql.sleep(300)));
      await sleep(20);
      await within(client.close(), 10_000, 'close()');
      const done = await call;
      expect(done.ok, String(done.error)).toBe(true);
    },
  },
  {
    id: 'lifecycle.close.many-in-flight',
    title: 'close() with 200 calls in flight: every one settles and close resolves',
    run: async ({ open, expect }) => {
      const client = await open();
      const calls = Array.from({ length: 200 }, (_, i) =>
        settle(client.query('select ? as v', [i])),
      );
      await within(client.close(), 10_000, 'close()');
      const done = await within(Promise.all(calls), 10_000, 'the calls in flight');
      expect(done.filter((d) => d.ok).length).toBe(200);
    },
  },
  {
    id: 'lifecycle.after-close.query',
    title: 'query() after close rejects with UNBLOCK_ERR_POOL_CLOSED',
    run: async ({ open, expect }) => {
      const client = await open();
      await client.query('select 1 as one');
      await client.close();
      const err = await rejection(Promise.resolve().then(() => client.query('select 1 as one')));
      expect(err.code, err.message).toBe(closedCode);
    },
  },
  {
    id: 'lifecycle.after-close.iterate',
    title: 'iterate() after close rejects with UNBLOCK_ERR_POOL_CLOSED',
    run: async ({ open, sql, expect }) => {
      const client = await open();
      await client.close();
      const err = await rejection(
        Promise.resolve().then(() => collect(client.iterate(sql.series(3)))),
      );
      expect(err.code, err.message).toBe(closedCode);
    },
  },
  {
    id: 'lifecycle.after-close.transaction',
    title: 'transaction() after close rejects with UNBLOCK_ERR_POOL_CLOSED without calling fn',
    run: async ({ open, expect }) => {
      const client = await open();
      await client.close();
      let called = false;
      const err = await rejection(
        Promise.resolve().then(() =>
          client.transaction(async () => {
            called = true;
          }),
        ),
      );
      expect(err.code, err.message).toBe(closedCode);
      expect(called).toBe(false);
    },
  },
  {
    id: 'lifecycle.close.double',
    title: 'close() twice, in turn or at once, resolves every time',
    run: async ({ open }) => {
      const client = await open();
      await client.query('select 1 as one');
      await within(Promise.all([client.close(), client.close()]), 10_000, 'two close() at once');
      await within(client.close(), 10_000, 'a third close()');
    },
  },
  {
    id: 'lifecycle.close.unused',
    title: 'a client that never ran a query closes cleanly',
    run: async ({ open }) => {
      const client = await open();
      await within(client.close(), 10_000, 'close()');
    },
  },
  {
    id: 'lifecycle.async-dispose',
    title: 'Symbol.asyncDispose closes the client (await using)',
    run: async ({ open, expect }) => {
      const client = await open();
      await client.query('select 1 as one');
      await client[Symbol.asyncDispose]();
      const err = await rejection(Promise.resolve().then(() => client.query('select 1 as one')));
      expect(err.code).toBe(closedCode);
    },
  },
  {
    id: 'lifecycle.close.open-iterator',
    title: 'close() with an iteration half done resolves, and the iterator then ends or rejects',
    run: async ({ open, sql, expect }) => {
      const client = await open();
      const it = client.iterate(sql.series(10_000), [], { batchSize: 10 });
      expect((await it.next()).done).toBe(false);
      await within(client.close(), 10_000, 'close()');
      const rest = await within(
        settle(collect({ [Symbol.asyncIterator]: () => it })),
        10_000,
        'the rest of the iteration',
      );
      if (rest.ok) expect((rest.value as unknown[]).length).toBeLessThan(10_000);
    },
  },
  {
    id: 'lifecycle.close.open-transaction',
    title:
      'close() during a transaction resolves, and the transaction settles (committed or refused, never hanging)',
    run: async ({ open, table, expect }) => {
      const client = await open();
      const t = await table({ v: 'int' }, client);
      const tx = settle(
        client.transaction(async () => {
          await client.query(`insert into ${t} (v) values (1)`);
          await sleep(100);
          await client.query(`insert into ${t} (v) values (2)`);
        }),
      );
      await sleep(30);
      await within(client.close(), 10_000, 'close()');
      const done = await within(tx, 10_000, 'the transaction');
      if (!done.ok)
        expect(String((done.error as { code?: string }).code), String(done.error)).toMatch(
          /^UNBLOCK_ERR_/,
        );
    },
  },
]);
