import { describe, expect, it } from 'vitest';
import { AbortError, withCallOptions } from '@unblock/core';
import Database from '@unblock/better-sqlite3';

// A count that runs for a while (tens to hundreds of ms here), then ends by itself.
const SLOW_COUNT =
  'with recursive c(x) as (select 1 union all select x + 1 from c where x < 3000000) select count(*) as n from c';

/** Never ends by itself: only an interrupt (or terminating the worker) stops it. */
const INFINITE =
  'with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c';

describe("an interrupt never reaches another caller's cursor", () => {
  it('lets a statement aborted beside an open cursor run to its end; the cursor reads every row', async () => {
    // In memory: one connection (the writer) holds both the cursor and the aborted statement.
    const db = await Database.open(':memory:');
    await db.exec('create table t (x integer)');
    const insert = await db.prepare('insert into t values (?)');
    await insert.runMany(Array.from({ length: 2000 }, (_, i) => [i]));
    const rows = (await db.prepare('select x from t order by x')).iterate();
    // The first batch is fetched: the cursor is open in the worker, mid-way.
    const first = await rows.next();
    expect(first.value).toEqual({ x: 0 });
    const count = await db.prepare(SLOW_COUNT);
    const err = await withCallOptions({ signal: AbortSignal.timeout(50) }, () => count.get()).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(AbortError);
    expect((err as AbortError).state).toBe('running');
    // SQLite keeps an interrupt pending while any statement of the connection is active: had it
    // been delivered, the cursor's next batch would fail with SQLITE_INTERRUPT.
    const seen: unknown[] = [first.value];
    for await (const row of rows) seen.push(row);
    expect(seen).toHaveLength(2000);
    expect(seen[1999]).toEqual({ x: 1999 });
    // Once no cursor is open, an abort interrupts again, and the connection stays usable: the
    // statement never ends by itself, so the next query answers only if it was interrupted (a
    // terminated worker would have lost the in-memory table).
    const forever = await db.prepare(INFINITE);
    const again = await withCallOptions({ signal: AbortSignal.timeout(50) }, () =>
      forever.get(),
    ).catch((e: unknown) => e);
    expect(again).toBeInstanceOf(AbortError);
    expect((again as AbortError).state).toBe('running');
    expect(await (await db.prepare('select count(*) as n from t')).get()).toEqual({ n: 2000 });
    await db.close();
  });
});
