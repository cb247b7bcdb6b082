// The caller's stack on errors: captured where the call was made (mysql2's `trace`), also when
// the statement is sent later, after a wait for a pool connection; and not at all with
// `trace: false`.
import mysql, { type Pool, type PoolCluster } from '@unblock/mysql2';
import { afterEach, describe, expect, it } from 'vitest';
import { DB, dbAvailable, settle } from './helpers.js';

const FILE = 'caller-stack.test.ts';

// Plain (not async) functions: V8's async stack traces cannot add their frames to a stack
// captured later in a promise callback, so only a synchronous capture at the call shows them.
function queryWaitingForTheConnection(pool: Pool): Promise<unknown> {
  return pool.query('SELECT * FROM no_such_table_caller_stack');
}

function executeWaitingForTheConnection(pool: Pool): Promise<unknown> {
  return pool.execute('SELECT * FROM no_such_table_caller_stack WHERE 1 = ?', [1]);
}

function queryOpeningAConnection(pool: Pool): Promise<unknown> {
  return pool.query('SELECT * FROM no_such_table_caller_stack');
}

function queryThatFails(conn: { query(sql: string): Promise<unknown> }): Promise<unknown> {
  return conn.query('SELECT * FROM no_such_table_caller_stack');
}

function clusterQueryThatFails(cluster: PoolCluster): Promise<unknown> {
  return cluster.of('*').query('SELECT * FROM no_such_table_caller_stack');
}

function clusterExecuteThatFails(cluster: PoolCluster): Promise<unknown> {
  return cluster.of('NODE*').execute('SELECT * FROM no_such_table_caller_stack WHERE 1 = ?', [1]);
}

async function failure(p: Promise<unknown>): Promise<Error & { code?: string }> {
  const r = await settle(p);
  expect(r.ok).toBe(false);
  return (r as { error: Error & { code?: string } }).error;
}

/** The stack's frames before the worker thread's: those of the caller's thread. */
function callerFrames(err: Error): string[] {
  const lines = err.stack!.split('\n').slice(1);
  const worker = lines.findIndex((l) => l.includes('<worker thread>'));
  return worker === -1 ? lines : lines.slice(0, worker);
}

const nodeEnv = process.env.NODE_ENV;
afterEach(() => {
  process.env.NODE_ENV = nodeEnv;
});

