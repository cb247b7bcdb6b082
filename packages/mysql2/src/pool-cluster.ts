import { EventEmitter } from 'node:events';
import { withCallerStack } from '@unblock/core';
import { captureCaller } from './caller-stack.js';
import { createPool, type Pool } from './pool.js';
import type { PoolConnection } from './pool-connection.js';
import { assertNoCallback } from './promise-only.js';
import type { FieldPacket, PoolOptions, QueryOptions, QueryResult } from './types.js';

/**
 * How a namespace picks among the nodes its pattern matches: `'RR'` (round robin), `'RANDOM'`,
 * or `'ORDER'` (the first online node).
 *
 * @example
 * ```ts
 * const selector: PoolClusterSelector = 'RANDOM';
 * const [rows] = await cluster.of('REPLICA*', selector).query('SELECT 1 AS x');
 * ```
 */
export type PoolClusterSelector = 'RR' | 'RANDOM' | 'ORDER';

/**
 * mysql2's PoolClusterOptions.
 *
 * @example
 * ```ts
 * const options: PoolClusterOptions = { removeNodeErrorCount: 3, restoreNodeTimeout: 10_000 };
 * ```
 */
export interface PoolClusterOptions {
  /** Try another node when getting a connection fails. Default: true. */
  canRetry?: boolean;
  /** Failures after which a node is taken out (offline, or removed). Default: 5. */
  removeNodeErrorCount?: number;
  /** How long a failing node stays offline (ms); 0 removes it instead. Default: 0. */
  restoreNodeTimeout?: number;
  /** Default: 'RR'. */
  defaultSelector?: PoolClusterSelector;
}

interface ClusterNode {
  id: string;
  errorCount: number;
  pool: Pool;
  /** performance.now() until which the node is offline (0: online). */
  offlineUntil: number;
}

function clusterError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

/** mysql2's pattern: `*` matches anything, the rest literally; or a RegExp. */
function patternRegExp(pattern: string | RegExp): RegExp {
  if (pattern instanceof RegExp) return pattern;
  const source = pattern.replace(/([.+?^=!:${}()|[\]/\\])/g, '\\$1').replace(/\*/g, '.*');
  return new RegExp(`^${source}$`);
}

const SELECTORS: Record<PoolClusterSelector, () => (ids: string[]) => string> = {
  RR() {
    let index = 0;
    return (ids) => ids[index++ % ids.length];
  },
  RANDOM: () => (ids) => ids[Math.floor(Math.random() * ids.length)],
  ORDER: () => (ids) => ids[0],
};

/**
 * The nodes of a cluster that match a pattern, as `cluster.of(pattern, selector)` returns them:
 * mysql2's PromisePoolNamespace.
 *
 * @example
 * ```ts
 * const [rows] = await cluster.of('REPLICA*', 'RANDOM').query('SELECT 1 AS x');
 * ```
 */
export class PoolNamespace {
  readonly #select: (ids: string[]) => string;

  /** Made by `cluster.of()`, not by the caller. */
  constructor(
    private readonly cluster: PoolCluster,
    private readonly pattern: string | RegExp,
    selector: PoolClusterSelector,
  ) {
    this.#select = SELECTORS[selector]();
  }

  /**
   * A connection from one of the nodes (retrying on another node when that fails, with
   * `canRetry`).
   *
   * @example
   * ```ts
   * const conn = await cluster.of('*').getConnection();
   * conn.release();
   * ```
   */
  async getConnection(): Promise<PoolConnection> {
    for (;;) {
      const ids = this.cluster.findNodeIds(this.pattern, false);
      if (ids.length === 0) {
        throw this.cluster.findNodeIds(this.pattern, true).length > 0
          ? clusterError('Pool does Not have online node.', 'POOL_NONEONLINE')
          : clusterError('Pool does Not exist.', 'POOL_NOEXIST');
      }
      const id = ids.length === 1 ? ids[0] : this.#select(ids);
      try {
        return await this.cluster.connectionOf(id);
      } catch (err) {
        if (!this.cluster.canRetry || this.cluster.findNodeIds(this.pattern, false).length === 0) {
          throw err;
        }
        this.cluster.emit('warn', err);
      }
    }
  }

  /**
   * Runs one statement on a connection of one of the nodes.
   *
   * @example
   * ```ts
   * const [rows] = await cluster.of('*').query('SELECT ? AS x', [1]);
   * ```
   */
  query<T extends QueryResult = QueryResult>(
    sql: string | QueryOptions,
    values?: unknown,
  ): Promise<[T, FieldPacket[]]> {
    assertNoCallback(values);
    const caller = this.#traced() ? captureCaller(PoolNamespace.prototype.query) : undefined;
    return this.#run((conn) => conn.query<T>(sql, values), caller);
  }

