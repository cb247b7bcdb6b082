/** Edits (insert, delete, replace one character) that turn `a` into `b`. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const replace = previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1);
      row.push(Math.min(previous[j] + 1, row[j - 1] + 1, replace));
    }
    previous = row;
  }
  return previous[b.length];
}

/**
 * The name among `names` that `name` most likely misspells (two edits at most, case aside), for
 * a "did you mean" hint; undefined when none is that close.
 */
function closestName(name: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of names) {
    const distance = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

/**
 * Throws a TypeError for the first own key of `options` that is not among `names` (a misspelled
 * option would otherwise be ignored, silently), naming the option it most likely misspells.
 * `kind` says what the names are: `options.thread is not a pool option; did you mean threads?`.
 *
 * @example
 * ```ts
 * assertKnownKeys(options, ['signal', 'timeout'], 'call option');
 * ```
 */
export function assertKnownKeys(options: object, names: readonly string[], kind: string): void {
  for (const key of Object.keys(options)) {
    if (names.includes(key)) continue;
    const hint = closestName(key, names);
    throw new TypeError(
      `options.${key} is not a ${kind}${hint === undefined ? '' : `; did you mean ${hint}?`}`,
    );
  }
}
