/**
 * Live updates for GraphQL subscriptions (served over server-sent events by Yoga): `watch` turns "read
 * the current state" into an async stream that emits each time the state changes.
 *
 * It polls (every `intervalMs`, default 500 ms), because the state it watches is written by pipeline
 * workers that publish nothing; a producer that can say "this changed" passes a `wake` function (see
 * LiveHub in ./live-hub.ts) so the next read happens at once instead of at the next tick. Either way the
 * reader decides what the state is, so a missed or duplicated nudge costs nothing.
 *
 * The stream ends when the state becomes final (`isFinal`), disappears (`read` gives undefined), the
 * signal aborts (client gone), `maxDurationMs` passes, or the consumer stops iterating (Yoga calls
 * `return()` when the client disconnects); every timer is cleared on the way out.
 */

export interface WatchOptions<T> {
  /** The current state; undefined when it no longer exists (the stream ends). */
  read: () => Promise<T | undefined>;
  intervalMs?: number;
  /** Aborted when the client goes away. */
  signal?: AbortSignal;
  /** Equality of successive states; default: JSON text. */
  key?: (value: T) => string;
  /** After emitting a final state the stream ends. */
  isFinal?: (value: T) => boolean;
  /**
   * Waits before the next read: resolves after `ms`, or earlier when the producer signals a change or
   * `signal` aborts. Default: a plain timer.
   */
  wake?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Longest a stream lives; clients re-subscribe. Default one hour. */
  maxDurationMs?: number;
  now?: () => number;
}

export const DEFAULT_WATCH_INTERVAL_MS = 500;
export const DEFAULT_WATCH_MAX_MS = 60 * 60_000;

/** Resolves after `ms`, or at once when `signal` aborts (never rejects). */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

export async function* watch<T>(opts: WatchOptions<T>): AsyncGenerator<T, void, undefined> {
  const interval = opts.intervalMs ?? DEFAULT_WATCH_INTERVAL_MS;
  const key = opts.key ?? ((v: T) => JSON.stringify(v));
  const wake = opts.wake ?? sleep;
  const now = opts.now ?? Date.now;
  const deadline = now() + (opts.maxDurationMs ?? DEFAULT_WATCH_MAX_MS);
  // Our own controller, so the pending wait is cut short both when the client's signal aborts and when the
  // consumer calls return() (the finally block below).
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  if (opts.signal?.aborted) stop.abort();
  let last: string | undefined;
  try {
    while (!stop.signal.aborted) {
      const value = await opts.read();
      if (value === undefined || stop.signal.aborted) return;
      const k = key(value);
      if (k !== last) {
        last = k;
        yield value;
      }
      if (opts.isFinal?.(value) || now() >= deadline) return;
      await wake(interval, stop.signal);
    }
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
    stop.abort();
  }
}
