/**
 * hostile (only on request): does memory stay bounded when the input is built to break the reader (issue
 * #10)? Each input is generated into a temporary directory (removed in `finally`), sized well past the
 * limits of pipeline/parsers (README "Limits"), and handed to the production Ingester in this process the
 * way POST /api/ingest hands it an upload: a web byte stream through the same byte limit. The pipeline runs
 * in real worker processes (one per stage, as `npm start`), with its own Redis and Neo4j (bench/lib/stack).
 *
 * Per input: bytes in, records read / accepted / skipped / rejected with the first reasons, whether the
 * good records around the bad ones all came through, wall time from the first byte to every stage done,
 * and the peak resident set of every process during that input: VmHWM reset before each input
 * (/proc/<pid>/clear_refs) and read after it, plus VmRSS sampled every 50 ms (this process:
 * process.memoryUsage.rss()). A baseline file of real telemetry runs first, and a small good upload runs
 * before and after the hostile ones to show that nothing is blocked.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { constants as zlibConstants, createGzip } from 'node:zlib';
import type { Redis } from 'ioredis';
import { createRedis } from '../lib/redis';
import type { UploadProgress } from '../lib/uploads';
import { Ingester } from '../pipeline/ingest';
import {
  DEFAULT_MAX_COMPRESSION_RATIO,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  DEFAULT_MAX_JSON_DEPTH,
  DEFAULT_MAX_LINE_BYTES,
} from '../pipeline/parsers';
import { byteLimit, MAX_UPLOAD_BYTES } from '../server/uploads/ingest-request';
import { DATA_DIR, SIGMA_WINDOWS_DIR, SYSMON_DIR } from './lib/data';
import { loadavg, peakRssMb, processCpuMs, resetPeakRss, rssMb } from './lib/machine';
import { startBenchStack, type BenchStack } from './lib/stack';
import { collectGarbage, round } from './lib/stats';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

export interface HostileOptions {
  quick: boolean;
  /** One entry per worker process: its LENSGRAPH_WORKER_STAGES ('' = all). */
  workers: string[];
  chunkRecords: number;
  sigma: boolean;
  keep: boolean;
  /** Worker processes write CPU profiles into the kept data directory. */
  cpuProf?: boolean;
  log: (line: string) => void;
  /** Registers stops (the stack, the temporary inputs) for the signal handler of run.ts. */
  onStack?: (stop: () => Promise<void>) => void;
  /** Give up waiting for the pipeline on one input after this long. */
  waitTimeoutMs?: number;
}

/** Input sizes: the full run goes far past every limit; --quick only just past them. */
export function hostileSizes(quick: boolean) {
  return {
    /** Real telemetry, read in place: the reference, and the good records around the bad ones. */
    baselineFile: path.join(
      SYSMON_DIR,
      quick ? 'cmd_bitsadmin_download_psh_script.jsonl' : 'empire_launcher_vbs.jsonl',
    ),
    /** Uploaded before and after the hostile inputs (under replay tags, so both build their own nodes). */
    smallGoodFile: path.join(SYSMON_DIR, 'psh_lsass_memory_dump_comsvcs.jsonl'),
    evtxSample: path.join(DATA_DIR, 'evtx/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx'),
    xmlExample: path.join(DATA_DIR, 'evtx-xml-examples/LM_wmiexec_impacket_sysmon_whoami.xml'),
    hugeLineBytes: (quick ? 16 : 200) * MiB,
    deepLevels: 1_000_000,
    xmlTextBytes: (quick ? 16 : 200) * MiB,
    xmlEntityLevels: 12,
    gzipZerosBytes: quick ? 512 * MiB : 8 * GiB,
    /** A bomb under the ratio guard (about 80:1) that only the absolute cap stops; full run only (0 = skip). */
    gzipCapBytes: quick ? 0 : DEFAULT_MAX_DECOMPRESSED_BYTES + 64 * MiB,
    evtxCopies: quick ? 1 : 4,
  };
}
export type HostileSizes = ReturnType<typeof hostileSizes>;

