/**
 * parse: records/s of the parse stage's own work (`parseChunk` over chunks of raw records, cut as the
 * ingester cuts them) beside plain `JSON.parse` of the same lines in the same process (the physical
 * ceiling: every record is one JSON value that must at least be decoded). Lines are read into memory
 * first, so file I/O and gunzip are excluded from both; they are reported apart as `framing`.
 * `parseWorker` adds what the worker pays before parseChunk: decoding each chunk's stored payload (gunzip,
 * UTF-8, JSON, schema; lib/payload-store.ts), all of its CPU per chunk apart from Redis.
 * Runs rotate between the three so that drift in machine load hits them alike; medians are reported.
 */
import path from 'node:path';
import { decodePayload, encodePayload } from '../lib/payload-store';
import type { RawItem } from '../pipeline/payloads';
import { parseChunk, parseStage } from '../pipeline/stages/parse/handler';
import { KILL_CHAIN_FILE, cutChunks, readRawItems } from './lib/data';
import { collectGarbage, perSecond, round, summarize, timed, timedAsync, type Timing } from './lib/stats';

export interface ParseBenchOptions {
  file?: string;
  runs: number;
  warmup: number;
  /** Records per chunk (the ingester's LENSGRAPH_CHUNK_RECORDS, default 2000). */
  chunkRecords: number;
  /** Use only the first N records. */
  limit?: number;
  log: (line: string) => void;
}

export async function benchParse(opts: ParseBenchOptions) {
  const file = opts.file ?? KILL_CHAIN_FILE;
  const framing = await timedAsync(() => readRawItems(file, opts.limit));
  const items = framing.value;
  const texts = items.filter((i): i is Extract<RawItem, { t: string }> => 't' in i).map((i) => i.t);
  const bytes = texts.reduce((a, t) => a + Buffer.byteLength(t), 0);
  const chunks = cutChunks(items, opts.chunkRecords, path.basename(file));
  opts.log(`parse: ${items.length} records (${round(bytes / 2 ** 20, 1)} MiB of JSON) in ${chunks.length} chunks`);

  let sink = 0;
  const jsonParse = (): number => {
    let n = 0;
    for (const t of texts) if (JSON.parse(t) !== null) n++;
    return n;
  };
  let events = 0;
  let skipped = 0;
  let rejected = 0;
  const stage = (): number => {
    let ev = 0;
    let sk = 0;
    let rj = 0;
    for (const c of chunks) {
      const r = parseChunk(c);
      ev += r.events.length;
      for (const v of Object.values(r.stats.skipped)) sk += v;
      rj += r.rejected.length;
    }
    events = ev;
    skipped = sk;
    rejected = rj;
    return ev;
  };

  // Stored as the ingester stores them (not timed: the ingester's work).
  const bodies = chunks.map((c) => encodePayload(c));
  const payloadBytes = bodies.reduce((a, b) => a + b.length, 0);
  const worker = (): number => {
    let ev = 0;
    for (const body of bodies) {
      ev += parseChunk(decodePayload('bench', body, parseStage.payload)).events.length;
    }
    return ev;
  };

  for (let i = 0; i < opts.warmup; i++) {
    sink += jsonParse();
    sink += stage();
    sink += worker();
  }
  const kinds = ['json', 'stage', 'worker'] as const;
  const fns = { json: jsonParse, stage, worker };
  const runs: Record<(typeof kinds)[number], Timing[]> = { json: [], stage: [], worker: [] };
  for (let i = 0; i < opts.runs; i++) {
    for (let k = 0; k < kinds.length; k++) {
      const which = kinds[(i + k) % kinds.length]!;
      collectGarbage();
      const t = timed(fns[which]);
      sink += t.value;
      runs[which].push({ ms: t.ms, cpuMs: t.cpuMs });
    }
  }
  if (sink < 0) opts.log('unreachable');

  const records = items.length;
  const j = summarize(runs.json);
  const s = summarize(runs.stage);
  const w = summarize(runs.worker);
  const rate = (ms: number) => round(perSecond(records, ms));
  return {
    file: path.basename(file),
    records,
    jsonBytes: bytes,
    chunks: chunks.length,
    chunkRecords: opts.chunkRecords,
    events,
    skipped,
    rejected,
    framing: {
      note: 'readRecords over the file (read + gunzip + line framing), one run, not part of the ratio',
      ms: round(framing.ms, 1),
      cpuMs: round(framing.cpuMs, 1),
      recordsPerSec: rate(framing.ms),
    },
    jsonParse: { ...j, recordsPerSec: rate(j.medianMs), recordsPerCpuSec: rate(j.medianCpuMs) },
    parseChunk: { ...s, recordsPerSec: rate(s.medianMs), recordsPerCpuSec: rate(s.medianCpuMs) },
    parseWorker: {
      note: 'decodePayload (gunzip, UTF-8, JSON.parse, schema) of each stored chunk + parseChunk',
      payloadBytes,
      ...w,
      recordsPerSec: rate(w.medianMs),
      recordsPerCpuSec: rate(w.medianCpuMs),
    },
    /** parseChunk throughput as a fraction of JSON.parse throughput (1 = no cost beyond decoding). */
    ratio: round(j.medianMs / s.medianMs, 3),
    ratioCpu: round(j.medianCpuMs / s.medianCpuMs, 3),
  };
}

export type ParseBenchResult = Awaited<ReturnType<typeof benchParse>>;
