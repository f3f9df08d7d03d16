/**
 * The runner against a real Redis and real BullMQ queues: a chunk of good and malformed records goes
 * through the parse stage; bad messages fail at once with their reason and never block the queue.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkId, Envelope, queueName } from '../domain/stages';
import { newPayloadKey, PayloadStore } from '../lib/payload-store';
import { createRedis, keys } from '../lib/redis';
import { Ingester } from './ingest';
import { EventsPayload } from './payloads';
import { StageRunner, successorJobId } from './runner';
import { parseStage } from './stages/parse/handler';

const prefix = `it${randomBytes(4).toString('hex')}`;
let redis: Redis;
let connection: Redis;
let runner: StageRunner<unknown, unknown>;
let parseQueue: Queue;
let identifyQueue: Queue;
let events: QueueEvents;
let tmp: string;

const good = (i: number) =>
  JSON.stringify({
    EventID: 1,
    Hostname: 'RUNNERTEST',
    UtcTime: '2020-10-18 19:50:22.123',
    ProcessGuid: `{d273d0f0-0000-0000-0000-${String(i).padStart(12, '0')}}`,
    ProcessId: String(1000 + i),
    Image: 'C:\\Windows\\System32\\cmd.exe',
    CommandLine: `cmd.exe /c echo ${i}`,
    ParentProcessGuid: '{d273d0f0-0000-0000-0000-ffffffffffff}',
    ParentProcessId: '4',
    ParentImage: 'C:\\Windows\\explorer.exe',
    Channel: 'Microsoft-Windows-Sysmon/Operational',
    SourceName: 'Microsoft-Windows-Sysmon',
  });

beforeAll(async () => {
  const url = process.env.REDIS_URL!;
  redis = createRedis(url);
  connection = createRedis(url);
  runner = new StageRunner(parseStage as never, { redis, connection, prefix, payloadTtlSeconds: 3600 });
  await runner.start();
  const bull = keys(prefix).bullPrefix;
  parseQueue = new Queue(queueName('parse'), { connection: redis, prefix: bull });
  identifyQueue = new Queue(queueName('identify'), { connection: redis, prefix: bull });
  events = new QueueEvents(queueName('parse'), { connection: createRedis(url), prefix: bull });
  await events.waitUntilReady();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-runner-'));
});

afterAll(async () => {
  await runner?.stop();
  await parseQueue?.close();
  await identifyQueue?.close();
  await events?.close();
  redis?.disconnect();
  connection?.disconnect();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('upload progress', () => {
  it("counts a chunk a later stage finished as finished by the stages before it (a killed worker's mark comes late)", async () => {
    const { Uploads } = await import('../lib/uploads');
    const uploads = new Uploads(redis, prefix);
    const id = `up-${randomBytes(4).toString('hex')}`;
    await uploads.create({ id, name: 'x', createdAt: Date.now(), createdBy: 'test' });
    await uploads.seal(id, 2);
    const [a, b] = [chunkId(id, 0), chunkId(id, 1)];
    // Both chunks went through; parse's worker died after handing chunk b on and before marking it.
    await uploads.markStageDone('parse', [a]);
    for (const stage of ['identify', 'merge', 'analyze'] as const) await uploads.markStageDone(stage, [a, b]);
    await uploads.markStageDone('engage', [a]);
    let p = (await uploads.progress(id))!;
    expect(p.stages).toEqual({ parse: 2, identify: 2, merge: 2, analyze: 2, engage: 1 });
    expect(p.done).toBe(false);
    await uploads.markStageDone('engage', [b]);
    p = (await uploads.progress(id))!;
    expect(p.stages).toEqual({ parse: 2, identify: 2, merge: 2, analyze: 2, engage: 2 });
    expect(p.done).toBe(true);
  });
});

describe('parse stage through a real queue', () => {
  it('keeps every good record, rejects every bad one with its reason, and hands on one payload', async () => {
    const lines: string[] = [];
    const bad = ['{"EventID": 1, "Hostname": "X"', 'not json at all', '{"EventID":"abc","Hostname":"H"}', '\u0000\u0001garbage'];
    let goodCount = 0;
    for (let i = 0; i < 300; i++) {
      if (i % 10 === 3) lines.push(bad[i % bad.length]!);
      else lines.push(good(goodCount++));
    }
    const file = path.join(tmp, 'mixed.jsonl');
    fs.writeFileSync(file, `${lines.join('\n')}\n`);

    const ingester = new Ingester({ redis, prefix, payloadTtlSeconds: 3600, chunkRecords: 1000 });
    const { uploadId, chunks } = await ingester.ingestFile(file, { name: 'mixed.jsonl' });
    await ingester.close();
    expect(chunks).toBe(1);

    const successor = successorJobId('identify', [`${uploadId}/0`]);
    let job = await identifyQueue.getJob(successor);
    for (let i = 0; i < 100 && !job; i++) {
      await new Promise((r) => setTimeout(r, 100));
      job = await identifyQueue.getJob(successor);
    }
    expect(job).toBeTruthy();
    const envelope = Envelope.parse(job!.data);
    const store = new PayloadStore(redis, prefix, 3600);
    const payload = await store.get(envelope.payloadKeys[0]!, EventsPayload);
    expect(payload.parts[0]!.events).toHaveLength(goodCount);

    const { Uploads } = await import('../lib/uploads');
    const uploads = new Uploads(redis, prefix);
    const progress = await uploads.progress(uploadId);
    expect(progress!.records.read).toBe(300);
    expect(progress!.records.accepted).toBe(goodCount);
    const rejected = await uploads.rejected(uploadId);
    expect(rejected).toHaveLength(300 - goodCount);
    for (const r of rejected) {
      expect(r.reason.length).toBeGreaterThan(3);
      expect(lines[r.recordNo - 1] ?? lines[r.recordNo]).toBeDefined();
    }
    expect(progress!.stages.parse).toBe(1);
  });

  it('fails an invalid envelope at once, without retry, and goes on with the next job', async () => {
    const badJob = await parseQueue.add('parse', { nonsense: true }, { jobId: 'bad-envelope', attempts: 5 });
    const missing: Envelope = {
      traceId: 't',
      chunks: [`${newPayloadKey()}/0`],
      createdAt: Date.now(),
      payloadKeys: [newPayloadKey()],
    };
    const missingJob = await parseQueue.add('parse', missing, { jobId: 'missing-payload', attempts: 5 });

    await expect(badJob.waitUntilFinished(events, 20_000)).rejects.toThrow(/invalid envelope/);
    await expect(missingJob.waitUntilFinished(events, 20_000)).rejects.toThrow(/missing/);
    const b = await parseQueue.getJob('bad-envelope');
    const m = await parseQueue.getJob('missing-payload');
    expect(await b!.getState()).toBe('failed');
    expect(b!.attemptsMade).toBe(1);
    expect(await m!.getState()).toBe('failed');
    expect(m!.attemptsMade).toBe(1);

    // The queue is not blocked: a good upload still goes through.
    const file = path.join(tmp, 'after.jsonl');
    fs.writeFileSync(file, `${good(9999)}\n`);
    const ingester = new Ingester({ redis, prefix, payloadTtlSeconds: 3600, chunkRecords: 1000 });
    const { uploadId } = await ingester.ingestFile(file, { name: 'after.jsonl' });
    await ingester.close();
    const successor = successorJobId('identify', [`${uploadId}/0`]);
    let job = await identifyQueue.getJob(successor);
    for (let i = 0; i < 100 && !job; i++) {
      await new Promise((r) => setTimeout(r, 100));
      job = await identifyQueue.getJob(successor);
    }
    expect(job).toBeTruthy();
  });
});
