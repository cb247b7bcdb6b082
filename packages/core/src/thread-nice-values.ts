import { readdirSync, readFileSync } from 'node:fs';

/**
 * For test authors: the nice value of each thread of this process, by the system's thread id
 * (Linux, where each thread has its own; an empty map elsewhere). A pool's worker threads run
 * `workerNice` below the thread that made it.
 *
 * @example
 * ```ts
 * import { getPriority } from 'node:os';
 * import { threadNiceValues } from '@unblock/core/testing';
 * const lowered = [...threadNiceValues().values()].filter((nice) => nice === getPriority() + 5);
 * ```
 */
export function threadNiceValues(): Map<number, number> {
  const values = new Map<number, number>();
  if (process.platform !== 'linux') return values;
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      // The fields after the command name (which may hold spaces): the nice value is the 17th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      values.set(Number(tid), Number(fields[16]));
    } catch {
      // The thread ended meanwhile.
    }
  }
  return values;
}
