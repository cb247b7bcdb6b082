/**
 * A number with as many digits as it deserves: `1.23 M`, `45,678`, `123`, `12.3`, `1.23`.
 *
 * @example
 * ```ts
 * formatNumber(950_123); // '950k'
 * ```
 */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return '–';
  const abs = Math.abs(value);
  if (abs >= 10_000_000) return `${(value / 1e6).toFixed(1)} M`;
  if (abs >= 1_000_000) return `${(value / 1e6).toFixed(2)} M`;
  if (abs >= 10_000) return `${(value / 1e3).toFixed(0)}k`;
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 0.01) return value.toFixed(2);
  return value === 0 ? '0' : value.toExponential(1);
}

/**
 * A ratio as `1.23×` (or `–` when there is none).
 *
 * @example
 * ```ts
 * formatRatio(0.5); // '0.50×'
 * ```
 */
export function formatRatio(value: number): string {
  return Number.isFinite(value) ? `${value >= 100 ? value.toFixed(0) : value.toFixed(2)}×` : '–';
}
