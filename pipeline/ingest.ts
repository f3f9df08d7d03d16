/**
 * Ingestion: an input (file or byte stream) is read record by record (pipeline/parsers detects the
 * format), cut into chunks of a few thousand raw records, each stored compressed under an unguessable key
 * and announced to the parse stage by a message that carries only that key. Nothing is parsed here:
 * every record is judged on its own in the parse stage, so a bad record never costs its neighbours.
 */
import { createHash, randomUUID } from 'node:crypto';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { chunkId, queueName, type Envelope } from '../domain/stages';
import { newPayloadKey, PayloadStore } from '../lib/payload-store';
import { keys } from '../lib/redis';
import { Uploads, type UploadProgress } from '../lib/uploads';
import { readRecords, readRecordsFromStream } from './parsers';
import type { RawChunk, RawItem } from './payloads';
import { jobOptions, successorJobId } from './runner';

export interface IngestDeps {
  redis: Redis;
  prefix: string;
  payloadTtlSeconds: number;
  chunkRecords: number;
}

export interface IngestProgress {
  uploadId: string;
  records: number;
  bytes?: number;
  chunks: number;
}

type ReaderItem = { recordNo: number; format?: string; text?: string; rejected?: string; firstBytes?: string };

export class Ingester {
  private readonly queue: Queue;
  private readonly store: PayloadStore;
  readonly uploads: Uploads;

  constructor(private readonly deps: IngestDeps) {
    this.queue = new Queue(queueName('parse'), { connection: deps.redis, prefix: keys(deps.prefix).bullPrefix });
    this.store = new PayloadStore(deps.redis, deps.prefix, deps.payloadTtlSeconds);
    this.uploads = new Uploads(deps.redis, deps.prefix);
  }

  async close(): Promise<void> {
    await this.queue.close();
  }

  /** Ingest one file; returns the upload id once every chunk is enqueued. */
  async ingestFile(
    path: string,
    opts: { name?: string; user?: string; replay?: string; onProgress?: (p: IngestProgress) => void } = {},
  ) {
    return this.ingest(readRecords(path) as AsyncIterable<ReaderItem>, {
      name: opts.name ?? path,
      user: opts.user ?? 'cli',
      replay: opts.replay,
      onProgress: opts.onProgress,
    });
  }

  /** Ingest a byte stream (HTTP upload). */
  async ingestStream(
    stream: NodeJS.ReadableStream | ReadableStream<Uint8Array>,
    opts: { name: string; user: string; onProgress?: (p: IngestProgress) => void },
  ) {
    return this.ingest(readRecordsFromStream(stream, { name: opts.name }) as AsyncIterable<ReaderItem>, opts);
  }

  private async ingest(
    records: AsyncIterable<ReaderItem>,
    opts: {
      name: string;
      user: string;
      replay?: string | undefined;
      onProgress?: ((p: IngestProgress) => void) | undefined;
    },
  ): Promise<{ uploadId: string; chunks: number; records: number }> {
    const uploadId = newPayloadKey();
    await this.uploads.create({ id: uploadId, name: opts.name, createdAt: Date.now(), createdBy: opts.user });
    let items: RawItem[] = [];
    let chunks = 0;
    let count = 0;
    const flush = async () => {
      if (items.length === 0) return;
      const chunk: RawChunk = {
        chunk: chunkId(uploadId, chunks),
        source: opts.name,
        items,
        digest: chunkDigest(items, opts.replay),
        ...(opts.replay ? { replay: opts.replay } : {}),
      };
      items = [];
      chunks++;
      const key = await this.store.put(chunk);
      const envelope: Envelope = { traceId: randomUUID(), chunks: [chunk.chunk], createdAt: Date.now(), payloadKeys: [key] };
      await this.queue.add('parse', envelope, jobOptions('parse', successorJobId('parse', [chunk.chunk])));
      opts.onProgress?.({ uploadId, records: count, chunks });
    };
    try {
      for await (const r of records) {
        count++;
        if (r.rejected !== undefined) {
          items.push({ n: r.recordNo, rejected: r.rejected, firstBytes: r.firstBytes ?? '' });
        } else if (r.text !== undefined && isFormat(r.format)) {
          items.push({ n: r.recordNo, f: r.format, t: r.text });
        }
        if (items.length >= this.deps.chunkRecords) await flush();
      }
      await flush();
      await this.uploads.seal(uploadId, chunks);
    } catch (err) {
      // The input itself failed (unreadable file, broken stream): keep what was enqueued, say why.
      await flush().catch(() => undefined);
      await this.uploads.seal(uploadId, chunks, `input failed after ${count} records: ${(err as Error).message}`);
      throw err;
    }
    return { uploadId, chunks, records: count };
  }

  /** Resolve when every stage has finished every chunk of these uploads (or they failed). */
  async waitFor(
    uploadIds: string[],
    opts: { timeoutMs?: number; onProgress?: (p: UploadProgress[]) => void } = {},
  ): Promise<UploadProgress[]> {
    const deadline = Date.now() + (opts.timeoutMs ?? 60 * 60_000);
    for (;;) {
      const all = await Promise.all(uploadIds.map((id) => this.uploads.progress(id)));
      const known = all.filter((p): p is UploadProgress => p !== null);
      opts.onProgress?.(known);
      if (known.length === uploadIds.length && known.every((p) => p.done)) return known;
      if (Date.now() > deadline) throw new Error('timed out waiting for the pipeline');
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

function isFormat(f: string | undefined): f is 'jsonl' | 'json-array' | 'xml' | 'evtx' {
  return f === 'jsonl' || f === 'json-array' || f === 'xml' || f === 'evtx';
}

/** Digest of a chunk's content: the same records (under the same replay tag) give the same digest. */
export function chunkDigest(items: RawItem[], replay?: string): string {
  const h = createHash('sha256');
  h.update(`replay:${replay ?? ''}\n`);
  for (const it of items) {
    if ('t' in it) h.update(`${it.f}\0${it.t}\n`);
    else h.update(`!${it.n}\0${it.rejected}\0${it.firstBytes}\n`);
  }
  return h.digest('hex');
}
