import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

// On Linux each thread has a nice value of its own (setpriority(2) given a thread id), so a
// worker thread can give way to the event loop's thread when both want a core: measured here on
// two cores, twenty 10k-row all() calls with their reader at nice 10 saw the caller's thread
// preempted 15-22 times instead of 28-66 (see the core README for what that did to the delay). /proc/thread-self names the calling thread; other systems have no
// per-thread nice value, and nothing is done there.

/**
 * Lowers the calling thread's scheduling priority to the nice value `nice` (-20..19); never
 * raises it. Does nothing where the system has no per-thread priority, or refuses.
 *
 * @example
 * ```ts
 * lowerThreadPriority(10); // in a worker thread, at start-up
 * ```
 */
export function lowerThreadPriority(nice: number): void {
  if (process.platform !== 'linux') return;
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    if (getPriority(tid) < nice) setPriority(tid, nice);
  } catch {
    // No /proc, or the system refused: the thread keeps its priority, which only costs speed.
  }
}
