/**
 * The value of an optional on/off argument, checked as the driver checks it: no argument at all
 * means true, and anything given (an explicit `undefined` too) must be a boolean.
 */
export function toggleArgument(args: readonly unknown[]): boolean {
  if (args.length === 0) return true;
  const [toggle] = args;
  if (typeof toggle !== 'boolean') throw new TypeError('Expected first argument to be a boolean');
  return toggle;
}