describe.skipIf(!dbAvailable)("the caller's stack (mysql2's trace)", () => {
  it("pool.query/execute waiting in the queue: the error's stack starts at the caller's frame", async () => {
    const pool = mysql.createPool({ ...DB, connectionLimit: 1 });
    try {
      await pool.query('SELECT 1'); // the connection is open and free
      let queued = 0;
      pool.on('enqueue', () => queued++);
      const busy = pool.query('SELECT SLEEP(0.3)');
      const errors = await Promise.all([
        failure(queryWaitingForTheConnection(pool)),
        failure(executeWaitingForTheConnection(pool)),
      ]);
      await busy;
      expect(queued).toBe(2);
      for (const [err, name] of [
        [errors[0], 'queryWaitingForTheConnection'],
        [errors[1], 'executeWaitingForTheConnection'],
      ] as const) {
        expect(err.code).toBe('ER_NO_SUCH_TABLE');
        expect(err.stack).toContain(name);
        const frames = callerFrames(err);
        // The caller's frame first (no pool internals above it), then the rest of the caller's
        // stack, then the worker thread's frames, as a Connection's errors read.
        expect(frames[0]).toContain(name);
        expect(frames[0]).toContain(FILE);
        expect(err.stack!.split('\n')[0]).toBe(`Error: ${err.message}`);
        expect(err.stack).toContain('<worker thread>');
      }
    } finally {
      await pool.end();
    }
  });

  it("pool.query opening the pool's first connection: the stack starts at the caller's frame", async () => {
    const pool = mysql.createPool({ ...DB, connectionLimit: 1 });
    try {
      const err = await failure(queryOpeningAConnection(pool));
      expect(err.code).toBe('ER_NO_SUCH_TABLE');
      expect(callerFrames(err)[0]).toContain('queryOpeningAConnection');
    } finally {
      await pool.end();
    }
  });

  it("a connection's, a pool connection's and a free pool's errors: the stack starts at the caller's frame", async () => {
    const conn = await mysql.createConnection(DB);
    const pool = mysql.createPool({ ...DB, connectionLimit: 1 });
    try {
      await pool.query('SELECT 1'); // the connection is open and free: sent at once
      const pooled = await pool.getConnection();
      // Fails when executed, not when prepared: the subquery returns two rows.
      const statement = await conn.prepare('SELECT 1 WHERE ? > (SELECT 1 UNION SELECT 2)');
      const calls: [string, () => Promise<unknown>][] = [
        ['connectionQuery', () => queryThatFails(conn)],
        ['connectionExecute', () => conn.execute('SELECT nope_caller_stack()')],
        ['preparedExecute', () => statement.execute([1])],
        ['poolConnectionQuery', () => queryThatFails(pooled)],
      ];
      for (const [name, call] of calls) {
        // Named, so that the frame says which one it is.
        const named = { [name]: () => call() }[name];
        const err = await failure(named());
        expect(err.stack!.split('\n')[0]).toBe(`Error: ${err.message}`);
        // mysql2/promise's own stack starts there too: none of its frames (or ours) above it.
        const first = callerFrames(err)[0];
        expect(first, err.stack).toContain(FILE);
      }
      pooled.release();
      // A free pool connection: sent at once, no wait.
      const err = await failure(queryThatFails(pool));
      expect(callerFrames(err)[0], err.stack).toContain('queryThatFails');
    } finally {
      await conn.end();
      await pool.end();
    }
  });

  it("cluster.of().query/execute (sent after the wait for a connection): the stack starts at the caller's frame", async () => {
    const cluster = mysql.createPoolCluster();
    cluster.add('NODE1', { ...DB, connectionLimit: 1 });
    try {
      for (const [call, name] of [
        [clusterQueryThatFails, 'clusterQueryThatFails'],
        [clusterExecuteThatFails, 'clusterExecuteThatFails'],
      ] as const) {
        const err = await failure(call(cluster));
        expect(err.code).toBe('ER_NO_SUCH_TABLE');
        expect(err.stack!.split('\n')[0]).toBe(`Error: ${err.message}`);
        expect(callerFrames(err)[0], err.stack).toContain(name);
        expect(err.stack).toContain('<worker thread>');
      }
    } finally {
      await cluster.end();
    }
  });

  it('trace: false captures no stack (createConnection and pools, waiting or not)', async () => {
    const conn = await mysql.createConnection({ ...DB, trace: false });
    const pool = mysql.createPool({ ...DB, connectionLimit: 1, trace: false });
    try {
      const own = await failure(queryThatFails(conn));
      expect(own.code).toBe('ER_NO_SUCH_TABLE');
      expect(own.stack).not.toContain(FILE);
      expect(callerFrames(own)).toEqual([]);
      const opening = await failure(queryOpeningAConnection(pool));
      const busy = pool.query('SELECT SLEEP(0.2)');
      const waiting = await failure(queryWaitingForTheConnection(pool));
      await busy;
      for (const err of [opening, waiting]) {
        expect(err.code).toBe('ER_NO_SUCH_TABLE');
        expect(err.stack).not.toContain(FILE);
      }
      // The default (tracing) still works beside it: its connections have their own workers.
      const traced = await mysql.createConnection(DB);
      const err = await failure(queryThatFails(traced));
      expect(callerFrames(err).join('\n')).toContain('queryThatFails');
      await traced.end();
    } finally {
      await conn.end();
      await pool.end();
    }
  });

  it('NODE_ENV=production: no stacks by default, trace: true turns them on', async () => {
    process.env.NODE_ENV = 'production';
    const plain = await mysql.createConnection(DB);
    const traced = await mysql.createConnection({ ...DB, trace: true });
    const tracedPool = mysql.createPool({ ...DB, connectionLimit: 1, trace: true });
    const plainPool = mysql.createPool({ ...DB, connectionLimit: 1 });
    try {
      expect((await failure(queryThatFails(plain))).stack).not.toContain(FILE);
      expect((await failure(queryOpeningAConnection(plainPool))).stack).not.toContain(FILE);
      expect(callerFrames(await failure(queryThatFails(traced))).join('\n')).toContain(
        'queryThatFails',
      );
      expect(callerFrames(await failure(queryOpeningAConnection(tracedPool)))[0]).toContain(
        'queryOpeningAConnection',
      );
    } finally {
      await Promise.all([plain.end(), traced.end(), tracedPool.end(), plainPool.end()]);
    }
  });
});
