// The ADAPTERS list (kysely's DIALECTS idea): every configuration the suite runs on here.
// `ADAPTERS=sqlite-memory,example npx vitest run` picks some of them.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@unblock/core';
import { selectAdapters, type AdapterDescriptor, type OpenOptions } from '@unblock/conformance';

const root = new URL('../../../', import.meta.url);
const built = (path: string): boolean => existsSync(new URL(path, root));

type CreateClient = (options: never) => Client;

async function load(pkg: string): Promise<CreateClient> {
  const mod = (await import(pkg)) as { createClient?: CreateClient };
  if (typeof mod.createClient !== 'function') throw new Error(`${pkg} has no createClient export`);
  return mod.createClient;
}

/** Available when the package is built and exports createClient; otherwise the reason. */
async function packageReady(pkg: string, dist: string): Promise<true | string> {
  if (!built(dist)) return `${dist} is not built (npx tsc -b ${dist.replace(/\/dist\/.*$/, '')})`;
  try {
    await load(pkg);
    return true;
  } catch (err) {
    return `${pkg} cannot be loaded: ${(err as Error).message}`;
  }
}

function mariadbAnswers(host = '127.0.0.1', port = 3306): Promise<true | string> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (answer: true | string): void => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(2_000, () => done(`MariaDB at ${host}:${port} did not answer within 2 s`));
    socket.once('connect', () => done(true));
    socket.once('error', (err) =>
      done(`MariaDB at ${host}:${port} is unreachable: ${err.message}`),
    );
  });
}

/** A fresh database file per client, removed when the client closes. */
async function fileClient(
  pkg: string,
  options: OpenOptions,
  extra: Record<string, unknown>,
): Promise<Client> {
  const dir = mkdtempSync(join(tmpdir(), 'unblock-conformance-'));
  const client = (await load(pkg))({
    filename: join(dir, 'db.sqlite'),
    ...extra,
    ...options,
  } as never);
  const close = client.close.bind(client);
  let closing: Promise<void> | undefined;
  return Object.assign(client, {
    close: () => (closing ??= close().finally(() => rmSync(dir, { recursive: true, force: true }))),
    [Symbol.asyncDispose]: () =>
      (closing ??= close().finally(() => rmSync(dir, { recursive: true, force: true }))),
  });
}

const sqliteCapabilities = {
  namedParameters: true,
  exactBigIntResults: {
    unsupported:
      'better-sqlite3 returns INTEGERs as numbers unless safeIntegers is on (the default here)',
  },
  strictParameterCount: true,
  serializedWrites: true,
  cancelRunning: true,
  leakReports: true,
  crashRecovery: true,
} as const;

interface SqliteTesting {
  poolOf(client: Client): ReturnType<NonNullable<AdapterDescriptor['leaks']>['pool']>;
  crashWorker(client: Client): Promise<unknown>;
}

// Loaded by open() (always called before the hooks below), so an unbuilt package only makes
// the adapter unavailable instead of failing this file's import.
let sqliteTesting: SqliteTesting | undefined;
async function openSqlite(open: () => Client | Promise<Client>): Promise<Client> {
  sqliteTesting ??= (await import('@unblock/better-sqlite3/testing')) as SqliteTesting;
  return open();
}
const sqliteHooks = {
  crash: (client: Client) => sqliteTesting!.crashWorker(client),
  leaks: { pool: (client: Client) => sqliteTesting!.poolOf(client), cursorKind: 'cursor' },
} satisfies Pick<AdapterDescriptor, 'crash' | 'leaks'>;

export const sqliteFile: AdapterDescriptor = {
  name: 'sqlite-file (@unblock/better-sqlite3, WAL, 2 readers)',
  dialect: 'sqlite',
  capabilities: { ...sqliteCapabilities, concurrentReaders: true },
  available: () => packageReady('@unblock/better-sqlite3', 'packages/better-sqlite3/dist/index.js'),
  // createClient() turns WAL on for a file database with readers.
  open: (options) =>
    openSqlite(() => fileClient('@unblock/better-sqlite3', options, { readers: 2 })),
  ...sqliteHooks,
};

export const sqliteMemory: AdapterDescriptor = {
  name: 'sqlite-memory (@unblock/better-sqlite3, :memory:)',
  dialect: 'sqlite',
  capabilities: {
    ...sqliteCapabilities,
    concurrentReaders: {
      unsupported:
        'an in-memory database is one connection: outside reads wait for the transaction',
    },
  },
  available: () => packageReady('@unblock/better-sqlite3', 'packages/better-sqlite3/dist/index.js'),
  open: (options) =>
    openSqlite(async () =>
      (await load('@unblock/better-sqlite3'))({ filename: ':memory:', ...options } as never),
    ),
  ...sqliteHooks,
};

/** @unblock/mysql2's test hooks, loaded with the first client (the package may not be built). */
interface MysqlTesting {
  corePoolOf(client: Client): import('@unblock/core').Pool;
  crashWorker(client: Client): Promise<unknown>;
}
let mysqlTesting: MysqlTesting | undefined;

export const mysql: AdapterDescriptor = {
  name: 'mysql (@unblock/mysql2, MariaDB at 127.0.0.1:3306)',
  dialect: 'mysql',
  capabilities: {
    namedParameters: true,
    exactBigIntResults: true,
    strictParameterCount: {
      unsupported: 'mysql2 query() formats values client-side and ignores extra ones',
    },
    serializedWrites: { unsupported: 'writers run on separate connections; InnoDB isolates them' },
    concurrentReaders: true,
    cancelRunning: true,
    leakReports: true,
    crashRecovery: true,
  },
  leaks: { pool: (client) => mysqlTesting!.corePoolOf(client), cursorKind: 'iterator' },
  crash: (client) => mysqlTesting!.crashWorker(client),
  async available() {
    const ready = await packageReady('@unblock/mysql2', 'packages/mysql2/dist/index.js');
    return ready === true ? mariadbAnswers() : ready;
  },
  open: async (options) => {
    mysqlTesting ??= (await import('@unblock/mysql2/testing')) as MysqlTesting;
    return (await load('@unblock/mysql2'))({
      host: '127.0.0.1',
      port: 3306,
      user: 'root',
      database: 'test',
      namedPlaceholders: true,
      supportBigNumbers: true,
      connectionLimit: 4,
      ...options,
    } as never);
  },
};

// Imported from its build by path until examples/* is a workspace (then by its package name).
const exampleDist = 'examples/minimal-sqlite-adapter/dist/descriptor.js';
const example: AdapterDescriptor = built(exampleDist)
  ? ((await import(new URL(exampleDist, root).href)) as { descriptor: AdapterDescriptor })
      .descriptor
  : {
      name: 'minimal-sqlite-adapter (example)',
      dialect: 'sqlite',
      capabilities: { ...sqliteCapabilities, concurrentReaders: true },
      available: () => `${exampleDist} is not built (npx tsc -b examples/minimal-sqlite-adapter)`,
      open: () => {
        throw new Error('not built');
      },
    };

export const ALL_ADAPTERS: readonly AdapterDescriptor[] = [
  sqliteFile,
  sqliteMemory,
  mysql,
  example,
];

/** The adapters `process.env.ADAPTERS` selects (all by default); a filter that matches none throws. */
export const ADAPTERS = selectAdapters(ALL_ADAPTERS, process.env.ADAPTERS);

/** The selected adapter whose name starts with `prefix`, as a list (empty when filtered out). */
export const only = (prefix: string): AdapterDescriptor[] =>
  ADAPTERS.filter((a) => a.name.startsWith(prefix));