// ---------------------------------------------------------------------------------------------------
// Generating the inputs: streamed to disk, never held whole.

type Part = string | Buffer | AsyncIterable<Buffer>;

/** `total` bytes of `fill` repeated, produced lazily. */
async function* repeatBytes(fill: Buffer, total: number): AsyncGenerator<Buffer> {
  for (let sent = 0; sent < total; sent += fill.length)
    yield fill.subarray(0, Math.min(fill.length, total - sent));
}

async function* concatParts(parts: readonly Part[]): AsyncGenerator<Buffer> {
  for (const p of parts) {
    if (typeof p === 'string') yield Buffer.from(p, 'utf8');
    else if (Buffer.isBuffer(p)) yield p;
    else yield* p;
  }
}

async function writeParts(
  file: string,
  parts: readonly Part[],
  gzip?: { level: number; strategy?: number },
): Promise<number> {
  const source = Readable.from(concatParts(parts));
  const sink = fs.createWriteStream(file);
  if (gzip) await pipeline(source, createGzip({ ...gzip, chunkSize: 256 * 1024 }), sink);
  else await pipeline(source, sink);
  return fs.statSync(file).size;
}

/** The events of a Windows event XML example, between its `<Events>` tags, and its XML declaration. */
function xmlExample(file: string): { decl: string; inner: string; events: number } {
  const text = fs.readFileSync(file, 'utf8');
  const start = text.indexOf('<Events>');
  const end = text.lastIndexOf('</Events>');
  if (start === -1 || end === -1) throw new Error(`${file}: no <Events> wrapper`);
  const decl = /^\s*(<\?xml[^>]*\?>)/.exec(text)?.[1] ?? '<?xml version="1.0" encoding="utf-8"?>';
  const inner = text.slice(start + '<Events>'.length, end);
  return { decl, inner, events: (inner.match(/<Event[\s>]/g) ?? []).length };
}

const EVTX_FILE_HEADER = 0x1000;
const EVTX_CHUNK = 0x10000;

/**
 * Copies of the sample's chunks with damage in the same places in every copy: garbage inside chunk 0,
 * a broken signature on chunk 1, an impossible record size in chunk 3, impossible record numbers in the
 * header of chunk 6, and the file cut inside its last chunk. Returns the records of undamaged chunks
 * (counted from the intact chunk headers): those must all come through.
 */
async function writeBrokenEvtx(
  sample: string,
  file: string,
  copies: number,
): Promise<{ bytes: number; goodRecords: number; damage: string[] }> {
  const src = fs.readFileSync(sample); // about 1 MiB, read in place; only the copy is damaged
  const chunks: Buffer[] = [];
  for (let off = EVTX_FILE_HEADER; off + EVTX_CHUNK <= src.length; off += EVTX_CHUNK) {
    const c = src.subarray(off, off + EVTX_CHUNK);
    if (c.toString('latin1', 0, 8) === 'ElfChnk\0') chunks.push(c);
  }
  if (chunks.length < 8)
    throw new Error(`${sample}: expected at least 8 EVTX chunks, found ${chunks.length}`);
  const damaged = new Set([0, 1, 3, 6]);
  const cutAt = 8000;
  const parts: Buffer[] = [Buffer.from(src.subarray(0, EVTX_FILE_HEADER))];
  let goodRecords = 0;
  for (let k = 0; k < copies; k++) {
    chunks.forEach((orig, i) => {
      const c = Buffer.from(orig);
      const first = c.readBigUInt64LE(8);
      const records = Number(c.readBigUInt64LE(16) - first + 1n);
      const last = k === copies - 1 && i === chunks.length - 1;
      if (i === 0) randomBytes(4000).copy(c, 0x200 + 3000);
      if (i === 1) c.write('XXXXXXXX', 0, 'latin1');
      if (i === 3) c.writeUInt32LE(0x7ffffff0, 0x200 + 4);
      if (i === 6) c.writeBigUInt64LE(first + 1_000_000n, 16);
      if (!damaged.has(i) && !last) goodRecords += records;
      parts.push(last ? c.subarray(0, cutAt) : c);
    });
  }
  const bytes = await writeParts(file, parts);
  return {
    bytes,
    goodRecords,
    damage: [
      `${copies} copies of the ${chunks.length} chunks of ${path.basename(sample)}, in each:`,
      'chunk 0: 4,000 random bytes inside its records',
      'chunk 1: chunk signature overwritten',
      'chunk 3: first record claims 2 GiB',
      'chunk 6: header claims 1,000,000 more records',
      `last chunk of the file cut after ${cutAt} bytes`,
    ],
  };
}

