/**
 * sigma: events/s of `ruleset.evaluate` (single thread) with every rule of sigma/rules/windows loaded and
 * with none, on the kill chain's normalised events; and the noise of those rules on benign background:
 * alerts per 10,000 events of processes that are not in the ground truth, over every dev set file, with
 * the noisiest rules.
 *
 * Two event sets: `all` holds every record of the file normalised (keepUnsupported: the 40,568 events the
 * Sigma engine could see); `pipeline` holds the events the parse stage hands on (supported types only),
 * which is what identify evaluates in production. Alert counts use the `pipeline` set: those are the
 * alerts that become Risk nodes.
 */
import path from 'node:path';
import type { NormalizedEvent } from '../domain/event';
import { normalizeGuid, parseRawRecord } from '../pipeline/parsers';
import { benchSigma, CompiledRuleset, loadRules, type SigmaMatch } from '../pipeline/sigma';
import { KILL_CHAIN_FILE, SIGMA_WINDOWS_DIR, devSetFiles, loadTruth, readRawItems } from './lib/data';
import { collectGarbage, median, percentile, round, timedAsync } from './lib/stats';

export interface SigmaBenchOptions {
  runs: number;
  warmup: number;
  /** Records per file read (quick mode). */
  limit?: number;
  rulesDir?: string;
  topRules: number;
  /** Events/s the engine should sustain with every rule loaded. */
  target: number;
  log: (line: string) => void;
}

async function loadEvents(file: string, limit: number | undefined, keepUnsupported: boolean): Promise<NormalizedEvent[]> {
  const out: NormalizedEvent[] = [];
  for (const it of await readRawItems(file, limit)) {
    if (!('t' in it)) continue;
    const r = parseRawRecord({ recordNo: it.n, format: it.f, text: it.t }, { keepUnsupported });
    if (r.kind === 'event') out.push(r.event);
  }
  return out;
}

function throughput(ruleset: CompiledRuleset, events: NormalizedEvent[], runs: number, warmup: number) {
  for (let i = 0; i < warmup; i++) benchSigma(ruleset, events, 1);
  const results = [];
  for (let i = 0; i < runs; i++) {
    collectGarbage();
    results.push(benchSigma(ruleset, events, 1));
  }
  const first = results[0]!;
  const wall = results.map((r) => r.eventsPerSecond);
  const cpu = results.map((r) => r.eventsPerCpuSecond);
  return {
    events: events.length,
    runs: results.length,
    eventsPerSec: round(median(wall)),
    eventsPerSecMin: round(Math.min(...wall)),
    eventsPerSecMax: round(Math.max(...wall)),
    eventsPerCpuSec: round(median(cpu)),
    medianMs: round(median(results.map((r) => r.ms)), 1),
    matches: first.matches,
    matchesPer10k: round((first.matches / Math.max(1, events.length)) * 10_000, 1),
  };
}

/** The GUID of the process that acts in the event (Sysmon 8/10 name it SourceProcessGuid). */
export function actingProcessGuid(e: NormalizedEvent): string | undefined {
  const g = e.fields.ProcessGuid ?? e.fields.SourceProcessGuid;
  return g ? normalizeGuid(g.trim()) : undefined;
}

export async function benchSigmaSuite(opts: SigmaBenchOptions) {
  const rulesDir = opts.rulesDir ?? SIGMA_WINDOWS_DIR;
  const load = await timedAsync(() => loadRules([rulesDir]));
  const { ruleset, report } = load.value;
  opts.log(`sigma: ${report.loaded} rules loaded in ${round(load.ms / 1000, 1)} s (${report.skipped.length} skipped)`);
  const none = new CompiledRuleset([]);

  const all = await loadEvents(KILL_CHAIN_FILE, opts.limit, true);
  const piped = await loadEvents(KILL_CHAIN_FILE, opts.limit, false);
  opts.log(`sigma: ${all.length} events (${piped.length} of types the parse stage keeps)`);

  const allRules = throughput(ruleset, all, opts.runs, opts.warmup);
  const noRules = throughput(none, all, opts.runs, opts.warmup);
  const pipelineSet = throughput(ruleset, piped, opts.runs, opts.warmup);

  // Per-event cost distribution with every rule (which events are expensive).
  const perEvent: number[] = [];
  for (const e of all) {
    const t0 = performance.now();
    ruleset.evaluate(e);
    perEvent.push((performance.now() - t0) * 1000);
  }

  const benign = await benignNoise(ruleset, opts);
  return {
    file: path.basename(KILL_CHAIN_FILE),
    rules: {
      dir: path.relative(process.cwd(), rulesDir) || rulesDir,
      loaded: report.loaded,
      skipped: report.skipped.length,
      correlations: report.correlations,
      loadMs: round(load.ms),
      loadCpuMs: round(load.cpuMs),
    },
    target: opts.target,
    meetsTarget: allRules.eventsPerSec >= opts.target,
    meetsTargetCpu: allRules.eventsPerCpuSec >= opts.target,
    allRules,
    noRules,
    allRulesPipelineEvents: pipelineSet,
    perEventMicros: {
      p50: round(percentile(perEvent, 50), 1),
      p95: round(percentile(perEvent, 95), 1),
      p99: round(percentile(perEvent, 99), 1),
      max: round(Math.max(...perEvent), 1),
    },
    benign,
  };
}

