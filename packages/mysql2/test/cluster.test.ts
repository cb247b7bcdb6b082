// createPoolCluster through mysql2/promise directly and through @unblock/mysql2: the same routing,
// the same failure handling and events.
import rawMysql from 'mysql2/promise';
import mysql from '@unblock/mysql2';
import { describe, expect, it } from 'vitest';
import { DB, dbAvailable } from './helpers.js';

interface ClusterConnection {
  query(sql: string): Promise<unknown>;
  release(): void;
}
interface Namespace {
  query(sql: string, values?: unknown): Promise<unknown>;
  execute(sql: string, values?: unknown): Promise<unknown>;
  getConnection(): Promise<ClusterConnection>;
}
/** What both clusters offer (mysql2's typings omit `remove` and `query`). */
interface Cluster {
  add(id: string | object, config?: object): void;
  remove(pattern: string): void;
  of(pattern?: string | RegExp, selector?: string): Namespace;
  getConnection(pattern?: string, selector?: string): Promise<ClusterConnection>;
  query(sql: string, values?: unknown): Promise<unknown>;
  execute(sql: string, values?: unknown): Promise<unknown>;
  end(): Promise<void>;
  on(event: string, listener: (arg: never) => void): unknown;
}
const SUBJECTS: [string, (options?: object) => Cluster][] = [
  ['mysql2/promise', (o) => rawMysql.createPoolCluster(o) as unknown as Cluster],
  ['@unblock/mysql2', (o) => mysql.createPoolCluster(o) as unknown as Cluster],
];
const BAD = { ...DB, port: 1, connectTimeout: 2000 };

/** Which node answered: node A returns dates as strings. */
async function nodeOf(run: () => Promise<unknown>): Promise<string> {
  const [rows] = (await run()) as [{ d: unknown }[]];
  return typeof rows[0].d === 'string' ? 'A' : 'B';
}

async function both<T>(run: (make: (options?: object) => Cluster) => Promise<T>): Promise<T[]> {
  const out: T[] = [];
  for (const [, make] of SUBJECTS) out.push(await run(make));
  return out;
}

const SQL = 'SELECT NOW() AS d';

/** An error as `code: message`. */
function described(err: unknown): string {
  return `${(err as { code?: string }).code}: ${(err as Error).message}`;
}

