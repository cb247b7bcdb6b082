// The module piscina loads in every worker thread. It loads the adapter's driver, tells the pool
// where to reach this worker (piscina itself cannot route a task to a chosen worker), and opens
// sessions pinned to this worker. Stateless calls (`Pool.run`) go through a session too: piscina
// runs no task here, so this module exports no task handler.
import { MessageChannel, parentPort, threadId, workerData } from 'node:worker_threads';
import { WorkerInitError } from '../errors.js';
import type { HostData, OpenSessionMessage, WorkerHello } from '../protocol.js';
import { PortMux } from '../port-mux.js';
// Registers the codec that unpacks a RowBatch argument.
import '../row-batch.js';
import { decodeValue, encodeValue } from '../value-codec.js';
import type { Driver } from './driver.js';
import { argsDecodeContext } from './invoke.js';
import { SessionHost } from './session-host.js';
import { lowerThreadPriority } from './thread-priority.js';

const data = workerData as HostData;
if (data.nice !== undefined) lowerThreadPriority(data.nice);

const driver = await loadDriver(data.driver);
const sessions = new Map<number, SessionHost>();

function encodeErr(err: unknown): unknown {
  return encodeValue(err instanceof Error ? err : new Error(String(err)), {}, 'error');
}

async function loadDriver(specifier: string): Promise<Driver<unknown, unknown>> {
  try {
    const mod = (await import(specifier)) as { default?: Driver<unknown, unknown> };
    if (typeof mod.default?.open !== 'function' || typeof mod.default.operations !== 'object') {
      throw new TypeError(`${specifier} has no default export made with defineDriver()`);
    }
    return mod.default;
  } catch (err) {
    // The pool reports this on the first session; the worker stays up to say so.
    return {
      open() {
        throw new WorkerInitError(
          `Cannot load the driver ${specifier}: ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      },
      operations: {},
    };
  }
}

/** The port the sessions of a `multiplexSessions` pool share: answers go out once per turn. */
let mux: PortMux | undefined;

async function openSession(message: OpenSessionMessage): Promise<void> {
  const { sessionId } = message;
  if (message.muxPort !== undefined) mux = new PortMux(message.muxPort, setImmediate);
  const port = message.port ?? mux!.open(sessionId);
  let connection: unknown;
  // Notices of a connection still opening wait for its session.
  const opened: { host?: SessionHost } = {};
  const early: [string, unknown][] = [];
  const notify = (event: string, data?: unknown): void => {
    if (opened.host === undefined) early.push([event, data]);
    else opened.host.notify(event, data);
  };
  try {
    connection = await driver.open(decodeValue(message.options, argsDecodeContext), { notify });
  } catch (err) {
    port.postMessage({ k: 'openFailed', error: encodeErr(err) });
    port.close();
    return;
  }
  const state = new Int32Array(message.state);
  const host = (opened.host = new SessionHost(
    driver,
    connection,
    port,
    state,
    sessionId,
    () => sessions.delete(sessionId),
    () => sessions.size === 1,
  ));
  sessions.set(sessionId, host);
  let info: unknown;
  let interruptToken: unknown;
  try {
    info = encodeValue(driver.info?.(connection), {}, 'info');
    interruptToken = driver.interruptToken?.(connection);
  } catch (err) {
    port.postMessage({ k: 'openFailed', error: encodeErr(err) });
    return;
  }
  port.postMessage({
    k: 'opened',
    info,
    interruptToken,
    threadId,
    hasCancel: driver.cancel !== undefined,
  });
  for (const [event, data] of early) host.notify(event, data);
}

const inbox = new MessageChannel();
inbox.port1.on('message', (message: OpenSessionMessage) => void openSession(message));
// Piscina re-emits any message that is not its own as a 'message' event of the pool.
parentPort!.postMessage(
  { unblockHello: data.poolKey, threadId, inbox: inbox.port2 } satisfies WorkerHello,
  [inbox.port2],
);