/** What an input must give; `good` counts records that parsed (accepted + skipped). */
interface Expectation {
  /** null: no good records by design (the note says why). */
  good: number | null;
  goodAtLeast?: boolean;
  accepted?: number;
  rejected?: number;
  note?: string;
}

interface InputSpec {
  name: string;
  what: string;
  file: string;
  /** 'upload': a web byte stream as POST /api/ingest passes it; 'file': ingestFile under a replay tag. */
  via: 'upload' | 'file';
  replay?: string;
  inPlace?: boolean;
  expandsTo?: number;
  expect: Expectation | ((ref: Counts) => Expectation);
}

interface Counts {
  read: number;
  accepted: number;
  skipped: number;
  rejected: number;
}

async function generateInputs(dir: string, sizes: HostileSizes, log: (line: string) => void) {
  const lines = fs
    .readFileSync(sizes.baselineFile, 'utf8')
    .split('\n')
    .map((l) => l.replace(/\r$/, ''))
    .filter((l) => l.trim() !== '');
  const half = Math.floor(lines.length / 2);
  const head = lines.slice(0, half).join('\n') + '\n';
  const tail = lines.slice(half).join('\n') + '\n';
  const all = head + tail;
  const f = (name: string) => path.join(dir, name);
  /** The good lines around `bad`: the same records as the baseline, plus `bad` rejections. */
  const aroundBaseline =
    (bad: number) =>
    (ref: Counts): Expectation => ({
      good: ref.accepted + ref.skipped,
      accepted: ref.accepted,
      rejected: ref.rejected + bad,
    });
  const specs: InputSpec[] = [];
  const t0 = Date.now();

  specs.push({
    name: 'baseline',
    what: `${path.basename(sizes.baselineFile)} (${lines.length} lines, read in place)`,
    file: sizes.baselineFile,
    via: 'upload',
    inPlace: true,
    expect: { good: null, note: 'the reference' },
  });

  const filler = Buffer.alloc(MiB, 'x');
  await writeParts(f('huge-line.jsonl'), [
    head,
    '{"EventID":1,"CommandLine":"',
    repeatBytes(filler, sizes.hugeLineBytes),
    '"}\n',
    tail,
  ]);
  specs.push({
    name: 'huge-line',
    what: `JSON lines: the baseline's lines with one ${round(sizes.hugeLineBytes / MiB)} MiB line in the middle`,
    file: f('huge-line.jsonl'),
    via: 'upload',
    expect: aroundBaseline(1),
  });

  const asArray = (s: string) => s.trimEnd().split('\n').join(',\n');
  await writeParts(f('huge-array-value.json'), [
    '[\n',
    asArray(head),
    ',\n{"EventID":1,"CommandLine":"',
    repeatBytes(filler, sizes.hugeLineBytes),
    '"},\n',
    asArray(tail),
    '\n]\n',
  ]);
  specs.push({
    name: 'huge-array-value',
    what: `JSON array: the baseline's records with one ${round(sizes.hugeLineBytes / MiB)} MiB element in the middle`,
    file: f('huge-array-value.json'),
    via: 'upload',
    expect: aroundBaseline(1),
  });

  // Just under the line limit, so the parse stage's depth check (not the framer's size limit) must stop it.
  const underLimitLevels = Math.floor((DEFAULT_MAX_LINE_BYTES - 16) / 6);
  await writeParts(f('deep.jsonl'), [
    head,
    '['.repeat(sizes.deepLevels),
    ']'.repeat(sizes.deepLevels),
    '\n',
    '{"a":'.repeat(underLimitLevels),
    '1',
    '}'.repeat(underLimitLevels),
    '\n',
    tail,
  ]);
  specs.push({
    name: 'deep-json',
    what: `JSON lines: the baseline's lines with ${sizes.deepLevels.toLocaleString('en-US')} nested arrays on one line and ${underLimitLevels.toLocaleString('en-US')} nested objects (just under the line limit) on the next`,
    file: f('deep.jsonl'),
    via: 'upload',
    expect: aroundBaseline(2),
  });

  const xml = xmlExample(sizes.xmlExample);
  const n = sizes.xmlEntityLevels;
  const entities = Array.from(
    { length: n },
    (_, i) => ` <!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`,
  );
  await writeParts(f('billion-laughs.xml'), [
    [
      xml.decl,
      '<!DOCTYPE Events [',
      ' <!ENTITY lol "lol">',
      ...entities,
      ']>',
      `<Events>${xml.inner}<Event><System><EventID>1</EventID><Computer>&lol${n};</Computer></System></Event></Events>`,
      '',
    ].join('\n'),
  ]);
  specs.push({
    name: 'xml-billion-laughs',
    what: `Windows event XML: ${xml.events} real events and one whose Computer is &lol${n}; (${n} entity levels of 10, 3e${n} bytes expanded)`,
    file: f('billion-laughs.xml'),
    via: 'upload',
    expandsTo: 3 * 10 ** n,
    expect: {
      good: null,
      rejected: 1,
      note: 'a DOCTYPE refuses the whole XML input before any expansion (by design)',
    },
  });

  await writeParts(f('huge-xml-text.xml'), [
    `${xml.decl}\n<Events>${xml.inner}<Event><System><Computer>`,
    repeatBytes(Buffer.alloc(MiB, 'a'), sizes.xmlTextBytes),
  ]);
  specs.push({
    name: 'xml-huge-text',
    what: `Windows event XML: ${xml.events} real events, then a Computer element of ${round(sizes.xmlTextBytes / MiB)} MiB text (never closed)`,
    file: f('huge-xml-text.xml'),
    via: 'upload',
    expect: { good: xml.events, rejected: 1 },
  });

  // Zeros through zlib as they are produced: about 1,000:1 (Z_RLE is as tight as level 9 on zeros and much faster).
  await writeParts(f('zeros.jsonl.gz'), [all, repeatBytes(Buffer.alloc(MiB), sizes.gzipZerosBytes)], {
    level: 1,
    strategy: zlibConstants.Z_RLE,
  });
  specs.push({
    name: 'gzip-bomb',
    what: `gzip: the baseline's lines, then ${round(sizes.gzipZerosBytes / GiB, 2)} GiB of zeros (compression ratio guard)`,
    file: f('zeros.jsonl.gz'),
    via: 'upload',
    expandsTo: Buffer.byteLength(all) + sizes.gzipZerosBytes,
    expect: aroundBaseline(1),
  });

  if (sizes.gzipCapBytes > 0) {
    // A 16 KiB block of random letters repeated compresses about 80:1: under the ratio guard, so only the
    // absolute cap on decompressed bytes stops it. No newline: one line, dropped as it streams.
    const block = Buffer.from(Array.from(randomBytes(16 * 1024), (b) => 97 + (b % 26)));
    const fill = Buffer.concat(Array.from({ length: MiB / block.length }, () => block));
    await writeParts(f('letters.jsonl.gz'), [all, repeatBytes(fill, sizes.gzipCapBytes)], { level: 1 });
    specs.push({
      name: 'gzip-bomb-cap',
      what: `gzip: the baseline's lines, then ${round(sizes.gzipCapBytes / GiB, 2)} GiB of one line at about 80:1 (absolute cap)`,
      file: f('letters.jsonl.gz'),
      via: 'upload',
      expandsTo: Buffer.byteLength(all) + sizes.gzipCapBytes,
      expect: aroundBaseline(1),
    });
  }

  const evtx = await writeBrokenEvtx(sizes.evtxSample, f('broken.evtx'), sizes.evtxCopies);
  specs.push({
    name: 'evtx-broken',
    what: `EVTX: ${evtx.damage.join('; ')}`,
    file: f('broken.evtx'),
    via: 'upload',
    expect: { good: evtx.goodRecords, goodAtLeast: true, note: 'every record of the undamaged chunks' },
  });

  log(`hostile: ${specs.length - 1} hostile inputs generated in ${Date.now() - t0} ms in ${dir}`);
  return specs;
}

