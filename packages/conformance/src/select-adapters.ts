import type { AdapterDescriptor } from './descriptor.js';

/**
 * Keeps the adapters named in `filter` (comma-separated, matched case-insensitively against
 * each name, a part of a name is enough), or all of them when `filter` is empty. A filter that
 * matches nothing throws, so a typo cannot turn into a run that tests nothing.
 *
 * @example
 * ```ts
 * const ADAPTERS = selectAdapters([sqliteFile, sqliteMemory, mysql], process.env.ADAPTERS);
 * ```
 */
export function selectAdapters<T extends Pick<AdapterDescriptor, 'name'>>(
  adapters: readonly T[],
  filter: string | undefined,
): T[] {
  const wanted = (filter ?? '')
    .split(',')
    .map((w) => w.trim().toLowerCase())
    .filter(Boolean);
  if (wanted.length === 0) return [...adapters];
  const picked = adapters.filter((a) => wanted.some((w) => a.name.toLowerCase().includes(w)));
  if (picked.length === 0) {
    throw new Error(
      `ADAPTERS=${filter} matches none of: ${adapters.map((a) => a.name).join(', ')}`,
    );
  }
  return picked;
}