  /**
   * Runs one prepared statement on a connection of one of the nodes.
   *
   * @example
   * ```ts
   * const [rows] = await cluster.of('*').execute('SELECT ? AS x', [1]);
   * ```
   */
  execute<T extends QueryResult = QueryResult>(
    sql: string | QueryOptions,
    values?: unknown,
  ): Promise<[T, FieldPacket[]]> {
    assertNoCallback(values);
    const caller = this.#traced() ? captureCaller(PoolNamespace.prototype.execute) : undefined;
    return this.#run((conn) => conn.execute<T>(sql, values), caller);
  }

  /**
   * mysql2's namespace `trace`: whether a node it matches (offline ones included) captures the
   * caller's stack, or it matches none.
   */
  #traced(): boolean {
    const ids = this.cluster.findNodeIds(this.pattern, true);
    return ids.length === 0 || ids.some((id) => this.cluster.nodePool(id).captureStacks);
  }

  /**
   * Runs `statement` on a connection of one of the nodes. The statement is sent after the wait
   * for a connection, where the stack no longer holds the caller's frames: an error gets those
   * captured at the call (`caller`), as mysql2/promise's namespace gives them.
   */
  async #run<R>(
    statement: (conn: PoolConnection) => Promise<R>,
    caller: Error | undefined,
  ): Promise<R> {
    try {
      const conn = await this.getConnection();
      try {
        return await statement(conn);
      } finally {
        conn.release();
      }
    } catch (err) {
      throw caller === undefined ? err : withCallerStack(err, caller.stack);
    }
  }
}

/**
 * mysql2/promise's PoolCluster: named pools ("nodes"), reached by pattern, with failing nodes
 * taken offline or removed. Each node is an @unblock/mysql2 pool (its connections in worker
 * threads). Events: `warn` (a failure that was retried), `offline`, `online`, `remove`.
 *
 * @example
 * ```ts
 * import mysql from '@unblock/mysql2';
 * const cluster = mysql.createPoolCluster();
 * cluster.add('PRIMARY', { host: '127.0.0.1', user: 'root', database: 'test' });
 * const [rows] = await cluster.of('PRIMARY').query('SELECT 1 AS x');
 * await cluster.end();
 * ```
 */
export class PoolCluster extends EventEmitter {
  /** @internal */
  readonly canRetry: boolean;
  readonly #removeNodeErrorCount: number;
  readonly #restoreNodeTimeout: number;
  readonly #defaultSelector: PoolClusterSelector;
  readonly #nodes = new Map<string, ClusterNode>();
  readonly #namespaces = new Map<string, PoolNamespace>();
  #lastId = 0;
  #ending: Promise<void> | undefined;

  /** Use {@link createPoolCluster}. */
  constructor(options: PoolClusterOptions = {}) {
    super();
    // mysql2's test: only a canRetry left undefined retries by default (`null` does not).
    this.canRetry = options.canRetry === undefined ? true : Boolean(options.canRetry);
    this.#removeNodeErrorCount = options.removeNodeErrorCount || 5;
    this.#restoreNodeTimeout = options.restoreNodeTimeout || 0;
    // As in mysql2, checked (and upper-cased) by `of()`: `'order'` works, `'XYZ'` throws there.
    this.#defaultSelector = options.defaultSelector || 'RR';
  }

