/**
 * Ingestion: an input (file or byte stream) is read record by record (pipeline/parsers detects the
 * format), cut into chunks of a few thousand raw records, each stored compressed under an unguessable key
 * and announced to the parse stage by a message that carries only that key. Every record is judged on its
 * own in the parse stage, so a bad record never costs its neighbours.
 *
 * The input is read twice. A pre-pass parses the records that carry Sysmon's UtcTime and learns each host's
 * shipper clock offset over the whole upload (stages/parse/clock-offset.ts); the second pass cuts the chunks,
 * each carrying those offsets (in its digest too), so a chunk of Security records is corrected even when the
 * Sysmon records that show the offset sit in other chunks. A byte stream can be read only once, so it is
 * first spooled to a private temporary file, removed when the upload is enqueued or has failed.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { chunkId, queueName, type Envelope } from '../domain/stages';
import { newPayloadKey, PayloadStore } from '../lib/payload-store';
import { keys } from '../lib/redis';
import { Uploads, type UploadProgress } from '../lib/uploads';
import {
  byteChunks,
  isFramingRejection,
  readRecords,
  readRecordsFromStream,
  type ByteStream,
  type ReadItem,
} from './parsers';
import { ReplayTag, type ClockOffsetMap, type RawChunk, type RawItem } from './payloads';
import { jobOptions, successorJobId } from './runner';
import { learnUploadOffsets } from './stages/parse/clock-offset';

export interface IngestDeps {
  redis: Redis;
  prefix: string;
  payloadTtlSeconds: number;
  chunkRecords: number;
  /** Directory byte streams are spooled to (one file per upload, as large as the upload); os.tmpdir() by default. */
  spoolDir?: string;
}

export interface IngestProgress {
  uploadId: string;
  /**
   * `scanning`: the pre-pass reading the whole input for shipper clock offsets (records = read so far, no
   * chunk queued yet); `queueing`: records cut into chunks and queued.
   */
  phase: 'scanning' | 'queueing';
  records: number;
  bytes?: number;
  chunks: number;
}

/** Opens a fresh pass over the records of one input (called once per pass). */
export type RecordSource = () => AsyncIterable<ReadItem>;

/** The same buffer size readRecords uses for files. */
const SPOOL_READ_CHUNK = 1024 * 1024;

export class Ingester {
  private readonly queue: Queue;
  private readonly store: PayloadStore;
  readonly uploads: Uploads;

  constructor(private readonly deps: IngestDeps) {
    this.queue = new Queue(queueName('parse'), {
      connection: deps.redis,
      prefix: keys(deps.prefix).bullPrefix,
    });
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
    // Refused here, before anything is stored: the parse stage would fail every chunk of the upload.
    if (opts.replay !== undefined && !ReplayTag.safeParse(opts.replay).success) {
      throw new Error(`replay tag ${JSON.stringify(opts.replay)}: must be 1-16 letters or digits`);
    }
    // A file is read twice as it is; one changed between the passes gets offsets from its earlier content.
    return this.ingest((cut) => cut(() => readRecords(path)), {
      name: opts.name ?? path,
      user: opts.user ?? 'cli',
      replay: opts.replay,
      onProgress: opts.onProgress,
    });
  }

  /** Ingest a byte stream (HTTP upload): spooled to a temporary file, then read from there like a file. */
  async ingestStream(
    stream: ByteStream,
    opts: { name: string; user: string; onProgress?: (p: IngestProgress) => void },
  ) {
    return this.ingest(
      (cut) =>
        withSpooledStream(
          stream,
          (file) =>
            cut(() =>
              // Not readRecords(file): messages about the input must name the upload, not the spool file.
              readRecordsFromStream(createReadStream(file, { highWaterMark: SPOOL_READ_CHUNK }), {
                name: opts.name,
              }),
            ),
          { dir: this.deps.spoolDir },
        ),
      opts,
    );
  }

  /**
   * @param withInput calls `cut` with the record source of the input (after preparing it, e.g. spooling a
   *   stream) and releases the input when `cut` settles.
   */
  private async ingest(
    withInput: (cut: (source: RecordSource) => Promise<void>) => Promise<void>,
    opts: {
      name: string;
      user: string;
      replay?: string | undefined;
      onProgress?: ((p: IngestProgress) => void) | undefined;
    },
  ): Promise<{ uploadId: string; chunks: number; records: number }> {
    const uploadId = newPayloadKey();
    await this.uploads.create({ id: uploadId, name: opts.name, createdAt: Date.now(), createdBy: opts.user });
    const read = { records: 0 };
    let chunks = 0;
    try {
      await withInput(async (source) => {
        const cut = cutUpload(
          source,
          {
            uploadId,
            source: opts.name,
            chunkRecords: this.deps.chunkRecords,
            replay: opts.replay,
            onScan: (scanned) => opts.onProgress?.({ uploadId, phase: 'scanning', records: scanned, chunks: 0 }),
          },
          read,
        );
        for await (const chunk of cut) {
          await this.enqueue(chunk);
          chunks++;
          opts.onProgress?.({ uploadId, phase: 'queueing', records: read.records, chunks });
        }
      });
      await this.uploads.seal(uploadId, chunks);
    } catch (err) {
      // The input itself failed (unreadable file, broken stream): keep what was enqueued, say why.
      await this.uploads.seal(
        uploadId,
        chunks,
        `input failed after ${read.records} records: ${(err as Error).message}`,
      );
      throw err;
    }
    return { uploadId, chunks, records: read.records };
  }

