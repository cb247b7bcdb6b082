// A call on a cluster after cluster.end() retries on the node until the node is removed, and the
// removal ends the node's pool a second time. A pool that had connections refuses that second
// end: mysql2 throws its error where no caller can catch it, and the process dies; this package
// left the same error as an unhandled rejection, which ends a Node process as well. Each case runs
// in a child process, where an unhandled rejection or an uncaught error shows in how it exits.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { DB, dbAvailable } from './helpers.js';

type Driver = 'mysql2/promise' | '@unblock/mysql2';

interface Outcome {
  status: number | null;
  /** What the script printed: how the call ended and the cluster's events, or nothing. */
  result: unknown;
  stderr: string;
}

/**
 * Adds one node to a new cluster of `driver`, takes and releases a connection from it when
 * `connected`, ends the cluster, then runs `call` and reports how it ended.
 */
function afterEnd(driver: Driver, call: string, connected = true): Outcome {
  const script = `
import mysql from '${driver}';
const cluster = mysql.createPoolCluster();
const events = [];
for (const name of ['warn', 'remove', 'offline', 'online']) {
  cluster.on(name, (arg) => events.push([name, arg instanceof Error ? arg.message : arg]));
}
cluster.add('node', ${JSON.stringify(DB)});
if (${connected}) (await cluster.getConnection()).release();
await cluster.end();
let outcome;
try {
  await ${call};
  outcome = 'returned';
} catch (err) {
  outcome = err.message;
}
// Unhandled rejections are reported once the microtasks have run: wait for them.
await new Promise((resolve) => setImmediate(resolve));
console.log(JSON.stringify({ outcome, events }));
`;
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: new URL('..', import.meta.url),
    encoding: 'utf8',
    timeout: 60_000,
  });
  const line = out.stdout.trim();
  return {
    status: out.status,
    result: line === '' ? undefined : (JSON.parse(line) as unknown),
    stderr: out.stderr,
  };
}

const CLOSED_STATE = "Can't add new command when connection is in closed state";
/** What mysql2 does on an ended cluster whose node never had a connection, and this package does whether or not it had. */
const RETRIED_THEN_REMOVED = {
  outcome: 'Pool is closed.',
  events: [
    ['warn', 'Pool is closed.'],
    ['warn', 'Pool is closed.'],
    ['warn', 'Pool is closed.'],
    ['warn', 'Pool is closed.'],
    ['remove', 'node'],
  ],
};

describe.skipIf(!dbAvailable)('a cluster after end()', () => {
  it('mysql2/promise: getConnection() retries, removes the node; its second end throws uncaught when it had connections', () => {
    expect(afterEnd('mysql2/promise', 'cluster.getConnection()', false)).toEqual({
      status: 0,
      result: RETRIED_THEN_REMOVED,
      stderr: '',
    });
    const crashed = afterEnd('mysql2/promise', 'cluster.getConnection()');
    expect(crashed.status).not.toBe(0);
    expect(crashed.result).toBeUndefined();
    expect(crashed.stderr).toContain(CLOSED_STATE);
  });

  it.each([
    ['cluster.getConnection()'],
    ["cluster.getConnection('node', 'ORDER')"],
    ["cluster.of('*').query('SELECT 1')"],
    ["cluster.of('node').execute('SELECT 1')"],
  ])(
    "%s rejects with 'Pool is closed.' after mysql2's retries and events, and the process lives on",
    (call) => {
      expect(afterEnd('@unblock/mysql2', call)).toEqual({
        status: 0,
        result: RETRIED_THEN_REMOVED,
        stderr: '',
      });
    },
  );

  it('remove() ends the node quietly (mysql2 throws the closed-state error from it)', () => {
    const theirs = afterEnd('mysql2/promise', "cluster.remove('*')");
    expect(theirs).toEqual({
      status: 0,
      result: { outcome: CLOSED_STATE, events: [] },
      stderr: '',
    });
    expect(afterEnd('@unblock/mysql2', "cluster.remove('*')")).toEqual({
      status: 0,
      result: { outcome: 'returned', events: [] },
      stderr: '',
    });
  });
});