// ---------------------------------------------------------------------------------------------------
// Running one input.

/** A file as an HTTP upload body arrives: a web byte stream of 64 KiB pieces, read only when pulled. */
function uploadBody(file: string, pieceBytes = 64 * 1024): ReadableStream<Uint8Array> {
  let fh: FileHandle | undefined;
  const close = async () => {
    const h = fh;
    fh = undefined;
    await h?.close();
  };
  return new ReadableStream<Uint8Array>({
    async start() {
      fh = await open(file, 'r');
    },
    async pull(controller) {
      try {
        const buf = Buffer.allocUnsafe(pieceBytes);
        const { bytesRead } = await fh!.read(buf, 0, pieceBytes, null);
        if (bytesRead === 0) {
          await close();
          controller.close();
        } else controller.enqueue(buf.subarray(0, bytesRead));
      } catch (err) {
        await close();
        controller.error(err);
      }
    },
    cancel: close,
  });
}

interface Proc {
  name: string;
  label: string;
  pid: number;
}

/** Highest RSS seen per process, sampled (this process through process.memoryUsage.rss()). */
class RssPeaks {
  private readonly peak = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly procs: readonly Proc[]) {}

  start(everyMs: number): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  private sample(): void {
    for (const p of this.procs) {
      const mb = p.pid === process.pid ? process.memoryUsage.rss() / MiB : rssMb(p.pid);
      if (mb !== null) this.peak.set(p.label, Math.max(mb, this.peak.get(p.label) ?? 0));
    }
  }

  stop(): Record<string, number> {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    return Object.fromEntries([...this.peak].map(([k, v]) => [k, round(v, 1)]));
  }
}

