// Edges where the drop-in must do what mysql2/promise does: closed connections and statements,
// pool listeners that throw, warnings about ignored options. Scenario by scenario, beside it.
import { spawnSync } from 'node:child_process';
import mysql from '@unblock/mysql2';
import { describe, expect, it } from 'vitest';
import { DB, DRIVERS, dbAvailable, outcome, sameResult } from './helpers.js';

describe.skipIf(!dbAvailable)('closed state, as in mysql2/promise', () => {
  it('a pooled connection used after pool.end() fails with the closed-state error', async () => {
    const outcomes = await sameResult(DRIVERS, async (driver) => {
      const pool = driver.createPool({ ...DB, connectionLimit: 2 });
      const conn = await pool.getConnection();
      await pool.end();
      return [
        await outcome(() => conn.query('SELECT 1')),
        await outcome(() => conn.execute('SELECT 1')),
        await outcome(() => conn.ping()),
      ];
    });
    expect(outcomes[0]).toMatchObject(['rejected', { fatal: true }]);
  });

  it('a checked-out connection used in the same tick as pool.end() fails with the closed-state error', async () => {
    // mysql2's pool ends every connection as end() is called; the drop-in's sessions end only
    // as its workers stop, later.
    const outcomes = await sameResult(DRIVERS, async (driver) => {
      const pool = driver.createPool({ ...DB, connectionLimit: 1 });
      const conn = await pool.getConnection();
      const stmt = await conn.prepare('SELECT ? AS a');
      const ended = pool.end();
      const calls = await Promise.all([
        outcome(() => conn.query('SELECT 1')),
        outcome(() => conn.execute('SELECT 1')),
        outcome(() => conn.ping()),
        outcome(() => conn.prepare('SELECT 1')),
        outcome(() => conn.beginTransaction()),
        outcome(() => conn.changeUser({ database: 'information_schema' })),
        outcome(() => conn.reset()),
        outcome(() => stmt.execute([1])),
      ]);
      await ended;
      // The refused changeUser() left the config alone.
      return [calls, conn.config.database] as const;
    });
    expect(outcomes[0][0]).toMatchObject(['rejected', { fatal: true }]);
    expect(outcomes[1]).toBe(DB.database);
  });

  it('a checked-out connection used in the same tick as cluster.end() fails with the closed-state error', async () => {
    const outcomes = await sameResult(DRIVERS, async (driver) => {
      const cluster = driver.createPoolCluster();
      cluster.add('A', { ...DB, connectionLimit: 1 });
      const conn = await cluster.getConnection('A');
      const ended = cluster.end();
      const calls = await Promise.all([
        outcome(() => conn.query('SELECT 1')),
        outcome(() => conn.execute('SELECT 1')),
      ]);
      await ended;
      return calls;
    });
    expect(outcomes[0]).toMatchObject(['rejected', { fatal: true }]);
  });

  it('a prepared statement executed after close() fails as the server answers it', async () => {
    const outcomes = await sameResult(DRIVERS, async (driver) => {
      const conn = await driver.createConnection(DB);
      const stmt = await conn.prepare('SELECT ? AS a, ? AS b');
      await stmt.close();
      const [how, error] = (await outcome(() => stmt.execute([1, 2]))) as [
        string,
        Record<string, unknown>,
      ];
      // The message names the statement by the number the server gave it, which differs by side.
      const unnumbered = (text: unknown): string => String(text).replace(/\(\d+\)/, '(N)');
      const failed = [
        how,
        { ...error, message: unnumbered(error.message), sqlMessage: unnumbered(error.sqlMessage) },
      ];
      // The connection goes on.
      const [rows] = await conn.query('SELECT 1 AS x');
      await conn.end();
      return [failed, rows];
    });
    expect(outcomes[0]).toMatchObject(['rejected', { code: 'ER_UNKNOWN_STMT_HANDLER' }]);
  });

  it('a prepared statement executed after its connection ended fails with the closed-state error', async () => {
    const failed = await sameResult(DRIVERS, async (driver) => {
      const conn = await driver.createConnection(DB);
      const stmt = await conn.prepare('SELECT ? AS a');
      await conn.end();
      return outcome(() => stmt.execute([1]));
    });
    expect(failed).toMatchObject(['rejected', { fatal: true }]);
  });

  it("the server's error for a closed statement has mysql2's own properties, sql included", async () => {
    const names = await sameResult(DRIVERS, async (driver) => {
      const conn = await driver.createConnection(DB);
      const stmt = await conn.prepare('SELECT ? AS a');
      await stmt.close();
      const error = await stmt.execute([1]).then(
        () => undefined,
        (err: unknown) => err,
      );
      await conn.end();
      return [Object.getOwnPropertyNames(error), 'sql' in Object(error)];
    });
    expect(names).toEqual([expect.arrayContaining(['sql', 'sqlMessage']), true]);
  });

  it('a closed statement on a closed connection fails with the closed-state error first', async () => {
    const failed = await sameResult(DRIVERS, async (driver) => {
      const conn = await driver.createConnection(DB);
      const stmt = await conn.prepare('SELECT ? AS a');
      await stmt.close();
      await conn.end();
      return outcome(() => stmt.execute([1]));
    });
    expect(failed).toMatchObject(['rejected', { fatal: true }]);
  });

  it('the uniform client closes even after its pool was ended', async () => {
    const client = mysql.createClient(DB);
    await client.query('SELECT 1');
    await client.pool.end();
    await expect(client.close()).resolves.toBeUndefined();
  });

  it('a second pool.end() rejects as mysql2/promise does when the pool had connections', async () => {
    const outcomes = await sameResult(DRIVERS, async (driver) => {
      const used = driver.createPool({ ...DB, connectionLimit: 2 });
      await used.query('SELECT 1');
      const unused = driver.createPool({ ...DB, connectionLimit: 2 });
      return [
        await outcome(() => used.end()),
        await outcome(() => used.end()),
        await outcome(() => unused.end()),
        await outcome(() => unused.end()),
      ];
    });
    expect(outcomes[1]).toMatchObject(['rejected', { fatal: true }]);
  });

  it("emits 'end' once on a pooled connection destroyed by its holder", async () => {
    await sameResult(DRIVERS, async (driver) => {
      const pool = driver.createPool({ ...DB, connectionLimit: 2 });
      const conn = await pool.getConnection();
      let ends = 0;
      conn.on('end', () => ends++);
      conn.destroy();
      await new Promise((resolve) => setTimeout(resolve, 50));
      await pool.end();
      return ends;
    });
  });

  it.each(['destroy', 'end'] as const)(
    "every PoolConnection listening to a connection closed by its holder's %s() hears 'end'",
    async (method) => {
      const heard = await sameResult(DRIVERS, async (driver) => {
        const pool = driver.createPool({ ...DB, connectionLimit: 1, gracefulEnd: true });
        const heard: string[] = [];
        let payload: { on(event: 'end', listener: () => void): unknown } | undefined;
        pool.on('acquire', (c) => {
          if (payload !== undefined) return; // the same object at each acquire
          payload = c;
          payload.on('end', () => heard.push('payload'));
        });
        const earlier = await pool.getConnection();
        earlier.on('end', () => heard.push('earlier'));
        earlier.release();
        const holder = await pool.getConnection();
        holder.on('end', () => heard.push('holder'));
        if (method === 'destroy') holder.destroy();
        else await holder.end();
        await new Promise((resolve) => setTimeout(resolve, 100));
        await pool.end();
        // Each once (an 'end' heard twice would show), in any order (the docs say which differs).
        return heard.sort();
      });
      expect(heard).toEqual(['earlier', 'holder', 'payload']);
    },
  );

  it("PoolConnections with listeners hear their connection's 'end' after pool.end() resolves, checked out or released", async () => {
    await sameResult(DRIVERS, async (driver) => {
      const pool = driver.createPool({ ...DB, connectionLimit: 3 });
      const log: string[] = [];
      const held = await pool.getConnection();
      const released = await pool.getConnection();
      released.release();
      const quiet = await pool.getConnection();
      held.on('end', () => log.push('held: end'));
      released.on('end', () => log.push('released: end'));
      const listener = (): number => log.push('removed: end');
      quiet.on('end', listener);
      quiet.off('end', listener);
      await pool.end();
      log.push('pool.end() resolved');
      await new Promise((resolve) => setTimeout(resolve, 100));
      // The sockets close in no set order.
      return [log[0], log.slice(1).sort()];
    });
  });

  it("warns, as mysql2/promise does, when more than 10 PoolConnections listen to one connection's 'end'", async () => {
    const warned = await sameResult(DRIVERS, async (driver) => {
      const pool = driver.createPool({ ...DB, connectionLimit: 1 });
      const warnings: string[] = [];
      const onWarning = (w: Error): number => warnings.push(w.name);
      process.on('warning', onWarning);
      try {
        // Each checkout is a new object that keeps hearing the connection once released.
        for (let i = 0; i < 11; i++) {
          const conn = await pool.getConnection();
          conn.on('end', () => undefined);
          conn.release();
        }
        // One that stops listening is let go: no warning for it.
        const quiet = await pool.getConnection();
        const listener = (): undefined => undefined;
        quiet.on('end', listener);
        quiet.off('end', listener);
        quiet.release();
        await new Promise((resolve) => setImmediate(resolve));
      } finally {
        process.off('warning', onWarning);
        await pool.end();
      }
      return warnings;
    });
    expect(warned).toEqual(['MaxListenersExceededWarning']);
  });

  it("PoolConnections with listeners hear the server closing their connection ('end', 'error'), checked out or released", async () => {
    await sameResult(DRIVERS, async (driver) => {
      const pool = driver.createPool({ ...DB, connectionLimit: 2 });
      const side = await driver.createConnection(DB);
      const log: string[] = [];
      const held = await pool.getConnection();
      const released = await pool.getConnection();
      released.release();
      for (const [name, conn] of [
        ['held', held],
        ['released', released],
      ] as const) {
        conn.on('end', () => log.push(`${name}: end`));
        conn.on('error', (err: Error & { code?: string }) => log.push(`${name}: ${err.code}`));
        await side.query(`KILL ${conn.threadId}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      held.release();
      await side.end();
      await pool.end();
      return log;
    });
  });

  it("emits 'end' once when the connection is ended or destroyed by its owner", async () => {
    await sameResult(DRIVERS, async (driver) => {
      const counts: number[] = [];
      for (const close of ['end', 'destroy'] as const) {
        const conn = await driver.createConnection(DB);
        let ends = 0;
        conn.on('end', () => ends++);
        if (close === 'end') await conn.end();
        else conn.destroy();
        await new Promise((resolve) => setTimeout(resolve, 50));
        counts.push(ends);
      }
      return counts;
    });
  });
});

describe.skipIf(!dbAvailable)('pool listeners that throw', () => {
  it("a throwing 'connection' listener fails the call that opened it, and the pool keeps the connection", async () => {
    const pool = mysql.createPool({ ...DB, connectionLimit: 1 });
    let calls = 0;
    pool.on('connection', () => {
      if (calls++ === 0) throw new Error('boom');
    });
    await expect(pool.query('SELECT 1 AS x')).rejects.toThrow('boom');
    // With one connection allowed, a lost slot would leave this waiting forever.
    const [rows] = await pool.query('SELECT 2 AS y');
    expect(rows).toEqual([{ y: 2 }]);
    await pool.end();
  });

  it("a throwing 'acquire' listener rejects (not throws) and gives the connection back", async () => {
    const pool = mysql.createPool({ ...DB, connectionLimit: 1 });
    await pool.query('SELECT 1');
    let calls = 0;
    pool.on('acquire', () => {
      if (calls++ < 2) throw new Error('acquire failed');
    });
    let query: Promise<unknown> | undefined;
    expect(() => (query = pool.query('SELECT 1'))).not.toThrow();
    await expect(query).rejects.toThrow('acquire failed');
    await expect(pool.getConnection()).rejects.toThrow('acquire failed');
    const conn = await pool.getConnection();
    expect(await conn.query('SELECT 3 AS z').then(([rows]) => rows)).toEqual([{ z: 3 }]);
    conn.release();
    await pool.end();
  });
});

describe.skipIf(!dbAvailable)("mysql2's warnings about ignored options", () => {
  it('are printed as often as mysql2/promise prints them, not once more per connection', () => {
    const warnings = (specifier: string): number => {
      const script = `
        const mysql = (await import('${specifier}')).default;
        const DB = ${JSON.stringify(DB)};
        const pool = mysql.createPool({ ...DB, connectionLimit: 2, bogusOption: 1, timezone: 'nope' });
        await Promise.all([pool.query('SELECT 1'), pool.query('SELECT 2')]);
        await pool.end();
        const conn = await mysql.createConnection({ ...DB, bogusOption: 1 });
        await conn.end();`;
      const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
        cwd: new URL('..', import.meta.url),
        encoding: 'utf8',
      });
      expect(out.status, out.stderr).toBe(0);
      return out.stderr.split('Ignoring invalid').length - 1;
    };
    const expected = warnings('mysql2/promise');
    expect(expected).toBe(3);
    expect(warnings('@unblock/mysql2')).toBe(expected);
  });
});
