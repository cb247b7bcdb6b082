/**
 * After a port refused to send `items` together (structured clone threw on one of them), sends
 * each alone with `send` (which throws when the port refuses that one too), and hands the ones
 * it still refuses to `refuse`, in order. A single item is not tried again. So only the message
 * that cannot be sent fails, not every one sent with it.
 *
 * @example
 * ```ts
 * sendApart(calls, err, (call) => port.postMessage([call]), (call, error) => reject(call, error));
 * ```
 */
export function sendApart<T>(
  items: readonly T[],
  batchError: unknown,
  send: (item: T) => void,
  refuse: (item: T, error: unknown) => void,
): void {
  for (const item of items) {
    let error = batchError;
    if (items.length > 1) {
      try {
        send(item);
        continue;
      } catch (err) {
        error = err;
      }
    }
    refuse(item, error);
  }
}