  private async enqueue(chunk: RawChunk): Promise<void> {
    const key = await this.store.put(chunk);
    const envelope: Envelope = {
      traceId: randomUUID(),
      chunks: [chunk.chunk],
      createdAt: Date.now(),
      payloadKeys: [key],
    };
    await this.queue.add('parse', envelope, jobOptions('parse', successorJobId('parse', [chunk.chunk])));
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

/**
 * The chunks of one upload, in file order: a pre-pass over `source` learns the upload's clock offsets, a
 * second pass cuts the records into chunks of `chunkRecords`, each carrying the offsets. Pure apart from
 * reading the input (no Redis): the Ingester stores and announces what this yields. `read.records` counts
 * the records of the second pass as they are cut. When the input fails during the second pass, the records
 * read so far are yielded as a last chunk before the error is thrown.
 */
export async function* cutUpload(
  source: RecordSource,
  opts: {
    uploadId: string;
    source: string;
    chunkRecords: number;
    replay?: string | undefined;
    /** Progress of the pre-pass: records read so far. */
    onScan?: ((scanned: number) => void) | undefined;
  },
  read: { records: number } = { records: 0 },
): AsyncGenerator<RawChunk> {
  const learned = await learnUploadOffsets(source(), opts.onScan);
  const clockOffsets = Object.keys(learned).length > 0 ? learned : undefined;
  let items: RawItem[] = [];
  let n = 0;
  const cut = (): RawChunk => {
    const chunk: RawChunk = {
      chunk: chunkId(opts.uploadId, n++),
      source: opts.source,
      items,
      digest: chunkDigest(items, opts.replay, clockOffsets),
      ...(opts.replay ? { replay: opts.replay } : {}),
      ...(clockOffsets ? { clockOffsets } : {}),
    };
    items = [];
    return chunk;
  };
  try {
    for await (const r of source()) {
      read.records++;
      if (isFramingRejection(r))
        items.push({ n: r.recordNo, rejected: r.rejected, firstBytes: r.firstBytes });
      else items.push({ n: r.recordNo, f: r.format, t: r.text });
      if (items.length >= opts.chunkRecords) yield cut();
    }
  } catch (err) {
    if (items.length > 0) yield cut();
    throw err;
  }
  if (items.length > 0) yield cut();
}

const byKey = ([a]: [string, unknown], [b]: [string, unknown]) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Digest of a chunk's content: the same records (under the same replay tag and clock offsets) give the same
 * digest. Offsets are hashed sorted by host, so their order in the object does not matter; a chunk without
 * offsets keeps the digest chunks had before offsets existed.
 */
export function chunkDigest(items: RawItem[], replay?: string, clockOffsets?: ClockOffsetMap): string {
  const h = createHash('sha256');
  h.update(`replay:${replay ?? ''}\n`);
  const clocks = Object.entries(clockOffsets ?? {}).sort(byKey);
  // Item lines start with a format name or `!`, never `clock:`; JSON escapes any newline in a host key.
  if (clocks.length > 0) h.update(`clock:${JSON.stringify(clocks)}\n`);
  for (const it of items) {
    if ('t' in it) h.update(`${it.f}\0${it.t}\n`);
    else h.update(`!${it.n}\0${it.rejected}\0${it.firstBytes}\n`);
  }
  return h.digest('hex');
}

/**
 * Runs `use` on a private copy of a byte stream: a file in `dir` (os.tmpdir() by default) with an
 * unguessable name, created exclusively (never an existing file or link) and readable by this user only
 * (0600). The file is removed when `use` settles, and when the stream fails before that; the stream's or
 * `use`'s error is passed on.
 */
export async function withSpooledStream<T>(
  stream: ByteStream,
  use: (file: string) => Promise<T>,
  opts: { dir?: string | undefined } = {},
): Promise<T> {
  const file = path.join(opts.dir ?? os.tmpdir(), `lensgraph-spool-${randomBytes(16).toString('hex')}`);
  const fh = await open(file, 'wx', 0o600);
  try {
    try {
      for await (const chunk of byteChunks(stream)) await fh.write(chunk);
    } finally {
      await fh.close();
    }
    return await use(file);
  } finally {
    await rm(file, { force: true });
  }
}

