/**
 * `npm run rules -- --check [--json] [--placeholders FILE] [DIR|FILE ...]`
 *
 * Loads Sigma rules the way the workers do and reports what loaded and what was skipped, grouped by
 * reason with counts, and every skipped rule under its reason. Without DIR the folders come from
 * LENSGRAPH_SIGMA_DIRS. With --json one JSON object is printed instead (the LoadReport plus a
 * `skippedByReason` summary). Exit code: 0 rules checked (skips are not an error), 1 a folder could not be
 * read, 2 bad usage or configuration.
 */
import path from 'node:path';
import { parseArgs } from 'node:util';
import { config } from '../lib/config';
import { loadPlaceholders, loadRules, type LoadReport } from '../pipeline/sigma';

const USAGE = 'usage: npm run rules -- --check [--json] [--placeholders FILE] [DIR|FILE ...]';

export interface CheckSummary extends LoadReport {
  dirs: string[];
  /** reason -> number of rules skipped for it, most frequent first. */
  skippedByReason: Record<string, number>;
}

export function summarizeReport(dirs: string[], report: LoadReport): CheckSummary {
  const counts = new Map<string, number>();
  for (const s of report.skipped) counts.set(s.reason, (counts.get(s.reason) ?? 0) + 1);
  const skippedByReason = Object.fromEntries([...counts].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
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

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      allowPositionals: true,
      options: {
        check: { type: 'boolean', default: false },
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
  if (!values.check) {
    console.error(USAGE);
    return 2;
  }
  const dirs = positionals.length > 0 ? positionals.map((p) => path.resolve(p)) : config().sigmaDirs;
  if (dirs.length === 0) {
    console.error(`no rule folders: give DIR arguments or set LENSGRAPH_SIGMA_DIRS\n${USAGE}`);
    return 2;
  }
  let placeholders;
  try {
    placeholders = await loadPlaceholders(values.placeholders ? path.resolve(values.placeholders) : undefined);
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
