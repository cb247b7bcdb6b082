/**
 * Resolves with why `specifier` cannot be imported here (not installed, not built), or
 * undefined when it can.
 *
 * @example
 * ```ts
 * const why = await whyNotImportable('@unblock/mysql2');
 * if (why) console.log(`skipped: ${why}`);
 * ```
 */
export async function whyNotImportable(specifier: string): Promise<string | undefined> {
  try {
    await import(specifier);
    return undefined;
  } catch (err) {
    const { code, message } = err as { code?: string; message?: string };
    return `cannot import ${specifier} (${code ?? 'error'}: ${(message ?? String(err)).split('\n')[0]})`;
  }
}
