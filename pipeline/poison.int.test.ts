/**
 * A poison payload (one whose processing always fails) against a real Redis and real BullMQ queues: it is
 * retried a bounded number of times with backoff, then fails for good with its reason, its chunk is marked
 * failed on its upload, the pipeline page's health query counts it, and work queued behind it goes through
 * while it waits for its retries.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { StageRegistry, queueName } from '../domain/stages';
import { createLogger } from '../lib/log';
import { GraphGateway } from '../lib/neo4j';
import { createRedis, keys } from '../lib/redis';
import { HealthService } from '../server/health/health-service';
import { Ingester } from './ingest';
import type { RawChunk } from './payloads';
import { StageRunner, type StageDefinition } from './runner';
import { parseStage } from './stages/parse/handler';

const prefix = `poi${randomBytes(4).toString('hex')}`;
let redis: Redis;
let connection: Redis;
let gateway: GraphGateway;
let runner: StageRunner<unknown, unknown>;
let ingester: Ingester;
let health: HealthService;
let tmp: string;

const record = (host: string, i: number) =>
  JSON.stringify({
    EventID: 1,
    Channel: 'Microsoft-Windows-Sysmon/Operational',
    Hostname: host,
    UtcTime: '2020-10-18 19:50:22.123',
    ProcessGuid: `{d273d0f0-0000-0000-0000-${String(i).padStart(12, '0')}}`,
    Image: 'C:\\Windows\\System32\\cmd.exe',
  });

/** The real parse stage, except that a chunk naming the host POISON always throws (a retryable error). */
const poisoned: StageDefinition<RawChunk, unknown> = {
  ...(parseStage as unknown as StageDefinition<RawChunk, unknown>),
  async handle(inputs, ctx) {
    if (inputs.some((i) => i.payload.items.some((it) => 't' in it && it.t.includes('"POISON"')))) {
      throw new Error('poisoned chunk: this payload always fails');
    }
    return (parseStage as unknown as StageDefinition<RawChunk, unknown>).handle(inputs, ctx);
  },
};

beforeAll(async () => {
  redis = createRedis(process.env.REDIS_URL!);
  connection = createRedis(process.env.REDIS_URL!);
  gateway = new GraphGateway({
    uri: process.env.NEO4J_URI!,
    user: process.env.NEO4J_USER!,
    password: process.env.NEO4J_PASSWORD!,
  });
  runner = new StageRunner(poisoned as StageDefinition<unknown, unknown>, {
    redis,
    connection,
    prefix,
    payloadTtlSeconds: 3600,
  });
  await runner.start();
  ingester = new Ingester({ redis, prefix, payloadTtlSeconds: 3600, chunkRecords: 10 });
  health = new HealthService({ redis, gateway, prefix, log: createLogger({ component: 'poison-test' }) });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-poison-'));
});

afterAll(async () => {
  await runner?.stop();
  await ingester?.close();
  await health?.close();
  await gateway?.close();
  redis?.disconnect();
  connection?.disconnect();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('a poison payload', () => {
  it('fails for good after bounded retries, with its reason, visible in health, without blocking the queue', async () => {
    const poisonFile = path.join(tmp, 'poison.jsonl');
    fs.writeFileSync(poisonFile, `${record('POISON', 1)}\n`);
    const goodFile = path.join(tmp, 'good.jsonl');
    fs.writeFileSync(goodFile, Array.from({ length: 25 }, (_, i) => record('GOODHOST', i + 10)).join('\n'));

    const poison = await ingester.ingestFile(poisonFile, { name: 'poison.jsonl' });
    const good = await ingester.ingestFile(goodFile, { name: 'good.jsonl' });
    expect(good.chunks).toBe(3);

    // Everything queued behind the poison is parsed while the poison still waits for its retries.
    await until('the good upload to be parsed', async () => {
      const p = await ingester.uploads.progress(good.uploadId);
      return p && p.stages.parse === good.chunks ? p : undefined;
    });
    const queue = new Queue(queueName('parse'), { connection: redis, prefix: keys(prefix).bullPrefix });
    try {
      const poisonJob = (await queue.getJobs(['delayed', 'wait', 'active', 'failed'])).find((j) =>
        (j.data as { chunks?: string[] }).chunks?.some((c) => c.startsWith(poison.uploadId)),
      );
      expect(poisonJob).toBeDefined();
      expect(await poisonJob!.getState()).not.toBe('failed');

      // Bounded: the stage's attempts (with exponential backoff), then failed for good, with the reason.
      const attempts = StageRegistry.parse.attempts;
      const failed = await until(
        'the poison job to fail for good',
        async () => {
          const j = await queue.getJob(poisonJob!.id!);
          return j && (await j.getState()) === 'failed' ? j : undefined;
        },
        120_000,
      );
      expect(failed.attemptsMade).toBe(attempts);
      expect(failed.failedReason).toMatch(/poisoned chunk/);
    } finally {
      await queue.close();
    }

    const p = await until('the poison upload to record its failure', async () => {
      const q = await ingester.uploads.progress(poison.uploadId);
      return q && q.failed === 1 ? q : undefined;
    });
    expect(p.stages.parse).toBe(0);
    // The good upload lost nothing.
    expect((await ingester.uploads.progress(good.uploadId))!.failed).toBe(0);

    // What the pipeline page shows.
    const h = await health.health({ username: 'poison-test', role: 'viewer', via: 'session' });
    expect(h.stages.find((s) => s.name === 'parse')!.failed).toBeGreaterThanOrEqual(1);
  }, 180_000);
});