  /**
   * Adds a node (an id already present is ignored, as in mysql2); without an id it is named
   * `CLUSTER::<n>`.
   *
   * @example
   * ```ts
   * cluster.add('REPLICA1', { host: 'replica1', user: 'app' });
   * ```
   */
  add(id: string | PoolOptions, config?: PoolOptions | string): void {
    if (typeof id === 'object') {
      config = id;
      id = `CLUSTER::${++this.#lastId}`;
    }
    if (this.#nodes.has(id)) return;
    // As mysql2 does, the node's pool is built from what was given: none throws mysql2's TypeError.
    const pool = createPool(config as PoolOptions | string);
    this.#nodes.set(id, { id, errorCount: 0, pool, offlineUntil: 0 });
  }

  /**
   * Removes the nodes that match `pattern` and ends their pools.
   *
   * @example
   * ```ts
   * cluster.remove('REPLICA*');
   * ```
   */
  remove(pattern: string | RegExp): void {
    for (const id of this.findNodeIds(pattern, true)) this.#removeNode(this.#nodes.get(id)!);
  }

  /**
   * The nodes that match `pattern` (default `*`), picked by `selector` (default: the cluster's).
   * An unknown selector throws mysql2's TypeError.
   *
   * @example
   * ```ts
   * const replicas = cluster.of('REPLICA*', 'RANDOM');
   * ```
   */
  of(pattern?: string | RegExp, selector?: PoolClusterSelector): PoolNamespace {
    pattern ||= '*';
    const chosen = (selector || this.#defaultSelector).toUpperCase() as PoolClusterSelector;
    // mysql2's own TypeError, at once: it calls the selector's factory in `of()`.
    if (!Object.hasOwn(SELECTORS, chosen))
      throw new TypeError('makeSelector[selector] is not a function');
    const key = `${String(pattern)}${chosen}`;
    let namespace = this.#namespaces.get(key);
    if (namespace === undefined) {
      namespace = new PoolNamespace(this, pattern, chosen);
      this.#namespaces.set(key, namespace);
    }
    return namespace;
  }

  /**
   * A connection from the nodes that match `pattern`.
   *
   * @example
   * ```ts
   * const conn = await cluster.getConnection('REPLICA*', 'ORDER');
   * conn.release();
   * ```
   */
  getConnection(
    pattern?: string | RegExp,
    selector?: PoolClusterSelector,
  ): Promise<PoolConnection> {
    let namespace: PoolNamespace;
    try {
      namespace = this.of(pattern, selector);
    } catch (err) {
      // mysql2/promise calls `of()` inside its promise: an unknown selector rejects.
      return Promise.reject(err as Error);
    }
    return namespace.getConnection();
  }

  /**
   * Runs one statement on any node (`of('*')`).
   *
   * @example
   * ```ts
   * const [rows] = await cluster.query('SELECT 1 AS x');
   * ```
   */
  query<T extends QueryResult = QueryResult>(
    sql: string | QueryOptions,
    values?: unknown,
  ): Promise<[T, FieldPacket[]]> {
    return this.of().query<T>(sql, values);
  }

  /**
   * Runs one prepared statement on any node (`of('*')`).
   *
   * @example
   * ```ts
   * const [rows] = await cluster.execute('SELECT ? AS x', [1]);
   * ```
   */
  execute<T extends QueryResult = QueryResult>(
    sql: string | QueryOptions,
    values?: unknown,
  ): Promise<[T, FieldPacket[]]> {
    return this.of().execute<T>(sql, values);
  }

  /**
   * Ends the pool of every node. Idempotent.
   *
   * @example
   * ```ts
   * await cluster.end();
   * ```
   */
  end(): Promise<void> {
    this.#ending ??= Promise.all([...this.#nodes.values()].map((node) => node.pool.end())).then(
      () => undefined,
    );
    return this.#ending;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.end();
  }

  /** @internal The ids of the nodes matching `pattern`, in the order they were added. */
  findNodeIds(pattern: string | RegExp, includeOffline: boolean): string[] {
    const expression = patternRegExp(pattern);
    const now = performance.now();
    const ids: string[] = [];
    for (const [id, node] of this.#nodes) {
      // String#match, as mysql2's: a global RegExp's test() would start each id where the
      // last match left lastIndex, and miss nodes. (A number given as an id has no match():
      // mysql2's TypeError, `id.match is not a function`, from then on.)
      if (id.match(expression) === null) continue;
      if (includeOffline || node.offlineUntil <= now) ids.push(id);
    }
    return ids;
  }

  /** @internal The pool of node `id`. */
  nodePool(id: string): Pool {
    return this.#nodes.get(id)!.pool;
  }

  /** @internal A connection of node `id`, counting its failures as mysql2 does. */
  async connectionOf(id: string): Promise<PoolConnection> {
    const node = this.#nodes.get(id)!;
    let conn: PoolConnection;
    try {
      conn = await node.pool.getConnection();
    } catch (err) {
      this.#failed(node);
      throw err;
    }
    node.errorCount = Math.max(0, Math.min(node.errorCount, this.#removeNodeErrorCount) - 1);
    if (node.offlineUntil !== 0) {
      node.offlineUntil = 0;
      this.emit('online', node.id);
    }
    return conn;
  }

  #failed(node: ClusterNode): void {
    if (++node.errorCount < this.#removeNodeErrorCount) return;
    if (this.#restoreNodeTimeout > 0) {
      node.offlineUntil = performance.now() + this.#restoreNodeTimeout;
      this.emit('offline', node.id);
      return;
    }
    this.#removeNode(node);
    this.emit('remove', node.id);
  }

  #removeNode(node: ClusterNode): void {
    if (!this.#nodes.delete(node.id)) return;
    // Nobody can await this end(). After cluster.end() it is the node pool's second one, which
    // rejects when the pool had connections, as mysql2's pool does (its connections refuse to end
    // twice): mysql2 throws that error where no caller can catch it, from getConnection() or a
    // query of an ended cluster, and the process ends. The node is gone either way; the error
    // is dropped.
    void node.pool.end().catch(() => undefined);
  }
}

/**
 * Creates a pool cluster, as mysql2/promise's `createPoolCluster`.
 *
 * @example
 * ```ts
 * import { createPoolCluster } from '@unblock/mysql2';
 * const cluster = createPoolCluster({ defaultSelector: 'ORDER' });
 * ```
 */
export function createPoolCluster(options?: PoolClusterOptions): PoolCluster {
  return new PoolCluster(options);
}
