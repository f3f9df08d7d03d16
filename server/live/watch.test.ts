import { describe, expect, it } from 'vitest';
import { sleep, watch } from './watch';

/** A state that changes only when the test says so; counts reads. */
function source<T>(states: T[]) {
  let i = 0;
  let reads = 0;
  return {
    read: async () => {
      reads++;
      return states[Math.min(i, states.length - 1)];
    },
    advance: () => i++,
    get reads() {
      return reads;
    },
  };
}

describe('watch', () => {
  it('emits the current state, then only changes, and ends after a final state', async () => {
    const values = [1, 1, 2, 2, 3, 4];
    let i = 0;
    const seen: number[] = [];
    for await (const v of watch({
      read: async () => values[i++],
      intervalMs: 1,
      isFinal: (v) => v === 3,
    })) {
      seen.push(v);
    }
    expect(seen).toEqual([1, 2, 3]);
    expect(i).toBe(5);
  });

  it('ends when the state disappears', async () => {
    const seen: string[] = [];
    const values = ['a', 'b', undefined, 'c'];
    let i = 0;
    for await (const v of watch({ read: async () => values[i++], intervalMs: 1 })) seen.push(v);
    expect(seen).toEqual(['a', 'b']);
  });

  it('stops promptly when the client signal aborts, even mid-wait', async () => {
    const s = source([1]);
    const ac = new AbortController();
    const it = watch({ read: s.read, intervalMs: 60_000, signal: ac.signal });
    expect((await it.next()).value).toBe(1);
    const pending = it.next();
    setTimeout(() => ac.abort(), 10);
    const t0 = Date.now();
    expect((await pending).done).toBe(true);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('stops promptly when the consumer returns (client disconnect) and reads no more', async () => {
    const s = source([1]);
    const it = watch({ read: s.read, intervalMs: 5 });
    await it.next();
    await it.return(undefined);
    const reads = s.reads;
    await sleep(30, new AbortController().signal);
    expect(s.reads).toBe(reads);
  });

  it('reads again early when woken, and ends at the maximum duration', async () => {
    let t = 0;
    const values = [1, 2, 3, 4, 5];
    let i = 0;
    const wakes: number[] = [];
    const seen: number[] = [];
    for await (const v of watch({
      read: async () => values[i++],
      intervalMs: 60_000,
      maxDurationMs: 2,
      now: () => t,
      wake: async (ms) => {
        wakes.push(ms);
        t++;
      },
    })) {
      seen.push(v);
    }
    expect(seen).toEqual([1, 2, 3]);
    expect(wakes).toEqual([60_000, 60_000]);
  });
});

describe('sleep', () => {
  it('resolves at once on an aborted signal', async () => {
    const ac = new AbortController();
    ac.abort();
    const t0 = Date.now();
    await sleep(60_000, ac.signal);
    expect(Date.now() - t0).toBeLessThan(100);
  });
});
