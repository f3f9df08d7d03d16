/**
 * `npm run bench`: the benchmark harness. Runs the selected benchmarks one after another, prints tables to
 * stderr while it runs, writes the results to bench/results/<timestamp>.json and prints the same JSON as
 * the last line of stdout. Every server it starts is stopped in `finally` (and on SIGINT/SIGTERM), by PID.
 * See docs/benchmarks.md for what each figure means.
 */
import fs from 'node:fs';
import path from 'node:path';
import { benchApiLatency, type ApiLatencyResult } from './api-latency';
import { benchE2e, type E2eResult } from './e2e';
import { benchHostile, type HostileResult } from './hostile';
import { BENCHMARKS, parseArgs, USAGE, type BenchArgs, type BenchName } from './lib/args';
import { REPO_ROOT, SYSMON_DIR, assertDataPresent } from './lib/data';
import { loadavg, machineInfo } from './lib/machine';
import { fmt, stderr, table } from './lib/report';
import { round } from './lib/stats';
import { benchParse, type ParseBenchResult } from './parse';
import { benchScale, type ScaleResult } from './scale';
import { benchSigmaSuite, type SigmaSuiteResult } from './sigma';
import { benchUi, type UiResult } from './ui';

const log = (line: string) => stderr(`[${new Date().toISOString().slice(11, 19)}] ${line}`);

