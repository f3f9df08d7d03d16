/**
 * Process sessions in the real Redis: compare-and-set across keys, and two workers resolving the same
 * processes at the same time. Each test uses its own random key prefix.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NormalizedEvent } from '../../domain/event';
import { buildEvent } from '../graph/build';
import { guidAt, psexec4688, psexecCreate, security, sysmon, T0 } from '../graph/test-events';
import { MemoryGraph } from '../merge/memory-graph';
import { redisFromEnv } from '../merge/test-support';
import { RedisSessionStore } from './redis-store';
import { resolveIdentities } from './resolve';

let redis: Redis;
let redis2: Redis;

beforeAll(() => {
  redis = redisFromEnv('identity-int-1');
  redis2 = redisFromEnv('identity-int-2');
});

afterAll(async () => {
  await Promise.all([redis.quit(), redis2.quit()]);
});

const prefix = () => `t-${randomBytes(5).toString('hex')}:id`;

describe('RedisSessionStore', () => {
  it('stores timelines per (asset, pid) with a version and a TTL', async () => {
    const p = prefix();
    const store = new RedisSessionStore(redis, p, { ttlMs: 60_000 });
    await resolveIdentities([buildEvent(psexecCreate())], store, { now: 1 });
    const loaded = await store.load(['WORKSTATION5:7256', 'WORKSTATION5:2128', 'WORKSTATION5:1']);
    expect(loaded.get('WORKSTATION5:7256')).toMatchObject({
      version: 1,
      sessions: [expect.objectContaining({ key: expect.stringMatching(/^Process:39E4A257-40A6/) })],
    });
    expect(loaded.get('WORKSTATION5:2128')!.version).toBe(1);
    expect(loaded.get('WORKSTATION5:1')).toEqual({ version: 0, sessions: [] });
    const ttl = await redis.pttl(`${p}:WORKSTATION5:7256`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('commits all timelines of a call or none (compare-and-set on every version)', async () => {
    const p = prefix();
    const store = new RedisSessionStore(redis, p);
    const s = (key: string) => [{ key, lo: 1, hi: 1 }];
    expect(await store.commit([{ id: 'A:1', version: 0, sessions: s('Process:A:1:~1') }])).toBe(true);
    // A:1 is at version 1 now: a write computed from version 0 must fail, and take A:2 down with it
    expect(
      await store.commit([
        { id: 'A:2', version: 0, sessions: s('Process:A:2:~1') },
        { id: 'A:1', version: 0, sessions: s('Process:A:1:~9') },
      ]),
    ).toBe(false);
    const after = await store.load(['A:1', 'A:2']);
    expect(after.get('A:1')).toEqual({ version: 1, sessions: s('Process:A:1:~1') });
    expect(after.get('A:2')).toEqual({ version: 0, sessions: [] });
  });

  it('ignores a corrupt entry instead of failing every later event of that pid', async () => {
    const p = prefix();
    await redis.hset(`${p}:A:1`, 'v', '3', 's', '{not json');
    const store = new RedisSessionStore(redis, p);
    expect((await store.load(['A:1'])).get('A:1')).toEqual({ version: 3, sessions: [] });
  });

  it('two workers resolving Sysmon and Security views of the same processes at once end with one node each', async () => {
    const p = prefix();
    const w1 = new RedisSessionStore(redis, p);
    const w2 = new RedisSessionStore(redis2, p);
    const S = 1000;
    const sysmonEvents: NormalizedEvent[] = [];
    const securityEvents: NormalizedEvent[] = [];
    for (let i = 0; i < 40; i++) {
      const t = T0 + i * 10 * S;
      const pid = String(1000 + i);
      sysmonEvents.push(
        sysmon(
          1,
          { ProcessGuid: guidAt(t, i), ProcessId: pid, Image: `C:\\p${i}.exe`, ParentProcessId: '4' },
          { time: t },
        ),
      );
      sysmonEvents.push(
        sysmon(
          11,
          { ProcessGuid: guidAt(t, i), ProcessId: pid, TargetFilename: `C:\\out${i}.txt` },
          { time: t + S },
        ),
      );
      securityEvents.push(
        security(4688, { ProcessId: pid, ParentProcessId: '4', Image: `C:\\p${i}.exe` }, { time: t + 2 * S }),
      );
      securityEvents.push(sysmon(22, { ProcessId: pid, QueryName: `q${i}.example` }, { time: t + 3 * S }));
    }
    const graph = new MemoryGraph();
    let n = 0;
    const worker = async (store: RedisSessionStore, events: NormalizedEvent[]) => {
      for (let i = 0; i < events.length; i += 4) {
        const r = await resolveIdentities(
          events.slice(i, i + 4).map((e) => buildEvent(e)),
          store,
        );
        graph.apply([{ id: String(n++), subgraph: r.subgraph, aliases: r.aliases }]);
      }
    };
    await Promise.all([worker(w1, sysmonEvents), worker(w2, securityEvents)]);
    const procs = [...graph.nodes.keys()].filter((k) => k.startsWith('Process:') && !k.includes(':4:'));
    expect(procs).toHaveLength(40);
    for (const k of procs) expect(k).toMatch(/^Process:39E4A257-/);
    // every DNS query hangs off its GUID process
    const resolved = [...graph.edges.values()].filter((e) => e.kind === 'RESOLVED');
    expect(resolved).toHaveLength(40);
    for (const e of resolved) expect(e.from).toMatch(/^Process:39E4A257-/);
  });

  it('Sysmon + 4688 across calls and stores sharing Redis', async () => {
    const p = prefix();
    const r1 = await resolveIdentities(
      [buildEvent(psexec4688({ time: T0 + 1000 }))],
      new RedisSessionStore(redis, p),
    );
    const r2 = await resolveIdentities(
      [buildEvent(psexecCreate({ time: T0 }))],
      new RedisSessionStore(redis2, p),
    );
    // the 4688's process and its parent (known by pid only) both turn out to be GUID processes
    expect(r2.aliases).toEqual([
      { from: r1.eventNodes[0]!.process, to: r2.eventNodes[0]!.process },
      {
        from: r1.subgraph.edges.find((e) => e.kind === 'PARENT_OF')!.from,
        to: r2.subgraph.edges.find((e) => e.kind === 'PARENT_OF')!.from,
      },
    ]);
  });
});
