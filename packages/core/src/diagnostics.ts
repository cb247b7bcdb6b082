import diagnostics_channel from 'node:diagnostics_channel';

/**
 * The message of every call event.
 *
 * @example
 * ```ts
 * import diagnostics_channel from 'node:diagnostics_channel';
 * diagnostics_channel.subscribe('unblock:call:end', (m) => console.log((m as CallEvent).op));
 * ```
 */
export interface CallEvent {
  pool: string;
  sessionId: number;
  /** The call's id in its session: unique among the session's calls in flight (ids go round after 2^31 - 1). */
  callId: number;
  op: string;
  /** Set on `unblock:call:error`. */
  error?: unknown;
}

/**
 * The `diagnostics_channel` channels core publishes to: `unblock:call:start`,
 * `unblock:call:end` and `unblock:call:error`. Publishing costs nothing without subscribers.
 *
 * @example
 * ```ts
 * channels.error.subscribe((m) => metrics.increment('db.errors'));
 * ```
 */
export const channels = {
  start: diagnostics_channel.channel('unblock:call:start'),
  end: diagnostics_channel.channel('unblock:call:end'),
  error: diagnostics_channel.channel('unblock:call:error'),
};