export interface ProcessMemory {
  /** RSS when the input started (after a GC here and the VmHWM reset). */
  beforeMb: number | null;
  /** VmHWM after the input: the peak during it when `hwmReset`, else since the process started. */
  hwmMb: number | null;
  /** Highest VmRSS of the 50 ms samples. */
  sampledMb: number | null;
}

export interface InputRun {
  name: string;
  what: string;
  file: string;
  via: 'upload' | 'file';
  bytesIn: number;
  expandsTo: number | null;
  uploadId: string;
  chunks: number;
  records: Counts;
  rejectedBy: Record<string, number>;
  firstRejections: Array<{ recordNo: number; reason: string }>;
  good: {
    expected: number | null;
    atLeast: boolean;
    kept: number;
    allKept: boolean | null;
    note: string | null;
  };
  rejectedAsExpected: boolean | null;
  failedChunks: number;
  ingestError: string | null;
  uploadError: string | null;
  ingestMs: number;
  wallMs: number;
  hwmReset: boolean;
  memory: Record<string, ProcessMemory>;
  cpuSeconds: Record<string, number | null>;
  loadavg: { start: number[]; end: number[] };
}

function counts(p: UploadProgress): Counts {
  const sum = (o: Record<string, number>) => Object.values(o).reduce((a, b) => a + b, 0);
  return {
    read: p.records.read,
    accepted: p.records.accepted,
    skipped: sum(p.records.skipped),
    rejected: sum(p.records.rejected),
  };
}

