// mysql2's cluster retries on another node unless `canRetry` is given and falsy: it checks
// `typeof canRetry === 'undefined'`, so `canRetry: null` turns retrying off, as false does.
import rawMysql from 'mysql2/promise';
import mysql from '@unblock/mysql2';
import { describe, expect, it } from 'vitest';
import { DB, dbAvailable } from './helpers.js';

const BAD = { ...DB, port: 1, connectTimeout: 2000 };

interface Cluster {
  add(id: string, config: object): void;
  getConnection(): Promise<{ release(): void }>;
  end(): Promise<void>;
  on(event: 'warn', listener: (err: Error & { code?: string }) => void): unknown;
}

/** What three getConnection() calls give on a cluster of a refusing node and a good one. */
async function outcomes(cluster: Cluster): Promise<string[]> {
  const out: string[] = [];
  cluster.on('warn', (err) => out.push(`warn ${err.code}`));
  cluster.add('BAD', BAD);
  cluster.add('GOOD', DB);
  try {
    for (let i = 0; i < 3; i++) {
      try {
        (await cluster.getConnection()).release();
        out.push('connected');
      } catch (err) {
        out.push(`rejected ${(err as { code?: string }).code}`);
      }
    }
  } finally {
    await cluster.end();
  }
  return out;
}

describe.skipIf(!dbAvailable)("PoolCluster's canRetry, as mysql2's", () => {
  it.each([null, false, 0, undefined, true])('canRetry: %s', async (canRetry) => {
    const options = { canRetry, defaultSelector: 'RR' } as never;
    const theirs = await outcomes(rawMysql.createPoolCluster(options) as unknown as Cluster);
    const ours = await outcomes(mysql.createPoolCluster(options) as unknown as Cluster);
    expect(ours).toEqual(theirs);
    // Round robin: the first call goes to BAD, the second to GOOD, the third to BAD again.
    expect(ours[0]).toBe(
      canRetry === undefined || canRetry ? 'warn ECONNREFUSED' : 'rejected ECONNREFUSED',
    );
  });
});
