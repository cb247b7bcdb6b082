// A small example until the SQLite demo lands: gzip a few megabytes with zlib's blocking
// gzipSync, first on the main thread, then offloaded, while a 1 ms timer measures how late
// the event loop answers.
import { gzipSync } from 'node:zlib';
import { offload } from '@unblock/core';

const data = Buffer.alloc(8 * 1024 * 1024, 'unblock ');

async function measure(label: string, work: () => Promise<unknown>): Promise<void> {
  let last = performance.now();
  let worstGap = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    worstGap = Math.max(worstGap, now - last);
    last = now;
  }, 1);
  await new Promise((resolve) => setTimeout(resolve, 5));
  const start = performance.now();
  await work();
  const ms = performance.now() - start;
  await new Promise((resolve) => setTimeout(resolve, 5));
  clearInterval(timer);
  console.log(
    `${label.padEnd(28)} ${ms.toFixed(1).padStart(7)} ms   longest gap between 1 ms timer ticks: ${worstGap.toFixed(1)} ms`,
  );
}

const zlib = offload<typeof import('node:zlib')>('node:zlib', { threads: 2 });
await zlib.gzipSync(Buffer.from('warm up'));
await measure('gzipSync on the main thread', async () => {
  for (let i = 0; i < 4; i++) gzipSync(data);
});
await measure('gzipSync offloaded', () => Promise.all([0, 1, 2, 3].map(() => zlib.gzipSync(data))));
await zlib[Symbol.asyncDispose]();