async function runInput(
  spec: InputSpec,
  ref: Counts | undefined,
  ctx: { ingester: Ingester; procs: readonly Proc[]; timeoutMs: number; log: (line: string) => void },
): Promise<InputRun> {
  const { ingester, procs } = ctx;
  const bytesIn = fs.statSync(spec.file).size;
  collectGarbage();
  const hwmReset = procs.map((p) => resetPeakRss(p.pid)).every(Boolean);
  const before: Record<string, number | null> = {};
  const cpu0: Record<string, number | null> = {};
  for (const p of procs) {
    before[p.label] = p.pid === process.pid ? round(process.memoryUsage.rss() / MiB, 1) : rssMb(p.pid);
    cpu0[p.label] = processCpuMs(p.pid);
  }
  const load0 = loadavg();
  const sampler = new RssPeaks(procs);
  sampler.start(50);
  const t0 = Date.now();
  let uploadId: string | undefined;
  let chunks = 0;
  let ingestError: string | null = null;
  try {
    const up =
      spec.via === 'upload'
        ? await ingester.ingestStream(uploadBody(spec.file).pipeThrough(byteLimit(MAX_UPLOAD_BYTES)), {
            name: spec.name,
            user: 'bench',
          })
        : await ingester.ingestFile(spec.file, {
            name: spec.name,
            user: 'bench',
            ...(spec.replay ? { replay: spec.replay } : {}),
          });
    uploadId = up.uploadId;
    chunks = up.chunks;
  } catch (err) {
    // The ingester sealed the upload with the reason before rethrowing: it is the newest one.
    ingestError = (err as Error).message;
    uploadId = (await ingester.uploads.list(1))[0];
  }
  const tEnqueued = Date.now();
  if (uploadId === undefined) {
    sampler.stop();
    throw new Error(`${spec.name}: no upload was created (${ingestError ?? 'unknown error'})`);
  }
  let progress: UploadProgress | undefined;
  let sampled: Record<string, number> = {};
  try {
    [progress] = await ingester.waitFor([uploadId], { timeoutMs: ctx.timeoutMs });
  } finally {
    sampled = sampler.stop();
  }
  const tDone = Date.now();
  const memory: Record<string, ProcessMemory> = {};
  const cpuSeconds: Record<string, number | null> = {};
  for (const p of procs) {
    memory[p.label] = {
      beforeMb: before[p.label] ?? null,
      hwmMb: peakRssMb(p.pid),
      sampledMb: sampled[p.label] ?? null,
    };
    const c0 = cpu0[p.label];
    const c1 = processCpuMs(p.pid);
    cpuSeconds[p.label] = c0 === null || c0 === undefined || c1 === null ? null : round((c1 - c0) / 1000, 2);
  }
  const p = progress!;
  const rec = counts(p);
  const rejections = await ingester.uploads.rejected(uploadId, 5);
  const exp =
    typeof spec.expect === 'function'
      ? spec.expect(ref ?? { read: 0, accepted: 0, skipped: 0, rejected: 0 })
      : spec.expect;
  const kept = rec.accepted + rec.skipped;
  const allKept =
    exp.good === null
      ? null
      : (exp.goodAtLeast ? kept >= exp.good : kept === exp.good) &&
        (exp.accepted === undefined || rec.accepted === exp.accepted) &&
        p.failed === 0;
  return {
    name: spec.name,
    what: spec.what,
    file: spec.inPlace ? path.relative(process.cwd(), spec.file) : path.basename(spec.file),
    via: spec.via,
    bytesIn,
    expandsTo: spec.expandsTo ?? null,
    uploadId,
    chunks: p.totalChunks ?? chunks,
    records: rec,
    rejectedBy: p.records.rejected,
    firstRejections: rejections.map((r) => ({ recordNo: r.recordNo, reason: r.reason.slice(0, 300) })),
    good: { expected: exp.good, atLeast: exp.goodAtLeast ?? false, kept, allKept, note: exp.note ?? null },
    rejectedAsExpected: exp.rejected === undefined ? null : rec.rejected === exp.rejected,
    failedChunks: p.failed,
    ingestError,
    uploadError: p.error ?? null,
    ingestMs: tEnqueued - t0,
    wallMs: tDone - t0,
    hwmReset,
    memory,
    cpuSeconds,
    loadavg: { start: load0, end: loadavg() },
  };
}

