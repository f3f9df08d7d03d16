/**
 * scale (only on request, heavy): the 16 dev set files replayed again and again, each upload under its own
 * replay tag (new host names, remapped GUIDs: parse/replay.ts), until about `targetEvents` records went
 * in. At most `window` uploads are in flight at once (a closed-loop load), so the figures are a sustained
 * rate and the latency an upload sees at that rate, not the drain time of one huge backlog.
 *
 * Per upload: `done` = ingest start -> every stage finished every chunk; `detect` = ingest start -> the
 * first Risk node on one of the file's ground-truth malicious processes (polled in Neo4j every
 * `PROBE_MS`; files whose attack raises no Risk count as undetected). Latencies are given over every upload
 * and over the uploads after the first round of the dev set (`warm`): the first round meets a cold JVM
 * that plans every statement once, which a long-running deployment pays once, not per upload.
 */
import path from 'node:path';
import type { Redis } from 'ioredis';
import { GraphGateway } from '../lib/neo4j';
import { createRedis } from '../lib/redis';
import { processGuidKey } from '../pipeline/graph/keys';
import { Ingester } from '../pipeline/ingest';
import { replayGuid } from '../pipeline/stages/parse/replay';
import { SIGMA_WINDOWS_DIR, devSetFiles, loadTruth } from './lib/data';
import { RssSampler, jvmCpuBetween, peakRssMb, processCpuMs, threadCpuMs } from './lib/machine';
import { graphSize, stageTimelines } from './lib/pipeline-probe';
import { startBenchStack, type BenchStack } from './lib/stack';
import { percentile, perSecond, round } from './lib/stats';

export interface ScaleOptions {
  workers: string[];
  chunkRecords: number;
  sigma: boolean;
  targetEvents: number;
  window: number;
  maxMinutes: number;
  keep: boolean;
  /** Worker processes write CPU profiles into the kept data directory. */
  cpuProf?: boolean;
  log: (line: string) => void;
  onStack?: (stop: () => Promise<void>) => void;
  /** Give up waiting for the last uploads after this long. Default 60 min. */
  drainTimeoutMs?: number;
}

