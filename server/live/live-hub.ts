/**
 * Change notifications over Redis pub/sub, for `watch` (./watch.ts). A producer that knows something
 * changed calls `publish(topic)`; every web process watching that topic reads again at once instead of
 * waiting for its next poll. Notifications carry no data (readers always read the state itself), so a
 * lost one only delays an update by one poll interval.
 *
 * One subscriber connection per hub, opened on first use; a channel is subscribed while at least one
 * waiter needs it. Topics are names like `upload:<id>` or `lens:<id>`, under the installation's prefix.
 *
 *   const hub = new LiveHub(redis, prefix);
 *   watch({ read, signal, wake: hub.waker('lens:42') });   // consumer
 *   await hub.publish('lens:42');                         // producer (any process)
 */
import type { Redis } from 'ioredis';
import { sleep } from './watch';

const TOPIC = /^[A-Za-z0-9:_./-]{1,200}$/;

export class LiveHub {
  private subscriber: Redis | undefined;
  private readonly waiters = new Map<string, Set<() => void>>();
  private closed = false;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  channel(topic: string): string {
    if (!TOPIC.test(topic)) throw new Error(`invalid live topic: ${JSON.stringify(topic)}`);
    return `${this.prefix}:live:${topic}`;
  }

  /** Tell every watcher of `topic` to read again. */
  async publish(topic: string): Promise<void> {
    await this.redis.publish(this.channel(topic), '1');
  }

  /** A `wake` for `watch`: waits `ms`, or less when `topic` is published or `signal` aborts. */
  waker(topic: string): (ms: number, signal: AbortSignal) => Promise<void> {
    return (ms, signal) => this.wait(topic, ms, signal);
  }

  async wait(topic: string, ms: number, signal: AbortSignal): Promise<void> {
    const channel = this.channel(topic);
    if (this.closed) return sleep(ms, signal);
    const early = new AbortController();
    const onAbort = () => early.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const waiter = () => early.abort();
    let set = this.waiters.get(channel);
    if (!set) {
      set = new Set();
      this.waiters.set(channel, set);
    }
    set.add(waiter);
    try {
      // A failed subscribe (Redis down) leaves the plain timer: polling still works.
      await this.ensureSubscribed(channel).catch(() => undefined);
      await sleep(ms, early.signal);
    } finally {
      signal.removeEventListener('abort', onAbort);
      set.delete(waiter);
      if (set.size === 0) {
        this.waiters.delete(channel);
        await this.subscriber?.unsubscribe(channel).catch(() => undefined);
      }
    }
  }

  private async ensureSubscribed(channel: string): Promise<void> {
    if (!this.subscriber) {
      const sub = this.redis.duplicate({ connectionName: 'lensgraph-live' });
      sub.on('message', (ch: string) => {
        for (const w of this.waiters.get(ch) ?? []) w();
      });
      // Errors are reported by the main connection's handler; without a listener ioredis would throw.
      sub.on('error', () => undefined);
      this.subscriber = sub;
    }
    await this.subscriber.subscribe(channel);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const set of this.waiters.values()) for (const w of set) w();
    this.waiters.clear();
    const sub = this.subscriber;
    this.subscriber = undefined;
    await sub?.quit().catch(() => undefined);
  }
}