// ---------------------------------------------------------------------------------------------------

export async function benchHostile(opts: HostileOptions) {
  const sizes = hostileSizes(opts.quick);
  const timeoutMs = opts.waitTimeoutMs ?? (opts.quick ? 5 : 15) * 60_000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-hostile-'));
  const removeDir = async () => fs.rmSync(dir, { recursive: true, force: true });
  opts.onStack?.(removeDir);
  let stack: BenchStack | undefined;
  let redis: Redis | undefined;
  let ingester: Ingester | undefined;
  try {
    const tGen = Date.now();
    const specs = await generateInputs(dir, sizes, opts.log);
    const generateMs = Date.now() - tGen;

    stack = await startBenchStack({
      workers: opts.workers,
      sigmaDirs: opts.sigma ? [SIGMA_WINDOWS_DIR] : [],
      log: opts.log,
      keep: opts.keep,
      cpuProf: opts.cpuProf,
    });
    opts.onStack?.(stack.stop);
    const s = stack;
    redis = createRedis(s.redisUrl, { connectionName: 'lensgraph-bench' });
    ingester = new Ingester({
      redis,
      prefix: s.prefix,
      payloadTtlSeconds: 6 * 3600,
      chunkRecords: opts.chunkRecords,
    });

    // Labels by stage ("parse"), numbered when a stage has several processes.
    const seen = new Map<string, number>();
    for (const w of s.workers) seen.set(w.stages, (seen.get(w.stages) ?? 0) + 1);
    const nth = new Map<string, number>();
    const procs: Proc[] = s.processes().map((p) => {
      const w = s.workers.find((x) => x.pid === p.pid);
      if (!w) return { ...p, label: p.name };
      const i = (nth.get(w.stages) ?? 0) + 1;
      nth.set(w.stages, i);
      return { ...p, label: (seen.get(w.stages) ?? 1) > 1 ? `${w.stages}#${i}` : w.stages };
    });
    const startupHwmMb = Object.fromEntries(
      procs.map((p) => [p.label, p.name === 'bench' ? null : peakRssMb(p.pid)]),
    );
    const ctx = { ingester, procs, timeoutMs, log: opts.log };

    const small = sizes.smallGoodFile;
    const smallSpec = (tag: string, expect: Expectation): InputSpec => ({
      name: `good-upload-${tag}`,
      what: `${path.basename(small)} (read in place, replay tag "${tag}")`,
      file: small,
      via: 'file',
      // Replay tags are [A-Za-z0-9]{1,16} (the parse stage fails a chunk with any other).
      replay: `hostile${tag}`,
      inPlace: true,
      expect,
    });

    const runs: InputRun[] = [];
    const one = async (spec: InputSpec, ref?: Counts) => {
      opts.log(`hostile: ${spec.name} (${(fs.statSync(spec.file).size / MiB).toFixed(1)} MiB) ...`);
      const r = await runInput(spec, ref, ctx);
      runs.push(r);
      const m = r.memory;
      opts.log(
        `hostile: ${r.name}: ${r.records.read} read, ${r.records.accepted} accepted, ${r.records.skipped} skipped, ` +
          `${r.records.rejected} rejected in ${r.wallMs} ms; good kept ${r.good.allKept ?? 'n/a'}; ` +
          `peak MiB ${procs.map((p) => `${p.label} ${m[p.label]?.hwmMb ?? m[p.label]?.sampledMb ?? '?'}`).join(', ')}`,
      );
      return r;
    };

    const before = await one(
      smallSpec('before', { good: null, rejected: 0, note: 'reference for the upload after' }),
    );
    const baseline = await one(specs[0]!);
    for (const spec of specs.slice(1)) await one(spec, baseline.records);
    await one(
      smallSpec('after', {
        good: before.records.accepted + before.records.skipped,
        accepted: before.records.accepted,
        rejected: 0,
        note: 'same counts as the upload before the hostile inputs',
      }),
    );
    const after = runs[runs.length - 1]!;

    // Per process: the highest per-input peak of the hostile inputs over the baseline's.
    const hostile = runs.filter((r) => r !== before && r !== after && r !== baseline);
    const peak = (r: InputRun, label: string) => r.memory[label]?.hwmMb ?? r.memory[label]?.sampledMb ?? null;
    const overBaselineMb: Record<
      string,
      { baselineMb: number | null; maxHostileMb: number | null; input: string | null; overMb: number | null }
    > = {};
    for (const p of procs) {
      let top: InputRun | undefined;
      for (const r of hostile)
        if (top === undefined || (peak(r, p.label) ?? 0) > (peak(top, p.label) ?? 0)) top = r;
      const b = peak(baseline, p.label);
      const h = top ? peak(top, p.label) : null;
      overBaselineMb[p.label] = {
        baselineMb: b,
        maxHostileMb: h,
        input: top?.name ?? null,
        overMb: b === null || h === null ? null : round(h - b, 1),
      };
    }

    return {
      quick: opts.quick,
      limits: {
        maxLineBytes: DEFAULT_MAX_LINE_BYTES,
        maxJsonDepth: DEFAULT_MAX_JSON_DEPTH,
        maxDecompressedBytes: DEFAULT_MAX_DECOMPRESSED_BYTES,
        maxCompressionRatio: DEFAULT_MAX_COMPRESSION_RATIO,
        maxUploadBytes: MAX_UPLOAD_BYTES,
      },
      sizes: {
        ...sizes,
        baselineFile: path.basename(sizes.baselineFile),
        smallGoodFile: path.basename(sizes.smallGoodFile),
        evtxSample: path.basename(sizes.evtxSample),
        xmlExample: path.basename(sizes.xmlExample),
      },
      layout: {
        note: 'worker child processes running pipeline/main.ts; the bench process runs the Ingester, fed as POST /api/ingest feeds it',
        workers: s.workers.map((w) => ({
          name: w.name,
          stages: w.stages,
          label: procs.find((p) => p.pid === w.pid)?.label ?? w.name,
        })),
        chunkRecords: opts.chunkRecords,
        sigma: opts.sigma,
      },
      generateMs,
      startupMs: s.startupMs,
      /** VmHWM of each process once the stack was up (workers: Sigma rules loaded), before any input. */
      startupHwmMb,
      hwmReset: runs.every((r) => r.hwmReset),
      inputs: runs,
      summary: {
        allGoodKept: runs.every((r) => r.good.allKept !== false),
        allRejectedAsExpected: runs.every((r) => r.rejectedAsExpected !== false),
        failedChunks: runs.reduce((a, r) => a + r.failedChunks, 0),
        afterUpload: {
          wentThrough: after.failedChunks === 0 && after.good.allKept === true && after.ingestError === null,
          wallMs: after.wallMs,
          wallMsBefore: before.wallMs,
        },
        overBaselineMb,
      },
    };
  } finally {
    await ingester?.close().catch(() => undefined);
    redis?.disconnect();
    if (stack) {
      opts.log('hostile: stopping the stack ...');
      await stack.stop();
    }
    await removeDir();
  }
}

export type HostileResult = Awaited<ReturnType<typeof benchHostile>>;
