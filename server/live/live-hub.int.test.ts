/** LiveHub over a real Redis: a publish wakes watchers at once, in any process sharing the prefix. */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRedis } from '../../lib/redis';
import { LiveHub } from './live-hub';
import { watch } from './watch';

let a: Redis;
let b: Redis;
const prefix = `live${randomBytes(4).toString('hex')}`;

beforeAll(() => {
  a = createRedis(process.env.REDIS_URL!, { connectionName: 'live-a' });
  b = createRedis(process.env.REDIS_URL!, { connectionName: 'live-b' });
});

afterAll(async () => {
  await a.quit();
  await b.quit();
});

describe('LiveHub', () => {
  it('wakes a waiter when its topic is published from another connection, not for other topics', async () => {
    const watcher = new LiveHub(a, prefix);
    const producer = new LiveHub(b, prefix);
    try {
      const t0 = Date.now();
      const waiting = watcher.wait('lens:1', 30_000, new AbortController().signal);
      // Let the subscription land before publishing.
      await new Promise((r) => setTimeout(r, 200));
      await producer.publish('lens:2');
      await new Promise((r) => setTimeout(r, 200));
      await producer.publish('lens:1');
      await waiting;
      const took = Date.now() - t0;
      expect(took).toBeGreaterThanOrEqual(400);
      expect(took).toBeLessThan(5000);
    } finally {
      await watcher.close();
      await producer.close();
    }
  });

  it('drives watch: a change published is read at once instead of at the next poll', async () => {
    const hub = new LiveHub(a, prefix);
    const producer = new LiveHub(b, prefix);
    let state = 1;
    const seen: number[] = [];
    const t0 = Date.now();
    try {
      const done = (async () => {
        for await (const v of watch({
          read: async () => state,
          intervalMs: 60_000,
          isFinal: (v) => v === 2,
          wake: hub.waker('upload:x'),
        })) {
          seen.push(v);
        }
      })();
      await new Promise((r) => setTimeout(r, 200));
      state = 2;
      await producer.publish('upload:x');
      await done;
      expect(seen).toEqual([1, 2]);
      expect(Date.now() - t0).toBeLessThan(5000);
    } finally {
      await hub.close();
      await producer.close();
    }
  });

  it('refuses topic names that could reach outside the live channels', () => {
    const hub = new LiveHub(a, prefix);
    expect(() => hub.channel('a b')).toThrow();
    expect(() => hub.channel('')).toThrow();
    expect(hub.channel('lens:42')).toBe(`${prefix}:live:lens:42`);
  });
});
