/**
 * `npm run rules -- --check [--json] [--placeholders FILE] [DIR|FILE ...]`
 *
 * Loads Sigma rules the way the workers do and reports what loaded and what was skipped, grouped by
 * reason with counts, and every skipped rule under its reason. Without DIR the folders come from
 * LENSGRAPH_SIGMA_DIRS. With --json one JSON object is printed instead (the LoadReport plus a
 * `skippedByReason` summary). Exit code: 0 rules checked (skips are not an error), 1 a folder could not be
 * read, 2 bad usage or configuration.
 *
 * `npm run rules -- --bench EVENTS_FILE [--passes N] [--json] [DIR|FILE ...]` measures the engine on one
 * core: the file is parsed into memory first, then `evaluate` runs over every event with the rules loaded
 * and with none, and events per second (wall and CPU time), matches and the noisiest rules are printed.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { config } from '../lib/config';
import type { NormalizedEvent } from '../domain/event';
import { isFramingRejection, parseRawRecord, readRecords } from '../pipeline/parsers';
import { benchSigma, CompiledRuleset, loadPlaceholders, loadRules, type LoadReport } from '../pipeline/sigma';

const USAGE =
  'usage: npm run rules -- --check [--json] [--placeholders FILE] [DIR|FILE ...]\n' +
  '       npm run rules -- --bench EVENTS_FILE [--passes N] [--json] [DIR|FILE ...]';

export interface CheckSummary extends LoadReport {
  dirs: string[];
  /** reason -> number of rules skipped for it, most frequent first. */
  skippedByReason: Record<string, number>;
}

export function summarizeReport(dirs: string[], report: LoadReport): CheckSummary {
  const counts = new Map<string, number>();
  for (const s of report.skipped) counts.set(s.reason, (counts.get(s.reason) ?? 0) + 1);
  const skippedByReason = Object.fromEntries(
    [...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])),
  );
  return { dirs, ...report, skippedByReason };
}

export function formatSummary(s: CheckSummary): string {
  const lines: string[] = [];
  lines.push(`Sigma rules from: ${s.dirs.join(', ')}`);
  lines.push(`loaded: ${s.loaded} rules, ${s.correlations} correlation rules; skipped: ${s.skipped.length}`);
  lines.push('');
  lines.push('loaded by logsource:');
  for (const [ls, n] of Object.entries(s.byLogsource).sort((a, b) => b[1] - a[1]))
    lines.push(`  ${String(n).padStart(5)}  ${ls}`);
  if (s.skipped.length > 0) {
    lines.push('');
    lines.push('skipped, by reason:');
    for (const [reason, n] of Object.entries(s.skippedByReason)) {
      lines.push(`  ${String(n).padStart(5)}  ${reason}`);
      for (const r of s.skipped.filter((x) => x.reason === reason)) {
        const what = [r.id, r.title].filter(Boolean).join(' ');
        lines.push(`           ${r.path}${what ? `  (${what})` : ''}`);
      }
    }
  }
  return lines.join('\n');
}

async function readEvents(file: string): Promise<{ events: NormalizedEvent[]; records: number; ms: number }> {
  const events: NormalizedEvent[] = [];
  let records = 0;
  const t0 = performance.now();
  for await (const item of readRecords(file)) {
    records++;
    if (isFramingRejection(item)) continue;
    const r = parseRawRecord(item, { keepUnsupported: true });
    if (r.kind === 'event') events.push(r.event);
  }
  return { events, records, ms: performance.now() - t0 };
}