/** Stops of servers currently running, for the signal handler and for a benchmark that timed out. */
const stops = new Set<() => Promise<void>>();
async function stopAll(): Promise<void> {
  const list = [...stops];
  for (const s of list) await s().catch((e: unknown) => log(`stop failed: ${String(e)}`));
  stops.clear();
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  p.catch(() => undefined); // still settles after a timeout: not an unhandled rejection
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: timed out after ${Math.round(ms / 60_000)} min`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * SIGINT/SIGTERM stop the servers first, so the handlers are installed only while servers run: during the
 * CPU-bound benchmarks (synchronous loops, no servers) the default action ends the process at once.
 */
const onSignal = (sig: NodeJS.Signals) => {
  log(`${sig}: stopping what the benchmarks started ...`);
  void stopAll().finally(() => process.exit(130));
};

function register(stop: () => Promise<void>): void {
  if (stops.size === 0) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  stops.add(stop);
}

async function runOne(name: BenchName, a: BenchArgs): Promise<unknown> {
  switch (name) {
    case 'parse':
      return benchParse({
        runs: a.runs,
        warmup: a.warmup,
        chunkRecords: a.chunkRecords,
        ...(a.quick ? { limit: 10_000 } : {}),
        log,
      });
    case 'sigma':
      return benchSigmaSuite({
        runs: a.runs,
        warmup: a.warmup,
        topRules: 15,
        target: 20_000,
        ...(a.quick ? { limit: 5_000 } : {}),
        log,
      });
    case 'e2e':
      return benchE2e({
        ...(a.quick ? { file: path.join(SYSMON_DIR, 'rdp_interactive_taskmanager_lsass_dump.jsonl') } : {}),
        workers: a.workers,
        chunkRecords: a.chunkRecords,
        sigma: a.sigma,
        timeoutMs: a.e2eTimeoutMin * 60_000,
        ceiling: a.ceiling,
        warmupPasses: a.e2eWarmup,
        keep: a.keep,
        cpuProf: a.cpuProf,
        log,
        onStack: register,
      });
    case 'scale':
      return benchScale({
        workers: a.workers,
        chunkRecords: a.chunkRecords,
        sigma: a.sigma,
        targetEvents: a.scaleEvents,
        window: a.scaleWindow,
        maxMinutes: a.scaleMinutes,
        keep: a.keep,
        cpuProf: a.cpuProf,
        log,
        onStack: register,
      });
    case 'api':
      return benchApiLatency({
        targetNodes: a.apiNodes,
        requests: a.apiRequests,
        keep: a.keep,
        log,
        onStack: register,
      });
    case 'ui':
      return benchUi({
        targetNodes: a.uiNodes,
        runs: a.runs,
        warmup: a.warmup,
        keep: a.keep,
        log,
        onStack: register,
      });
    case 'hostile':
      return benchHostile({
        quick: a.quick,
        workers: a.workers,
        chunkRecords: a.chunkRecords,
        sigma: a.sigma,
        keep: a.keep,
        cpuProf: a.cpuProf,
        log,
        onStack: register,
      });
  }
}

function timeoutFor(name: BenchName, a: BenchArgs): number {
  switch (name) {
    case 'parse':
      return 10 * 60_000;
    case 'sigma':
      return 20 * 60_000;
    case 'e2e':
      return (a.e2eTimeoutMin + 15) * 60_000;
    case 'scale':
      return (a.scaleMinutes + 60) * 60_000;
    case 'api':
      return 150 * 60_000;
    case 'ui':
      return 40 * 60_000;
    case 'hostile':
      return (a.quick ? 30 : 120) * 60_000;
  }
}

function printParse(r: ParseBenchResult): void {
  stderr(
    table(
      `parse: ${r.file}, ${fmt(r.records)} records (${fmt(r.events)} events, ${fmt(r.skipped)} skipped, ${fmt(r.rejected)} rejected), chunks of ${r.chunkRecords}`,
      ['what', 'records/s', 'records/cpu-s', 'median ms', 'min ms', 'max ms', 'median cpu ms'],
      [
        ['JSON.parse (ceiling)', r.jsonParse.recordsPerSec, r.jsonParse.recordsPerCpuSec, r.jsonParse.medianMs, r.jsonParse.minMs, r.jsonParse.maxMs, r.jsonParse.medianCpuMs],
        ['parseChunk', r.parseChunk.recordsPerSec, r.parseChunk.recordsPerCpuSec, r.parseChunk.medianMs, r.parseChunk.minMs, r.parseChunk.maxMs, r.parseChunk.medianCpuMs],
        ['framing (file read, 1 run)', r.framing.recordsPerSec, '', r.framing.ms, '', '', r.framing.cpuMs],
      ],
    ),
  );
  stderr(`parseChunk / JSON.parse throughput: ${fmt(r.ratio)} (wall), ${fmt(r.ratioCpu)} (cpu)`);
}

function printSigma(r: SigmaSuiteResult): void {
  stderr(
    table(
      `sigma: ${fmt(r.rules.loaded)} rules (${r.rules.skipped} skipped, loaded in ${fmt(r.rules.loadMs)} ms), one thread; target ${fmt(r.target)} events/s`,
      ['ruleset / events', 'events', 'events/s', 'events/cpu-s', 'min', 'max', 'matches', 'per 10k'],
      [
        ['all rules / all events', r.allRules.events, r.allRules.eventsPerSec, r.allRules.eventsPerCpuSec, r.allRules.eventsPerSecMin, r.allRules.eventsPerSecMax, r.allRules.matches, r.allRules.matchesPer10k],
        ['no rules / all events', r.noRules.events, r.noRules.eventsPerSec, r.noRules.eventsPerCpuSec, r.noRules.eventsPerSecMin, r.noRules.eventsPerSecMax, r.noRules.matches, r.noRules.matchesPer10k],
        ['all rules / pipeline events', r.allRulesPipelineEvents.events, r.allRulesPipelineEvents.eventsPerSec, r.allRulesPipelineEvents.eventsPerCpuSec, r.allRulesPipelineEvents.eventsPerSecMin, r.allRulesPipelineEvents.eventsPerSecMax, r.allRulesPipelineEvents.matches, r.allRulesPipelineEvents.matchesPer10k],
      ],
    ),
  );
  stderr(`per event (all rules): p50 ${r.perEventMicros.p50} us, p95 ${r.perEventMicros.p95} us, p99 ${r.perEventMicros.p99} us, max ${r.perEventMicros.max} us; meets target: ${r.meetsTarget} (cpu: ${r.meetsTargetCpu})`);
  const b = r.benign;
  stderr(
    `benign background: ${fmt(b.benignEvents)} events of ${b.files} files -> ${fmt(b.benignAlerts)} alerts = ${fmt(b.alertsPer10kBenign)} per 10k ` +
      `(${fmt(b.benignEventsAlertedPer10k)} alerted events per 10k); malicious events alerted ${fmt(b.maliciousEventsAlerted)}/${fmt(b.maliciousEvents)}; by level ${JSON.stringify(b.byLevel)}`,
  );
  stderr(
    table(
      'noisiest rules on benign events',
      ['rule', 'level', 'alerts', 'per 10k', 'files', 'id'],
      b.topRules.map((t) => [t.title.slice(0, 70), t.level, t.alerts, t.per10kBenign, t.files, t.ruleId]),
    ),
  );
  stderr(
    table(
      'per file',
      ['file', 'events', 'benign', 'alerts', 'per 10k', 'bad events', 'alerted', 'bad procs', 'alerted'],
      b.perFile.map((f) => [f.file, f.events, f.benignEvents, f.benignAlerts, f.alertsPer10kBenign, f.maliciousEvents, f.maliciousEventsAlerted, f.maliciousProcesses, f.maliciousProcessesAlerted]),
    ),
  );
}

function printStages(stages: E2eResult['stages']): void {
  stderr(
    table(
      'per stage (busy = union of job processing spans; handler = handler time from worker logs)',
      ['stage', 'jobs', 'batches', 'chunks/batch', 'first start ms', 'last finish ms', 'busy ms', 'handler ms', 'handler p50', 'wait p50', 'wait max', 'failed'],
      Object.entries(stages).map(([s, t]) => [s, t.jobs, t.batches, t.chunksPerBatch, t.firstStartMs, t.lastFinishMs, t.busyMs, t.handlerMs, t.handlerMsP50, t.waitMsP50, t.waitMsMax, t.failedJobs]),
    ),
  );
}

function printRss(peak: E2eResult['peakRss'], cpu: E2eResult['cpuSeconds']): void {
  stderr(
    table(
      'processes during the run',
      ['process', 'cpu s', 'peak RSS MiB (VmHWM)', 'peak RSS MiB (sampled)'],
      Object.entries(peak).map(([k, v]) => [k, cpu[k] ?? null, v.hwmMb, v.sampledMb]),
    ),
  );
}

function printNeo4jThreads(when: string, th: E2eResult['neo4jThreadsCpuS']): void {
  stderr(`Neo4j CPU ${when} by thread: JIT compilers ${fmt(th.jit)} s, Bolt workers (statements) ${fmt(th.bolt)} s, GC ${fmt(th.gc)} s, other ${fmt(th.other)} s`);
}

function printE2e(r: E2eResult): void {
  stderr(
    table(
      `e2e: ${r.file} through ${r.layout.workers.map((w) => `${w.name}(${w.stages})`).join(' + ')}`,
      ['records', 'events', 'skipped', 'rejected', 'chunks', 'ingest ms', 'graph ms', 'records/s', 'events/s', 'all stages ms', 'events/s', 'findings', 'failed'],
      [[r.records, r.accepted, r.skipped, r.rejected, r.chunks, r.ingestMs, r.graphMs, r.recordsPerSec, r.eventsPerSec, r.wallMs, r.eventsPerSecAllStages, r.findings, r.failedChunks]],
    ),
  );
  if (r.cold) {
    stderr(`cold first pass (warm-up, same file under another replay tag): graph written after ${fmt(r.cold.graphMs)} ms = ${fmt(r.cold.eventsPerSec)} events/s, all stages ${fmt(r.cold.wallMs)} ms, Neo4j CPU ${fmt(r.cold.neo4jCpuS)} s`);
  }
  for (const w of r.warmup.slice(1)) {
    stderr(`warm-up pass ${w.pass}: graph written after ${fmt(w.graphMs)} ms = ${fmt(w.eventsPerSec)} events/s, Neo4j CPU ${fmt(w.neo4jCpuS)} s (JIT ${fmt(w.neo4jThreadsCpuS.jit)}, statements ${fmt(w.neo4jThreadsCpuS.bolt)})`);
  }
  printNeo4jThreads('in the measured pass', r.neo4jThreadsCpuS);
  stderr(`every chunk done, per stage (ms after ingest start): ${JSON.stringify(r.stageDoneMs)}`);
  stderr(`graph added by the upload: ${fmt(r.graph.nodes)} nodes (${fmt(r.graph.domainNodes)} of the domain model), ${fmt(r.graph.edges)} relationships (whole graph incl. warm-up: ${fmt(r.graphTotal.nodes)} / ${fmt(r.graphTotal.edges)})`);
  stderr(`  nodes by label: ${JSON.stringify(r.graph.byLabel)}`);
  stderr(`  relationships by type: ${JSON.stringify(r.graph.byType)}`);
  printStages(r.stages);
  if (r.ceiling) {
    const c = r.ceiling;
    stderr(
      table(
        'write ceiling (same rows, same Neo4j, fresh key namespaces)',
        ['writer', 'rows', 'ms', 'rows/s', 'vs bare', 'neo4j cpu s'],
        [
          ['bare UNWIND MERGE SET +=, 5k rows/tx, median of 3', c.bare.rows, c.bare.ms, c.bare.rowsPerSec, 1, c.bare.neo4jCpuS],
          [`merge writer in process, ${c.mergeWriter.chunksPerTransaction} chunks/tx`, c.mergeWriter.rows, c.mergeWriter.ms, c.mergeWriter.rowsPerSec, c.ratioMergeWriterToBare, c.mergeWriter.neo4jCpuS],
          ['pipeline (file -> graph written)', r.mergeReports.nodesWritten + r.mergeReports.edgesWritten, r.graphMs, round((r.mergeReports.nodesWritten + r.mergeReports.edgesWritten) / (r.graphMs / 1000)), c.ratioPipelineToBare, r.cpuSeconds.neo4j ?? null],
          ['merge stage busy time', r.mergeReports.nodesWritten + r.mergeReports.edgesWritten, r.stages.merge.busyMs, round((r.mergeReports.nodesWritten + r.mergeReports.edgesWritten) / (Math.max(1, r.stages.merge.busyMs) / 1000)), c.ratioMergeStageBusyToBare, ''],
        ],
      ),
    );
    stderr(`pipeline / bare ceiling: ${c.ratioPipelineToBare}x (target <= 2); domain nodes pipeline vs in-memory rows: ${c.nodesPipelineVsCeiling.join(' vs ')}`);
  }
  printRss(r.peakRss, r.cpuSeconds);
  for (const w of r.workerWarnings) stderr(`warning: ${w}`);
}

function printApi(r: ApiLatencyResult): void {
  const g = r.graph;
  stderr(
    table(
      `api: GraphQL in process on ${fmt(g.nodes)} nodes / ${fmt(g.relationships)} relationships, ${fmt(g.lenses)} lenses (built in ${fmt(g.buildMs)} ms); target p95 < 100 ms`,
      ['query', 'requests', 'p50 ms', 'p95 ms', 'max ms'],
      Object.entries(r.latencyMs).map(([q, l]) => [q, l.n, l.p50, l.p95, l.max]),
    ),
  );
}

function printUi(r: UiResult): void {
  const l = r.lens;
  stderr(
    table(
      `ui: engagement lens of ${fmt(l.scopeNodes)} nodes, ${fmt(l.shownNodes)} drawn${l.truncated ? ' (the lens page shows at most 500)' : ''} with ${fmt(l.shownEdges)} edges (${l.layout || '?'} layout); ` +
        `Chromium headless, click on the ${r.clickVia === 'canvas' ? 'canvas node' : 'node list row'}; target < ${fmt(r.targetMs)} ms`,
      ['what', 'runs', 'p50 ms', 'max ms', 'meets target (p50)'],
      [
        ['navigation -> graph drawn', r.runs.length, r.readyMs.p50, r.readyMs.max, r.readyMs.p50 < r.targetMs],
        ['click -> node panel with properties', r.runs.length, r.clickMs.p50, r.clickMs.max, r.clickMs.p50 < r.targetMs],
      ],
    ),
  );
  stderr(
    `meets target: ${r.meetsTarget} (every run: ${r.meetsTargetEveryRun}); graph ${fmt(r.graph.nodes)} nodes / ${fmt(r.graph.relationships)} relationships ` +
      `from ${fmt(r.graph.events)} events (${fmt(r.graph.buildMs)} ms), scope grown in ${fmt(r.graph.scopeMs)} ms; ` +
      `web ${r.web.rebuilt ? `rebuilt in ${fmt(r.web.buildMs)} ms, ` : ''}started in ${fmt(r.web.startMs)} ms`,
  );
}

function printScale(r: ScaleResult): void {
  stderr(
    table(
      `scale: ${r.uploads} uploads (${r.rounds} rounds of the dev set), window ${r.window}`,
      ['records', 'events', 'wall s', 'records/s', 'events/s', 'done p50 s', 'done p95 s', 'detect p50 s', 'detect p95 s', 'undetected', 'failed chunks'],
      [[r.records, r.accepted, round(r.wallMs / 1000, 1), r.recordsPerSec, r.eventsPerSec, r.doneLatencyS.p50, r.doneLatencyS.p95, r.detectLatencyS.p50, r.detectLatencyS.p95, r.undetected, r.failedChunks]],
    ),
  );
  if (r.warm) {
    stderr(
      `after the first round (${r.warm.uploads} uploads, warm JVM): done p50 ${r.warm.doneLatencyS.p50} s / p95 ${r.warm.doneLatencyS.p95} s, ` +
        `detect p50 ${r.warm.detectLatencyS.p50} s / p95 ${r.warm.detectLatencyS.p95} s (probe every ${r.probeMs} ms)`,
    );
  }
  stderr(`graph: ${fmt(r.graph.nodes)} nodes, ${fmt(r.graph.edges)} relationships`);
  printStages(r.stages);
  printNeo4jThreads('over the run', r.neo4jThreadsCpuS);
  printRss(r.peakRss, r.cpuSeconds);
}

function printHostile(r: HostileResult): void {
  const labels = Object.keys(r.inputs[0]?.memory ?? {}).filter((l) => l !== 'bench' && l !== 'neo4j');
  const size = (b: number | null) =>
    b === null ? null : b >= 2 ** 40 ? `${fmt(round(b / 2 ** 40, 1))} TiB` : b >= 2 ** 30 ? `${fmt(round(b / 2 ** 30, 2))} GiB` : `${fmt(round(b / 2 ** 20, 1))} MiB`;
  const peak = (m: HostileResult['inputs'][number]['memory'][string] | undefined) => m?.hwmMb ?? m?.sampledMb ?? null;
  stderr(
    table(
      `hostile: ${r.inputs.length} inputs, each uploaded alone and waited for; peak RSS MiB per process during each input ` +
        `(${r.hwmReset ? 'VmHWM reset before each input' : 'VmHWM not resettable here: sampled VmRSS'}); good = accepted + skipped records around the bad ones`,
      ['input', 'in', 'expands to', 'read', 'accepted', 'skipped', 'rejected', 'good kept', 'wall s', 'bench', 'bench +', ...labels],
      r.inputs.map((i) => {
        const b = i.memory.bench;
        return [
          i.name,
          size(i.bytesIn),
          size(i.expandsTo),
          i.records.read,
          i.records.accepted,
          i.records.skipped,
          i.records.rejected,
          i.good.allKept === null ? 'n/a' : `${i.good.allKept ? 'yes' : 'NO'} ${i.good.kept}/${i.good.atLeast ? '>=' : ''}${i.good.expected}`,
          round(i.wallMs / 1000, 1),
          peak(b),
          b && peak(b) !== null && b.beforeMb !== null ? round(peak(b)! - b.beforeMb, 1) : null,
          ...labels.map((l) => peak(i.memory[l])),
        ];
      }),
    ),
  );
  stderr('\n== first rejection reasons (record number: reason)');
  for (const i of r.inputs) {
    for (const x of i.firstRejections.slice(0, 3)) stderr(`${i.name.padEnd(20)} ${String(x.recordNo).padStart(6)}: ${x.reason.slice(0, 140)}`);
  }
  stderr(
    table(
      'highest per-input peak of the hostile inputs against the baseline (MiB)',
      ['process', 'baseline', 'hostile max', 'input', 'over baseline', 'after start-up'],
      Object.entries(r.summary.overBaselineMb).map(([k, v]) => [k, v.baselineMb, v.maxHostileMb, v.input, v.overMb, r.startupHwmMb[k] ?? null]),
    ),
  );
  const after = r.summary.afterUpload;
  stderr(
    `good records all kept: ${r.summary.allGoodKept}; rejections as expected: ${r.summary.allRejectedAsExpected}; failed chunks: ${r.summary.failedChunks}; ` +
      `good upload after the hostile ones went through: ${after.wentThrough} (${fmt(after.wallMs)} ms; before them ${fmt(after.wallMsBefore)} ms)`,
  );
  for (const i of r.inputs) {
    if (i.ingestError) stderr(`warning: ${i.name}: ingest failed: ${i.ingestError}`);
    if (i.uploadError && i.uploadError !== i.ingestError) stderr(`warning: ${i.name}: upload error: ${i.uploadError}`);
  }
}

async function main(): Promise<number> {
  let a: BenchArgs;
  try {
    a = parseArgs(process.argv.slice(2));
  } catch (err) {
    stderr((err as Error).message);
    return 2;
  }
  if (a.help) {
    stderr(USAGE);
    return 0;
  }
  assertDataPresent();

  const startedAt = new Date();
  const machine = machineInfo();
  log(`bench: ${a.only.join(', ')}${a.quick ? ' (quick)' : ''} on ${machine.cores} cores, ${machine.memoryMb} MiB, node ${machine.node}, load ${machine.loadavg.join(' ')}`);
  const results: Partial<Record<BenchName, unknown>> = {};
  const loadPer: Partial<Record<BenchName, { start: number[]; end: number[]; ms: number }>> = {};
  let failures = 0;
  for (const name of BENCHMARKS.filter((b) => a.only.includes(b))) {
    const t0 = Date.now();
    const l0 = loadavg();
    log(`>>> ${name}`);
    try {
      const r = await withTimeout(runOne(name, a), timeoutFor(name, a), name);
      results[name] = r;
      if (name === 'parse') printParse(r as ParseBenchResult);
      if (name === 'sigma') printSigma(r as SigmaSuiteResult);
      if (name === 'e2e') printE2e(r as E2eResult);
      if (name === 'scale') printScale(r as ScaleResult);
      if (name === 'api') printApi(r as ApiLatencyResult);
      if (name === 'ui') printUi(r as UiResult);
      if (name === 'hostile') printHostile(r as HostileResult);
    } catch (err) {
      failures++;
      const e = err as Error;
      results[name] = { error: e.message };
      log(`${name} FAILED: ${e.stack ?? e.message}`);
    } finally {
      await stopAll();
    }
    loadPer[name] = { start: l0, end: loadavg(), ms: Date.now() - t0 };
  }
  const finishedAt = new Date();
  const summary = {
    schema: 'lensgraph-bench/1',
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    durationMs: finishedAt.getTime() - startedAt.getTime(),
    options: { ...a, outDir: undefined, help: undefined },
    machine: { ...machine, loadavg: undefined, loadavgStart: machine.loadavg, loadavgEnd: loadavg() },
    load: loadPer,
    results,
  };
  const json = JSON.stringify(summary);
  const outDir = path.resolve(REPO_ROOT, a.outDir);
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  fs.writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
  log(`results written to ${path.relative(process.cwd(), file)}${failures ? `; ${failures} benchmark(s) failed` : ''}`);
  await new Promise<void>((resolve) => process.stdout.write(`${json}\n`, () => resolve()));
  return failures > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  async (err: unknown) => {
    stderr(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    await stopAll();
    process.exit(1);
  },
);