interface RuleTally {
  ruleId: string;
  title: string;
  level: string;
  alerts: number;
  files: Set<string>;
}

async function benignNoise(ruleset: CompiledRuleset, opts: SigmaBenchOptions) {
  const truth = loadTruth();
  const byRule = new Map<string, RuleTally>();
  const byLevel: Record<string, number> = {};
  const files = [];
  let totalEvents = 0;
  let totalBenign = 0;
  let totalBenignAlerts = 0;
  let totalBenignAlerted = 0;
  let totalMalicious = 0;
  let totalMaliciousAlerted = 0;
  let allSetEvents = 0;
  let allSetBenignAlerts = 0;
  for (const file of devSetFiles()) {
    const name = path.basename(file);
    const bad = truth.byDataset.get(name) ?? new Set<string>();
    const events = await loadEvents(file, opts.limit, false);
    let benign = 0;
    let benignAlerts = 0;
    let benignAlerted = 0;
    let malicious = 0;
    let maliciousAlerted = 0;
    const badAlerted = new Set<string>();
    for (const e of events) {
      const guid = actingProcessGuid(e);
      const isBad = guid !== undefined && bad.has(guid);
      const matches: SigmaMatch[] = ruleset.evaluate(e);
      if (isBad) {
        malicious++;
        if (matches.length > 0) {
          maliciousAlerted++;
          badAlerted.add(guid);
        }
        continue;
      }
      benign++;
      if (matches.length === 0) continue;
      benignAlerted++;
      benignAlerts += matches.length;
      for (const m of matches) {
        let t = byRule.get(m.ruleId);
        if (!t) byRule.set(m.ruleId, (t = { ruleId: m.ruleId, title: m.title, level: m.level, alerts: 0, files: new Set() }));
        t.alerts++;
        t.files.add(name);
        byLevel[m.level] = (byLevel[m.level] ?? 0) + 1;
      }
    }
    // The same file with every record normalised (unsupported types too): the engine's full exposure.
    const everything = await loadEvents(file, opts.limit, true);
    allSetEvents += everything.length;
    for (const e of everything) {
      const guid = actingProcessGuid(e);
      if (guid !== undefined && bad.has(guid)) continue;
      allSetBenignAlerts += ruleset.evaluate(e).length;
    }
    files.push({
      file: name,
      events: events.length,
      benignEvents: benign,
      benignAlerts,
      benignEventsAlerted: benignAlerted,
      alertsPer10kBenign: round((benignAlerts / Math.max(1, benign)) * 10_000, 1),
      maliciousEvents: malicious,
      maliciousEventsAlerted: maliciousAlerted,
      maliciousProcesses: bad.size,
      maliciousProcessesAlerted: badAlerted.size,
    });
    totalEvents += events.length;
    totalBenign += benign;
    totalBenignAlerts += benignAlerts;
    totalBenignAlerted += benignAlerted;
    totalMalicious += malicious;
    totalMaliciousAlerted += maliciousAlerted;
    opts.log(`sigma: ${name}: ${benign} benign events, ${benignAlerts} alerts`);
  }
  const top = [...byRule.values()]
    .sort((a, b) => b.alerts - a.alerts || a.ruleId.localeCompare(b.ruleId))
    .slice(0, opts.topRules)
    .map((t) => ({
      ruleId: t.ruleId,
      title: t.title,
      level: t.level,
      alerts: t.alerts,
      per10kBenign: round((t.alerts / Math.max(1, totalBenign)) * 10_000, 2),
      files: t.files.size,
    }));
  return {
    note: 'events of processes not in truth/*.truth.json (acting process GUID: ProcessGuid, else SourceProcessGuid; events without a GUID count as benign)',
    files: files.length,
    events: totalEvents,
    benignEvents: totalBenign,
    benignAlerts: totalBenignAlerts,
    benignEventsAlerted: totalBenignAlerted,
    alertsPer10kBenign: round((totalBenignAlerts / Math.max(1, totalBenign)) * 10_000, 1),
    benignEventsAlertedPer10k: round((totalBenignAlerted / Math.max(1, totalBenign)) * 10_000, 1),
    maliciousEvents: totalMalicious,
    maliciousEventsAlerted: totalMaliciousAlerted,
    rulesFiring: byRule.size,
    byLevel,
    allTypes: {
      note: 'same, over every record normalised (keepUnsupported), i.e. what the engine would raise if the parse stage kept every type',
      events: allSetEvents,
      benignAlerts: allSetBenignAlerts,
    },
    topRules: top,
    perFile: files,
  };
}

export type SigmaSuiteResult = Awaited<ReturnType<typeof benchSigmaSuite>>;
