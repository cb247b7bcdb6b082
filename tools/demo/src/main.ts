// The demo: the same heavy SQLite query, first through better-sqlite3 on the main thread, then
// through @unblock/better-sqlite3, while a 1 ms timer (standing in for every other request of a
// service) measures how late the event loop answers.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import Database from '@unblock/better-sqlite3';

const dir = mkdtempSync(join(tmpdir(), 'unblock-demo-'));
const file = join(dir, 'demo.db');
const heavy = `select count(*) as n, sum(length(a.name) * b.id % 7) as score
               from people a join people b on a.id % 97 = b.id % 89`;

async function withTimer(label: string, work: () => Promise<unknown>): Promise<void> {
  let last = performance.now();
  let worstGap = 0;
  let ticks = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worstGap = Math.max(worstGap, now - last);
    last = now;
    ticks++;
  }, 1);
  await new Promise((resolve) => setTimeout(resolve, 20));
  const start = performance.now();
  const result = await work();
  const ms = performance.now() - start;
  await new Promise((resolve) => setTimeout(resolve, 5));
  clearInterval(timer);
  console.log(
    `${label.padEnd(34)} ${ms.toFixed(0).padStart(5)} ms  timer ticks: ${String(ticks).padStart(4)}  longest gap: ${worstGap.toFixed(1).padStart(6)} ms  ${JSON.stringify(result)}`,
  );
}

// Set up a file database in WAL mode with some rows.
const setup = new BetterSqlite3(file);
setup.pragma('journal_mode = WAL');
setup.exec('create table people (id integer primary key, name text)');
const insert = setup.prepare('insert into people (name) values (?)');
setup.transaction(() => {
  for (let i = 0; i < 2_000; i++) insert.run(`person ${i}`);
})();

console.log('Three heavy queries; a 1 ms timer keeps running meanwhile.\n');
await withTimer('better-sqlite3 (main thread)', async () => {
  const stmt = setup.prepare(heavy);
  return [stmt.get(), stmt.get(), stmt.get()];
});
setup.close();

const db = new Database(file, { readers: 2 });
await db.ready;
const stmt = await db.prepare(heavy);
await withTimer('@unblock/better-sqlite3 (workers)', () =>
  Promise.all([stmt.get(), stmt.get(), stmt.get()]),
);

// Cancellation: a query that would run for ever, stopped after 100 ms.
const runaway = await db.prepare(
  'with recursive c(x) as (select 1 union all select x + 1 from c) select count(*) from c',
);
const started = performance.now();
const { withCallOptions } = await import('@unblock/core');
const outcome = await withCallOptions({ signal: AbortSignal.timeout(100) }, () =>
  runaway.get(),
).catch((err: Error) => `${err.name} after ${(performance.now() - started).toFixed(0)} ms`);
console.log(`\nA runaway query with a 100 ms signal: ${String(outcome)}`);
console.log(
  `The database still answers: ${JSON.stringify(await (await db.prepare('select 1 as ok')).get())}`,
);

await db.close();
rmSync(dir, { recursive: true, force: true });
