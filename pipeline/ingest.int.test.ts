/**
 * The Ingester against a real Redis: a byte stream (as POST /api/ingest hands it over: a web stream, or a
 * multipart file as a Node stream) is spooled and gives exactly the chunks of the same file ingested from
 * disk, upload-wide clock offsets and digests included; the spool file is gone afterwards, also when the
 * stream fails midway. Each test run owns a Redis prefix and a spool directory.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkId, Envelope, queueName } from '../domain/stages';
import { PayloadStore } from '../lib/payload-store';
import { createRedis, keys } from '../lib/redis';
import { Ingester } from './ingest';
import { RawChunk } from './payloads';
import { successorJobId } from './runner';
import { parseChunk } from './stages/parse/handler';

const prefix = `it${randomBytes(4).toString('hex')}`;
const H = 3600_000;
const T = Date.parse('2023-08-27T22:04:14.955Z');
const SYSMON = 'Microsoft-Windows-Sysmon/Operational';

let redis: Redis;
let ingester: Ingester;
let parseQueue: Queue;
let store: PayloadStore;
let tmp: string;
let spoolDir: string;

beforeAll(async () => {
  redis = createRedis(process.env.REDIS_URL!);
  tmp = await mkdtemp(path.join(os.tmpdir(), 'lg-ingest-int-'));
  spoolDir = await mkdtemp(path.join(tmp, 'spool-'));
  ingester = new Ingester({ redis, prefix, payloadTtlSeconds: 3600, chunkRecords: 4, spoolDir });
  parseQueue = new Queue(queueName('parse'), { connection: redis, prefix: keys(prefix).bullPrefix });
  store = new PayloadStore(redis, prefix, 3600);
});

afterAll(async () => {
  await ingester?.close();
  await parseQueue?.close();
  redis?.disconnect();
  await rm(tmp, { recursive: true, force: true });
});

const iso = (ms: number) => new Date(ms).toISOString();

/** Every 4688 first, the Sysmon 1 records of the same processes (TimeCreated 19 h behind UtcTime) last. */
function blockOrdered(host: string, n: number): string {
  const lines: unknown[] = [];
  for (let i = 0; i < n; i++) {
    lines.push({
      Channel: 'Security',
      Hostname: host,
      EventID: 4688,
      TimeCreated: iso(T + i * 1000 - 19 * H),
      NewProcessId: `0x${(4000 + i).toString(16)}`,
      NewProcessName: `C:\\Tools\\tool${i}.exe`,
    });
  }
  for (let i = 0; i < n; i++) {
    lines.push({
      Channel: SYSMON,
      Hostname: host,
      EventID: 1,
      TimeCreated: iso(T + i * 1000 - 19 * H + 2),
      UtcTime: iso(T + i * 1000)
        .replace('T', ' ')
        .replace('Z', ''),
      ProcessGuid: `{716d09e4-c85e-64eb-3503-${String(i).padStart(12, '0')}}`,
      ProcessId: String(4000 + i),
      Image: `C:\\Tools\\tool${i}.exe`,
    });
  }
  return lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
}

/** The chunks an upload enqueued for the parse stage, read back as the parse stage reads them. */
async function enqueued(uploadId: string, chunks: number): Promise<RawChunk[]> {
  const out: RawChunk[] = [];
  for (let n = 0; n < chunks; n++) {
    const job = await parseQueue.getJob(successorJobId('parse', [chunkId(uploadId, n)]));
    expect(job, `chunk ${n}`).toBeTruthy();
    const envelope = Envelope.parse(job!.data);
    out.push(await store.get(envelope.payloadKeys[0]!, RawChunk));
  }
  return out;
}

const content = (chunks: RawChunk[]) => chunks.map(({ chunk: _, ...rest }) => rest);

function webStream(data: Buffer, size: number, failAt?: number): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (failAt !== undefined && i >= failAt) controller.error(new Error('The upload is too large.'));
      else if (i >= data.length) controller.close();
      else {
        controller.enqueue(new Uint8Array(data.subarray(i, i + size)));
        i += size;
      }
    },
  });
}

describe('Ingester: upload-wide clock offsets from files and streams', () => {
  it('a stream gives the chunks, offsets and digests of the same file, and leaves no spool file', async () => {
    const text = blockOrdered(`IT${randomBytes(3).toString('hex').toUpperCase()}.corp.local`, 6);
    const host = text.match(/"Hostname":"([^.]+)/)![1]!;
    const file = path.join(tmp, 'blocks.jsonl');
    await writeFile(file, text);

    const fromFile = await ingester.ingestFile(file, { name: 'blocks.jsonl' });
    const fromWeb = await ingester.ingestStream(webStream(gzipSync(text), 1000), {
      name: 'blocks.jsonl',
      user: 'test',
    });
    const fromNode = await ingester.ingestStream(
      Readable.from([Buffer.from(text.slice(0, 700)), text.slice(700)]),
      {
        name: 'blocks.jsonl',
        user: 'test',
      },
    );
    expect(await readdir(spoolDir)).toEqual([]);

    expect(fromFile).toMatchObject({ records: 12, chunks: 3 });
    const a = await enqueued(fromFile.uploadId, fromFile.chunks);
    for (const c of a) expect(c.clockOffsets).toEqual({ [host]: -19 * H });
    expect(content(await enqueued(fromWeb.uploadId, fromWeb.chunks))).toEqual(content(a));
    expect(content(await enqueued(fromNode.uploadId, fromNode.chunks))).toEqual(content(a));

    // the 4688s, alone in the first chunks, are corrected by the upload's offset
    const created = a.flatMap((c) => parseChunk(c).events).filter((e) => e.eventId === 4688);
    expect(created.map((e) => [e.time, e.timeCorrection?.scope])).toEqual(
      Array.from({ length: 6 }, (_, i) => [T + i * 1000, 'upload']),
    );
    for (const u of [fromFile, fromWeb, fromNode]) {
      const p = await ingester.uploads.progress(u.uploadId);
      expect(p).toMatchObject({ sealed: true, totalChunks: 3 });
      expect(p!.error).toBeUndefined();
    }
  });

  it('a stream failing midway: nothing enqueued, the upload says why, the spool file is gone', async () => {
    const text = blockOrdered('FAILING-PC', 6);
    await expect(
      ingester.ingestStream(webStream(Buffer.from(text), 500, 1000), { name: 'cut.jsonl', user: 'test' }),
    ).rejects.toThrow('The upload is too large.');
    expect(await readdir(spoolDir)).toEqual([]);
    const all = await Promise.all(
      (await ingester.uploads.list(10)).map((id) => ingester.uploads.progress(id)),
    );
    const p = all.find((u) => u?.name === 'cut.jsonl');
    expect(p).toMatchObject({ sealed: true, totalChunks: 0 });
    expect(p!.error).toBe('input failed after 0 records: The upload is too large.');
    expect(await parseQueue.getJob(successorJobId('parse', [chunkId(p!.id, 0)]))).toBeUndefined();
  });

  it('refuses a replay tag the parse stage would refuse, before anything is stored', async () => {
    const file = path.join(tmp, 'replay.jsonl');
    await writeFile(file, blockOrdered('REPLAY-PC', 2));
    const before = await ingester.uploads.list(100);
    await expect(ingester.ingestFile(file, { replay: 'not-a-tag' })).rejects.toThrow(
      'replay tag "not-a-tag": must be 1-16 letters or digits',
    );
    expect(await ingester.uploads.list(100)).toEqual(before);
  });
});
