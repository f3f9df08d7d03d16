/**
 * RedisCorrelationState against a real Redis (REDIS_URL from the integration harness). Each test uses its
 * own random key prefix.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NormalizedEvent } from '../../domain/event';
import { RedisCorrelationState } from './correlation-redis';
import { loadRules } from './loader';

let redis: Redis;
let dir: string;
const prefix = () => `it-corr-${randomBytes(6).toString('hex')}`;

beforeAll(async () => {
  const url = process.env.REDIS_URL;
  if (!url) throw new Error('REDIS_URL is not set (run with the integration project)');
  redis = new Redis(url, { maxRetriesPerRequest: 3 });
  dir = await mkdtemp(path.join(os.tmpdir(), 'sigma-corr-it-'));
});

afterAll(async () => {
  await redis?.quit();
  await rm(dir, { recursive: true, force: true });
});

describe('RedisCorrelationState', () => {
  it('keeps a sliding window of distinct members in event time', async () => {
    const s = new RedisCorrelationState(redis, { keyPrefix: prefix() });
    expect(await s.windowAdd('g', 'a', 1000, 500)).toBe(1);
    expect(await s.windowAdd('g', 'b', 1200, 500)).toBe(2);
    expect(await s.windowAdd('g', 'a', 1300, 500)).toBe(2); // seen again: refreshed, not added
    expect(await s.windowAdd('g', 'c', 1750, 500)).toBe(2); // b (1200) fell out; a (1300) stays
    expect(await s.windowAdd('other', 'a', 1750, 500)).toBe(1);
  });

  it('stores numeric fields, merges updates, sets a TTL and clears', async () => {
    const p = prefix();
    const s = new RedisCorrelationState(redis, { keyPrefix: p, ttlGraceMs: 1000 });
    await s.setFields('g', { r0: 5, r1: 7 }, 7, 60_000);
    await s.setFields('g', { r1: 9 }, 9, 60_000);
    expect(await s.getFields('g')).toEqual({ r0: 5, r1: 9 });
    const [k] = await redis.keys(`${p}:*`);
    expect(k).toBeDefined();
    const ttl = await redis.pttl(k!);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(61_000);
    await s.clear('g');
    expect(await s.getFields('g')).toEqual({});
    expect(await redis.keys(`${p}:*`)).toEqual([]);
  });

  it('runs an event_count correlation end to end, shared by two state instances (two workers)', async () => {
    const file = path.join(dir, 'bf.yml');
    await writeFile(
      file,
      `title: Failed logon
id: it-failed
name: failed
logsource:
    product: windows
    service: security
detection:
    selection:
        EventID: 4625
    condition: selection
---
title: Brute force
id: it-bf
level: high
correlation:
    type: event_count
    rules:
        - failed
    group-by:
        - TargetUserName
    timespan: 1m
    condition:
        gte: 3
`,
    );
    const { ruleset } = await loadRules([file], { placeholders: {} });
    const p = prefix();
    const workers = [
      new RedisCorrelationState(redis, { keyPrefix: p }),
      new RedisCorrelationState(redis, { keyPrefix: p }),
    ];
    const fired: string[] = [];
    for (let i = 0; i < 3; i++) {
      const e: NormalizedEvent = {
        source: 'security',
        channel: 'Security',
        eventId: 4625,
        host: 'DC01',
        time: 1_700_000_000_000 + i * 1000,
        recordId: i,
        fields: { TargetUserName: 'alice' },
      };
      const out = await ruleset.evaluateCorrelations(ruleset.evaluate(e), e, workers[i % 2]!);
      fired.push(...out.map((m) => `${m.ruleId}:${m.count}`));
    }
    expect(fired).toEqual(['it-bf:3']);
  });
});