interface Upload {
  id: string;
  tag: string;
  file: string;
  records: number;
  accepted: number;
  failed: number;
  /** Position in the replay: uploads from `files.length` on are the warm ones. */
  index: number;
  startMs: number;
  doneMs?: number;
  detectMs?: number;
  expected: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * How often the probe looks for detections and finished uploads: the resolution of both latencies. Each
 * probe is one index lookup per malicious process of the uploads in flight (about 2 ms of Neo4j time).
 */
const PROBE_MS = 250;

export async function benchScale(opts: ScaleOptions) {
  const files = devSetFiles();
  const truth = loadTruth();
  let stack: BenchStack | undefined;
  let redis: Redis | undefined;
  let gateway: GraphGateway | undefined;
  let ingester: Ingester | undefined;
  try {
    stack = await startBenchStack({ workers: opts.workers, sigmaDirs: opts.sigma ? [SIGMA_WINDOWS_DIR] : [], log: opts.log, keep: opts.keep, cpuProf: opts.cpuProf });
    opts.onStack?.(stack.stop);
    const s = stack;
    const r = (redis = createRedis(s.redisUrl, { connectionName: 'lensgraph-bench' }));
    const g = (gateway = new GraphGateway(s.neo4j));
    const ing = (ingester = new Ingester({ redis: r, prefix: s.prefix, payloadTtlSeconds: 6 * 3600, chunkRecords: opts.chunkRecords }));

    const uploads: Upload[] = [];
    const sampler = new RssSampler(() => s.processes());
    sampler.start(2000);
    const cpu0 = Object.fromEntries(s.processes().map((p) => [p.name, processCpuMs(p.pid)]));
    const threads0 = threadCpuMs(s.neo4jPid);
    const t0 = Date.now();
    const deadline = t0 + opts.maxMinutes * 60_000;
    let polling = true;
    let pollError: unknown;

    const poll = async () => {
      while (polling) {
        const now = Date.now() - t0;
        const open = uploads.filter((u) => u.doneMs === undefined);
        const progress = await Promise.all(open.map((u) => ing.uploads.progress(u.id)));
        open.forEach((u, i) => {
          const p = progress[i];
          if (!p?.done) return;
          u.doneMs = now;
          u.accepted = p.records.accepted;
          u.failed = p.failed;
        });
        // A Risk on a ground-truth malicious process of the upload's replay: the detection is visible.
        const waiting = uploads.filter((u) => u.detectMs === undefined && u.expected.length > 0 && (u.doneMs === undefined || u.doneMs === now));
        if (waiting.length > 0) {
          const keys = waiting.flatMap((u) => u.expected);
          const rows = await g.query<{ k: string }>(
            'bench.scale.detected',
            'UNWIND $keys AS k MATCH (p:Process {key: k}) WHERE EXISTS { (p)-[:HAS_RISK]->(:Risk) } RETURN k',
            { keys },
          );
          const hit = new Set(rows.map((x) => x.k));
          for (const u of waiting) if (u.expected.some((k) => hit.has(k))) u.detectMs = now;
        }
        await sleep(PROBE_MS);
      }
    };
    const poller = poll().catch((err: unknown) => {
      pollError = err;
    });

    let ingested = 0;
    let lastLog = 0;
    try {
      for (let i = 0; ingested < opts.targetEvents && Date.now() < deadline; i++) {
        while (uploads.filter((u) => u.doneMs === undefined).length >= opts.window) {
          if (pollError) throw pollError;
          await sleep(200);
        }
        const file = files[i % files.length]!;
        const name = path.basename(file);
        const tag = `s${String(i).padStart(5, '0')}`;
        const startMs = Date.now() - t0;
        const bad = [...(truth.byDataset.get(name) ?? [])];
        const up = await ing.ingestFile(file, { name: `${tag}-${name}`, replay: tag });
        uploads.push({
          id: up.uploadId,
          tag,
          index: i,
          file: name,
          records: up.records,
          accepted: 0,
          failed: 0,
          startMs,
          expected: bad.map((guid) => processGuidKey(replayGuid(guid, tag))),
        });
        ingested += up.records;
        if (Date.now() - lastLog > 15_000) {
          lastLog = Date.now();
          const done = uploads.filter((u) => u.doneMs !== undefined);
          const doneRecords = done.reduce((a, u) => a + u.records, 0);
          opts.log(`scale: ${Math.round((Date.now() - t0) / 1000)} s: ${uploads.length} uploads, ${ingested} records in, ${done.length} done (${doneRecords} records, ${Math.round(perSecond(doneRecords, Date.now() - t0))}/s)`);
        }
      }
    } catch (err) {
      polling = false;
      throw err;
    }
    const drainBy = Date.now() + (opts.drainTimeoutMs ?? 60 * 60_000);
    while (uploads.some((u) => u.doneMs === undefined) && Date.now() < drainBy && !pollError) await sleep(500);
    await sleep(1500); // one more poll for detections of the last uploads
    polling = false;
    await poller;
    if (pollError) throw pollError;
    const tEnd = Date.now();
    const cpu1 = Object.fromEntries(s.processes().map((p) => [p.name, processCpuMs(p.pid)]));
    const neo4jThreadsCpuS = jvmCpuBetween(threads0, threadCpuMs(s.neo4jPid));
    const rss = sampler.stop();
    const lastDone = Math.max(...uploads.map((u) => u.doneMs ?? tEnd - t0));

    const done = uploads.filter((u) => u.doneMs !== undefined);
    const doneLat = (list: Upload[]) => list.filter((u) => u.doneMs !== undefined).map((u) => (u.doneMs! - u.startMs) / 1000);
    const detectLat = (list: Upload[]) => list.filter((u) => u.detectMs !== undefined).map((u) => (u.detectMs! - u.startMs) / 1000);
    const warm = uploads.filter((u) => u.index >= files.length);
    const records = uploads.reduce((a, u) => a + u.records, 0);
    const accepted = uploads.reduce((a, u) => a + u.accepted, 0);
    const lat = (v: number[]) => ({
      p50: round(percentile(v, 50), 1),
      p95: round(percentile(v, 95), 1),
      max: v.length ? round(Math.max(...v), 1) : null,
    });
    // Throughput per tenth of the run: does it hold up as the graph grows?
    const tenths = [];
    const sorted = [...done].sort((a, b) => a.doneMs! - b.doneMs!);
    for (let k = 0; k < 10 && sorted.length >= 10; k++) {
      const part = sorted.slice(Math.floor((k * sorted.length) / 10), Math.floor(((k + 1) * sorted.length) / 10));
      const from = k === 0 ? 0 : sorted[Math.floor((k * sorted.length) / 10) - 1]!.doneMs!;
      const to = part[part.length - 1]!.doneMs!;
      tenths.push(round(perSecond(part.reduce((a, u) => a + u.records, 0), to - from)));
    }
    const stages = await stageTimelines(r, s.prefix, t0, s.workers.flatMap((w) => w.batches));
    const graph = await graphSize(g);
    const peakRss: Record<string, { hwmMb: number | null; sampledMb: number | null }> = {};
    for (const pr of s.processes()) peakRss[pr.name] = { hwmMb: pr.name === 'bench' ? null : peakRssMb(pr.pid), sampledMb: rss[pr.name] ?? null };
    const cpuSeconds: Record<string, number | null> = {};
    for (const [k, v] of Object.entries(cpu1)) {
      const before = cpu0[k];
      cpuSeconds[k] = v === null || before === null || before === undefined ? null : round((v - before) / 1000, 1);
    }
    return {
      layout: { workers: s.workers.map((w) => ({ name: w.name, stages: w.stages })), chunkRecords: opts.chunkRecords, sigma: opts.sigma },
      targetEvents: opts.targetEvents,
      window: opts.window,
      uploads: uploads.length,
      rounds: round(uploads.length / files.length, 2),
      uploadsDone: done.length,
      records,
      accepted,
      failedChunks: uploads.reduce((a, u) => a + u.failed, 0),
      wallMs: lastDone,
      recordsPerSec: round(perSecond(records, lastDone)),
      eventsPerSec: round(perSecond(accepted, lastDone)),
      recordsPerSecByTenth: tenths,
      probeMs: PROBE_MS,
      doneLatencyS: lat(doneLat(uploads)),
      detectLatencyS: lat(detectLat(uploads)),
      /** The same over the uploads after the first round of the dev set (null when there were none). */
      warm: warm.length === 0 ? null : { uploads: warm.length, doneLatencyS: lat(doneLat(warm)), detectLatencyS: lat(detectLat(warm)) },
      detected: detectLat(uploads).length,
      undetected: uploads.filter((u) => u.expected.length > 0 && u.detectMs === undefined).length,
      undetectedFiles: [...new Set(uploads.filter((u) => u.expected.length > 0 && u.detectMs === undefined).map((u) => u.file))],
      graph,
      stages,
      cpuSeconds,
      /** Neo4j's CPU seconds by thread group: JIT compilers, Bolt workers (the statements), GC, the rest. */
      neo4jThreadsCpuS,
      peakRss,
      timeline: uploads.map((u) => ({
        tag: u.tag,
        file: u.file,
        records: u.records,
        startS: round(u.startMs / 1000, 1),
        doneS: u.doneMs === undefined ? null : round(u.doneMs / 1000, 1),
        detectS: u.detectMs === undefined ? null : round(u.detectMs / 1000, 1),
      })),
    };
  } finally {
    await ingester?.close().catch(() => undefined);
    redis?.disconnect();
    await gateway?.close().catch(() => undefined);
    if (stack) {
      opts.log('scale: stopping the stack ...');
      await stack.stop();
    }
  }
}

export type ScaleResult = Awaited<ReturnType<typeof benchScale>>;