/** One streamed pass: read, parse and evaluate every record, as the identify stage does per chunk. */
async function endToEnd(
  file: string,
  ruleset: CompiledRuleset,
): Promise<{ eventsPerSecond: number; eventsPerCpuSecond: number; matches: number }> {
  let events = 0;
  let matches = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for await (const item of readRecords(file)) {
    if (isFramingRejection(item)) continue;
    const r = parseRawRecord(item, { keepUnsupported: true });
    if (r.kind !== 'event') continue;
    events++;
    matches += ruleset.evaluate(r.event).length;
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return {
    eventsPerSecond: Math.round((events / ms) * 1000),
    eventsPerCpuSecond: Math.round((events / cpuMs) * 1000),
    matches,
  };
}

async function bench(file: string, dirs: string[], passes: number, json: boolean): Promise<number> {
  const parsed = await readEvents(file);
  const { ruleset, report } = await loadRules(dirs);
  const none = new CompiledRuleset([]);
  // Warm-up pass each, so the JIT has compiled the hot closures before the measured passes.
  benchSigma(ruleset, parsed.events);
  benchSigma(none, parsed.events);
  const withRules = benchSigma(ruleset, parsed.events, passes);
  const withoutRules = benchSigma(none, parsed.events, passes);
  const streamedWith = await endToEnd(file, ruleset);
  const streamedWithout = await endToEnd(file, none);
  const titles = new Map(ruleset.rules.map((r) => [r.match.ruleId, `${r.match.title} [${r.match.level}]`]));
  const top = Object.entries(withRules.byRule)
    .sort((a, b) => b[1] - a[1])
    .slice(0, 15)
    .map(([id, n]) => ({ ruleId: id, title: titles.get(id) ?? id, matches: n }));
  const result = {
    file,
    records: parsed.records,
    events: parsed.events.length,
    parseEventsPerSecond: Math.round((parsed.events.length / parsed.ms) * 1000),
    rulesLoaded: report.loaded,
    passes,
    withRules: {
      eventsPerSecond: Math.round(withRules.eventsPerSecond),
      eventsPerCpuSecond: Math.round(withRules.eventsPerCpuSecond),
      matches: withRules.matches,
    },
    withoutRules: {
      eventsPerSecond: Math.round(withoutRules.eventsPerSecond),
      eventsPerCpuSecond: Math.round(withoutRules.eventsPerCpuSecond),
    },
    /** read + parse + evaluate, streamed from the file (one pass each). */
    endToEnd: { withRules: streamedWith, withoutRules: streamedWithout },
    topRules: top,
  };
  if (json) console.log(JSON.stringify(result));
  else {
    console.log(
      `${result.events} events from ${file} (${result.records} records; parsed at ${result.parseEventsPerSecond} events/s)`,
    );
    console.log(`${result.rulesLoaded} rules, ${passes} passes`);
    console.log(
      `with rules:    ${result.withRules.eventsPerSecond} events/s wall, ${result.withRules.eventsPerCpuSecond} per CPU second; ${result.withRules.matches} matches`,
    );
    console.log(
      `without rules: ${result.withoutRules.eventsPerSecond} events/s wall, ${result.withoutRules.eventsPerCpuSecond} per CPU second`,
    );
    console.log(
      `read+parse+evaluate: ${streamedWith.eventsPerSecond} events/s with rules (${streamedWith.eventsPerCpuSecond} per CPU second), ${streamedWithout.eventsPerSecond} without (${streamedWithout.eventsPerCpuSecond})`,
    );
    for (const t of top) console.log(`  ${String(t.matches).padStart(6)}  ${t.title}`);
  }
  return 0;
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      options: {
        check: { type: 'boolean', default: false },
        bench: { type: 'string' },
        passes: { type: 'string', default: '3' },
        json: { type: 'boolean', default: false },
        placeholders: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (!values.check && values.bench === undefined) {
    console.error(USAGE);
    return 2;
  }
  const dirs = positionals.length > 0 ? positionals.map((p) => path.resolve(p)) : config().sigmaDirs;
  if (dirs.length === 0) {
    console.error(`no rule folders: give DIR arguments or set LENSGRAPH_SIGMA_DIRS\n${USAGE}`);
    return 2;
  }
  if (values.bench !== undefined) {
    const passes = Number(values.passes);
    if (!Number.isInteger(passes) || passes < 1) {
      console.error(`--passes must be a positive integer\n${USAGE}`);
      return 2;
    }
    try {
      return await bench(path.resolve(values.bench), dirs, passes, values.json);
    } catch (e) {
      console.error((e as Error).message);
      return 1;
    }
  }
  let placeholders;
  try {
    placeholders = await loadPlaceholders(
      values.placeholders ? path.resolve(values.placeholders) : undefined,
    );
  } catch (e) {
    console.error((e as Error).message);
    return 2;
  }
  let report: LoadReport;
  try {
    ({ report } = await loadRules(dirs, { placeholders }));
  } catch (e) {
    console.error((e as Error).message);
    return 1;
  }
  const summary = summarizeReport(dirs, report);
  console.log(values.json ? JSON.stringify(summary) : formatSummary(summary));
  return 0;
}

// Run only as a script, so tests can import the formatting helpers.
if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  main().then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      console.error(e);
      process.exitCode = 1;
    },
  );
}