describe.skipIf(!dbAvailable)('createPoolCluster, as mysql2/promise', () => {
  it("cluster.query() and execute() run on of('*') (mysql2/promise's reject: its core cluster has no query)", async () => {
    const cluster = mysql.createPoolCluster();
    cluster.add({ ...DB });
    const [[a]] = (await cluster.query('SELECT ? AS x', [1])) as unknown as [{ x: number }[]];
    const [[b]] = (await cluster.execute('SELECT ? AS x', [2])) as unknown as [{ x: number }[]];
    expect([a.x, b.x]).toEqual([1, 2]);
    const raw = rawMysql.createPoolCluster() as unknown as Cluster;
    raw.add({ ...DB });
    await expect(raw.query('SELECT 1')).rejects.toThrow(/is not a function/);
    await Promise.all([cluster.end(), raw.end()]);
  });

  it('takes defaultSelector as mysql2 does: in any case, and an unknown one fails at of()', async () => {
    const [theirs, ours] = await both(async (make) => {
      const ordered = make({ defaultSelector: 'order' });
      ordered.add('A', { ...DB, dateStrings: true });
      ordered.add('B', DB);
      const picked = [];
      for (let i = 0; i < 3; i++) picked.push(await nodeOf(() => ordered.of('*').query(SQL)));
      await ordered.end();
      const unknown = make({ defaultSelector: 'XYZ' });
      unknown.add('A', DB);
      let thrown = 'none';
      try {
        unknown.of('*');
      } catch (err) {
        thrown = (err as Error).message;
      }
      await unknown.end();
      return { picked, thrown };
    });
    expect(ours).toEqual(theirs);
    expect(ours).toEqual({
      picked: ['A', 'A', 'A'],
      thrown: 'makeSelector[selector] is not a function',
    });
  });

  it('routes by pattern and selector', async () => {
    const [theirs, ours] = await both(async (make) => {
      const cluster = make();
      cluster.add('A', { ...DB, dateStrings: true });
      cluster.add('B', DB);
      cluster.add('B', { ...DB, dateStrings: true }); // an id already there is ignored
      const seen: string[] = [];
      const rr = cluster.of('*', 'RR');
      for (let i = 0; i < 4; i++) seen.push(await nodeOf(() => rr.query(SQL)));
      for (let i = 0; i < 2; i++)
        seen.push(await nodeOf(() => cluster.of('*', 'ORDER').execute(SQL)));
      seen.push(await nodeOf(() => cluster.of('B').query(SQL)));
      const conn = await cluster.getConnection('A');
      seen.push(await nodeOf(() => conn.query(SQL)));
      conn.release();
      const missing = await cluster.getConnection('X*').catch((e: Error & { code?: string }) => e);
      seen.push(described(missing));
      cluster.remove('A');
      seen.push(await nodeOf(() => cluster.of('*').query(SQL)));
      await cluster.end();
      return seen;
    });
    expect(ours).toEqual(theirs);
    expect(ours).toEqual([
      'A',
      'B',
      'A',
      'B',
      'A',
      'A',
      'B',
      'A',
      'POOL_NOEXIST: Pool does Not exist.',
      'B',
    ]);
  });

  it('a global RegExp pattern matches every node, every time', async () => {
    const [theirs, ours] = await both(async (make) => {
      const cluster = make();
      cluster.add('NODE_A', { ...DB, dateStrings: true });
      cluster.add('NODE_B', DB);
      const seen: string[] = [];
      const rr = cluster.of(/NODE/g, 'RR');
      for (let i = 0; i < 4; i++) seen.push(await nodeOf(() => rr.query(SQL)));
      await cluster.end();
      return seen;
    });
    expect(ours).toEqual(theirs);
    expect(ours).toEqual(['A', 'B', 'A', 'B']);
  });

  it('retries a failing node, then removes it, with the same events', async () => {
    const [theirs, ours] = await both(async (make) => {
      const cluster = make({ removeNodeErrorCount: 2, defaultSelector: 'ORDER' });
      const events: string[] = [];
      cluster.on('warn', (err: Error & { code?: string }) => events.push(`warn ${err.code}`));
      cluster.on('remove', (id: string) => events.push(`remove ${id}`));
      cluster.add('BAD', BAD);
      cluster.add('GOOD', DB);
      const conn = await cluster.getConnection();
      const [[row]] = (await conn.query('SELECT 1 AS one')) as unknown as [{ one: number }[]];
      conn.release();
      events.push(`answered ${row.one}`);
      await cluster.end();
      return events;
    });
    expect(ours).toEqual(theirs);
    expect(ours).toEqual(['warn ECONNREFUSED', 'remove BAD', 'warn ECONNREFUSED', 'answered 1']);
  });

  it('takes a failing node offline for restoreNodeTimeout instead, with the same errors', async () => {
    const [theirs, ours] = await both(async (make) => {
      const cluster = make({
        removeNodeErrorCount: 1,
        // Long enough for the steps before the second getConnection() on a loaded machine (at
        // 300 ms, the node was back online in time for it once).
        restoreNodeTimeout: 1500,
        defaultSelector: 'ORDER',
      });
      const events: string[] = [];
      cluster.on('warn', (err: Error & { code?: string }) => events.push(`warn ${err.code}`));
      cluster.on('offline', (id: string) => events.push(`offline ${id}`));
      cluster.add('BAD', BAD);
      cluster.add('GOOD', DB);
      const conn = await cluster.getConnection();
      conn.release();
      const offline = await cluster
        .of('BAD')
        .getConnection()
        .catch((e: Error) => e);
      events.push(described(offline));
      await new Promise((resolve) => setTimeout(resolve, 1550));
      const again = await cluster
        .of('BAD')
        .getConnection()
        .catch((e: Error) => e);
      events.push(`after the timeout: ${(again as { code?: string }).code}`);
      await cluster.end();
      return events;
    });
    expect(ours).toEqual(theirs);
    expect(ours).toEqual([
      'offline BAD',
      'warn ECONNREFUSED',
      'POOL_NONEONLINE: Pool does Not have online node.',
      'offline BAD',
      'after the timeout: ECONNREFUSED',
    ]);
  });
});
