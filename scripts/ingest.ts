/**
 * `npm run ingest -- [--wait] [--json] [--timeout SECONDS] PATH...`
 *
 * Sends files and folders (Sysmon JSON in any shape, Windows event XML, .evtx, osquery, generic JSON,
 * optionally .gz) into the pipeline, one upload per file, with a progress line per file. With --wait it
 * returns only when every event has passed every stage and prints a summary; with --json that summary is
 * one JSON object on the last line of stdout. Exit code: 0 ok, 1 fatal error (unreadable input, pipeline
 * failure, timeout), 2 bad usage or configuration.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { config, ConfigError } from '../lib/config';
import { createRedis } from '../lib/redis';
import { resolveServices } from '../lib/runtime';
import type { UploadProgress } from '../lib/uploads';
import { Ingester } from '../pipeline/ingest';
import { listInputFiles } from '../pipeline/parsers';

export interface IngestSummary {
  files: number;
  uploads: Array<{ id: string; name: string; error?: string }>;
  records: { read: number; accepted: number; skipped: number; rejected: number };
  skippedByType: Record<string, number>;
  rejectedByReason: Record<string, number>;
  graph: { nodesWritten: number; edgesWritten: number };
  findings: number;
  failedChunks: number;
  seconds: number;
}

export function summarize(progress: UploadProgress[], seconds: number): IngestSummary {
  const s: IngestSummary = {
    files: progress.length,
    uploads: progress.map((p) => ({ id: p.id, name: p.name, ...(p.error ? { error: p.error } : {}) })),
    records: { read: 0, accepted: 0, skipped: 0, rejected: 0 },
    skippedByType: {},
    rejectedByReason: {},
    graph: { nodesWritten: 0, edgesWritten: 0 },
    findings: 0,
    failedChunks: 0,
    seconds,
  };
  for (const p of progress) {
    s.records.read += p.records.read;
    s.records.accepted += p.records.accepted;
    for (const [k, v] of Object.entries(p.records.skipped)) {
      s.skippedByType[k] = (s.skippedByType[k] ?? 0) + v;
      s.records.skipped += v;
    }
    for (const [k, v] of Object.entries(p.records.rejected)) {
      s.rejectedByReason[k] = (s.rejectedByReason[k] ?? 0) + v;
      s.records.rejected += v;
    }
    s.graph.nodesWritten += p.graph.nodesWritten;
    s.graph.edgesWritten += p.graph.edgesWritten;
    s.findings += p.findings;
    s.failedChunks += p.failed;
  }
  return s;
}

function printSummary(s: IngestSummary): void {
  const lines = [
    `Files: ${s.files}   time: ${s.seconds.toFixed(1)} s`,
    `Records read: ${s.records.read}   accepted: ${s.records.accepted}   skipped: ${s.records.skipped}   rejected: ${s.records.rejected}`,
  ];
  const top = (o: Record<string, number>) =>
    Object.entries(o)
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([k, v]) => `    ${String(v).padStart(8)}  ${k}`);
  if (s.records.skipped > 0) lines.push('  skipped by type:', ...top(s.skippedByType));
  if (s.records.rejected > 0) lines.push('  rejected by reason:', ...top(s.rejectedByReason));
  lines.push(`Graph: ${s.graph.nodesWritten} nodes and ${s.graph.edgesWritten} edges written`);
  lines.push(`Findings: ${s.findings}`);
  if (s.failedChunks > 0) lines.push(`FAILED chunks: ${s.failedChunks}`);
  for (const u of s.uploads) if (u.error) lines.push(`  ${u.name}: ${u.error}`);
  console.log(lines.join('\n'));
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      allowPositionals: true,
      options: {
        wait: { type: 'boolean', default: false },
        json: { type: 'boolean', default: false },
        timeout: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    console.error((err as Error).message);
    return 2;
  }
  if (args.values.help || args.positionals.length === 0) {
    console.error('usage: npm run ingest -- [--wait] [--json] [--timeout SECONDS] PATH...');
    return args.values.help ? 0 : 2;
  }
  const cfg = config();
  let services;
  try {
    services = resolveServices(cfg);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      return 2;
    }
    throw err;
  }
  const files = await listInputFiles(args.positionals.map((p) => path.resolve(p)));
  if (files.length === 0) {
    console.error('No input files found.');
    return 1;
  }
  const redis = createRedis(services.redisUrl, { connectionName: 'lensgraph-ingest' });
  const ingester = new Ingester({
    redis,
    prefix: services.queuePrefix,
    payloadTtlSeconds: cfg.LENSGRAPH_PAYLOAD_TTL_HOURS * 3600,
    chunkRecords: cfg.LENSGRAPH_CHUNK_RECORDS,
  });
  const t0 = Date.now();
  const interactive = process.stderr.isTTY && !args.values.json;
  const bars = interactive
    ? new cliProgress.MultiBar(
        { format: ' {bar} {stage} | {name} | {value} records', hideCursor: true, clearOnComplete: false },
        cliProgress.Presets.shades_grey,
      )
    : null;
  const uploadIds: string[] = [];
  let fatal = false;
  try {
    for (const file of files) {
      const name = path.basename(file);
      const bar = bars?.create(0, 0, { name, stage: 'reading' });
      try {
        const { uploadId, records } = await ingester.ingestFile(file, {
          name,
          user: 'cli',
          onProgress: (p) =>
            bar?.update(p.records, { stage: p.phase === 'scanning' ? 'scanning clocks' : 'reading' }),
        });
        bar?.setTotal(records);
        bar?.update(records, { stage: 'queued' });
        uploadIds.push(uploadId);
        if (!interactive) console.error(`queued ${name}: ${records} records (upload ${uploadId})`);
      } catch (err) {
        fatal = true;
        console.error(`${name}: ${(err as Error).message}`);
      }
    }
    if (!args.values.wait) {
      bars?.stop();
      if (args.values.json) console.log(JSON.stringify({ uploads: uploadIds }));
      else console.log(`Queued ${uploadIds.length} upload(s). Follow them on the Upload page or with --wait.`);
      return fatal ? 1 : 0;
    }
    const timeoutMs = args.values.timeout ? Number(args.values.timeout) * 1000 : 60 * 60_000;
    let lastLog = 0;
    const progress = await ingester.waitFor(uploadIds, {
      timeoutMs,
      onProgress: (ps) => {
        if (!interactive && Date.now() - lastLog > 5000) {
          lastLog = Date.now();
          const done = ps.filter((p) => p.done).length;
          console.error(`waiting: ${done}/${ps.length} uploads through every stage`);
        }
      },
    });
    bars?.stop();
    const summary = summarize(progress, (Date.now() - t0) / 1000);
    if (args.values.json) console.log(JSON.stringify(summary));
    else printSummary(summary);
    return fatal || summary.failedChunks > 0 ? 1 : 0;
  } catch (err) {
    bars?.stop();
    console.error((err as Error).message);
    return 1;
  } finally {
    await ingester.close();
    redis.disconnect();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
