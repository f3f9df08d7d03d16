/**
 * parse: records/s of the parse stage's own work (`parseChunk` over chunks of raw records, cut as the
 * ingester cuts them) beside plain `JSON.parse` of the same lines in the same process (the physical
 * ceiling: every record is one JSON value that must at least be decoded). Lines are read into memory
 * first, so file I/O and gunzip are excluded from both; they are reported apart as `framing`.
 * Runs alternate between the two so that drift in machine load hits both alike; medians are reported.
 */
import path from 'node:path';
import type { RawItem } from '../pipeline/payloads';
import { parseChunk } from '../pipeline/stages/parse/handler';
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

  for (let i = 0; i < opts.warmup; i++) {
    sink += jsonParse();
    sink += stage();
  }
  const jsonRuns: Timing[] = [];
  const stageRuns: Timing[] = [];
  for (let i = 0; i < opts.runs; i++) {
    const order = i % 2 === 0 ? (['json', 'stage'] as const) : (['stage', 'json'] as const);
    for (const which of order) {
      collectGarbage();
      const t = timed(which === 'json' ? jsonParse : stage);
      sink += t.value;
      (which === 'json' ? jsonRuns : stageRuns).push({ ms: t.ms, cpuMs: t.cpuMs });
    }
  }
  if (sink < 0) opts.log('unreachable');

  const records = items.length;
  const j = summarize(jsonRuns);
  const s = summarize(stageRuns);
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
    /** parseChunk throughput as a fraction of JSON.parse throughput (1 = no cost beyond decoding). */
    ratio: round(j.medianMs / s.medianMs, 3),
    ratioCpu: round(j.medianCpuMs / s.medianCpuMs, 3),
  };
}

export type ParseBenchResult = Awaited<ReturnType<typeof benchParse>>;
