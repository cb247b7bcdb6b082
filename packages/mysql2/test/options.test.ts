// Options are checked as the pool (or client, or cluster node) is made, synchronously, with core's
// rules and messages: a TypeError for a wrong type, a RangeError for a value out of range. The core
// pool behind starts only at the first call, which would otherwise be the first to hear of them.
import mysql, { createClient, createConnection, createPool } from '@unblock/mysql2';
import { validatePoolSettings } from '@unblock/core';
import { describe, expect, it } from 'vitest';
import { DB, printed } from './helpers.js';

/** Each bad option, and the error createPool() must throw for it. */
const BAD: [Record<string, unknown>, Error][] = [
  [
    { leakDetectionThreshold: 'x' },
    new TypeError('options.leakDetectionThreshold must be an integer'),
  ],
  [
    { leakDetectionThreshold: -1 },
    new RangeError('options.leakDetectionThreshold must be at least 0'),
  ],
  [{ workerNice: 99 }, new RangeError('options.workerNice must be at most 19')],
  [{ workerNice: 1.5 }, new TypeError('options.workerNice must be an integer')],
  [{ closeTimeout: -5 }, new RangeError('options.closeTimeout must be at least 0')],
  [{ closeTimeout: 2 ** 31 }, new RangeError('options.closeTimeout must be at most 2147483647')],
  [{ workers: 'x' }, new TypeError('options.workers must be an integer')],
  [{ workers: 1.5 }, new TypeError('options.workers must be an integer')],
  [{ workers: 0 }, new RangeError('options.workers must be at least 1')],
  [{ workers: 257 }, new RangeError('options.workers must be at most 256')],
];

const MAX_QUEUE_REFUSED =
  'The option "maxQueue" is one of createClient(), not of a mysql2 pool or connection: a pool limits the calls waiting for a connection with queueLimit';

describe('options checked when the pool is made', () => {
  it.each(BAD)(
    'createPool(%o) throws at once, with the TypeError or RangeError of core',
    (bad, error) => {
      expect(() => createPool({ ...DB, ...bad })).toThrow(error);
      // The class too: toThrow(error) compares messages only.
      expect(() => createPool({ ...DB, ...bad })).toThrow(error.constructor as typeof Error);
    },
  );

  it.each(BAD)('cluster.add() and createClient() throw as createPool() does: %o', (bad, error) => {
    const cluster = mysql.createPoolCluster();
    expect(() => cluster.add('node', { ...DB, ...bad })).toThrow(error);
    expect(() => createClient({ ...DB, ...bad })).toThrow(error);
    expect(() => createClient({ ...DB, ...bad })).toThrow(error.constructor as typeof Error);
  });

  it("checks createClient()'s own maxQueue and closeTimeout by the same rules", () => {
    const client = (extra: Record<string, unknown>) => () => createClient({ ...DB, ...extra });
    expect(client({ maxQueue: 'x' })).toThrow(new TypeError('options.maxQueue must be an integer'));
    expect(client({ maxQueue: 'x' })).toThrow(TypeError);
    expect(client({ maxQueue: 1.5 })).toThrow(TypeError);
    expect(client({ maxQueue: 0 })).toThrow(new RangeError('options.maxQueue must be at least 1'));
    expect(client({ maxQueue: 0 })).toThrow(RangeError);
    expect(client({ closeTimeout: 'x' })).toThrow(TypeError);
    expect(client({ closeTimeout: -1 })).toThrow(RangeError);
  });

  it('refuses maxQueue on a pool or a connection, which mysql2 would ignore, naming queueLimit', () => {
    expect(() => createPool({ ...DB, maxQueue: 5 } as never)).toThrow(
      new TypeError(MAX_QUEUE_REFUSED),
    );
    expect(() => createPool({ ...DB, maxQueue: 5 } as never)).toThrow(TypeError);
    expect(() => mysql.createPoolCluster().add({ ...DB, maxQueue: 5 } as never)).toThrow(
      MAX_QUEUE_REFUSED,
    );
    // Thrown, not a rejection: as mysql2/promise, createConnection() builds its config first.
    expect(() => createConnection({ ...DB, maxQueue: 5 } as never)).toThrow(MAX_QUEUE_REFUSED);
    expect(() => createPool(`mysql://root@127.0.0.1/test?maxQueue=5`)).toThrow(MAX_QUEUE_REFUSED);
    // createClient() keeps it for itself: its pool does not see it.
    const client = createClient({ ...DB, maxQueue: 5 });
    return client.close();
  });

  it("core's validatePoolSettings names an adapter's own option, and skips what is undefined", () => {
    expect(() => validatePoolSettings({ threads: 'x' }, { threads: 'workers' })).toThrow(
      new TypeError('options.workers must be an integer'),
    );
    expect(() => validatePoolSettings({ threads: 0 })).toThrow(
      new RangeError('options.threads must be at least 1'),
    );
    expect(() =>
      validatePoolSettings({ resourceLimits: { stackSizeMb: -1 } }, { resourceLimits: 'limits' }),
    ).toThrow(new RangeError('options.limits.stackSizeMb must be 0 or more, finite'));
    expect(() => validatePoolSettings({ threads: undefined, closeTimeout: 0 })).not.toThrow();
  });

  it("createClient()'s maxQueue does not reach mysql2, which would warn of an option it does not know", async () => {
    const warnings = await printed(async () => {
      const client = createClient({ ...DB, connectionLimit: 1, maxQueue: 5 });
      await client.close();
    });
    expect(warnings).toEqual([]);
  });
});
