import { MessageChannel } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { onMessagesPaced } from '../src/paced-listener.js';

/** Holds the thread for `ms`, as decoding a large chunk of rows does. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('onMessagesPaced', () => {
  it("stops a turn's messages once they took 2 ms, counting the first message's own time", async () => {
    const { port1, port2 } = new MessageChannel();
    const perTurn: number[] = [];
    let inTurn = 0;
    let received = 0;
    const all = new Promise<void>((resolve) => {
      onMessagesPaced(port1, () => {
        busy(1.5);
        if (inTurn++ === 0) {
          setImmediate(() => {
            perTurn.push(inTurn);
            inTurn = 0;
          });
        }
        if (++received === 12) resolve();
      });
    });
    for (let i = 0; i < 12; i++) port2.postMessage(i);
    await all;
    port1.close();
    // 1.5 ms each: the second ends the turn at 3 ms. Counted from the end of the first, a
    // third ran too (4.5 ms without a timer or I/O callback).
    expect(Math.max(...perTurn)).toBeLessThanOrEqual(2);
  });
});
