/**
 * Child process of DetectionReports (./detections.ts): loads the Sigma rules and the analyzers exactly as
 * the workers do and prints one JSON line with what loaded and what was skipped, then exits.
 *
 *   node --import tsx server/graph/detections-cli.ts sigma DIR...
 *   node --import tsx server/graph/detections-cli.ts analyzers [DIR]
 *
 * It runs apart from the web server because compiling a few thousand rules takes seconds of CPU (the
 * server's event loop stays free) and because analyzers are TypeScript modules imported at run time,
 * which a bundled Next.js server cannot do.
 */
import path from 'node:path';
import { BUILTIN_DIR } from '../../pipeline/analyzers/host';
import { loadAnalyzersFrom, type LoadedAnalyzers } from '../../pipeline/analyzers/loader';
import { loadRules } from '../../pipeline/sigma';

async function sigma(dirs: string[]) {
  const { report } = await loadRules(dirs);
  return { loaded: report.loaded, correlations: report.correlations, skipped: report.skipped };
}

async function analyzers(dir: string | undefined) {
  const into: LoadedAnalyzers = { analyzers: [], report: { loaded: [], failed: [] } };
  await loadAnalyzersFrom(BUILTIN_DIR, 'builtin', into);
  const builtin = into.analyzers.length;
  if (dir) await loadAnalyzersFrom(path.resolve(dir), 'extra', into);
  return {
    loaded: into.analyzers.map((a, i) => ({
      id: a.id,
      title: a.title,
      techniques: [...a.techniques],
      source: i < builtin ? 'builtin' : 'extra',
    })),
    failed: into.report.failed,
  };
}

async function main(): Promise<void> {
  const [what, ...args] = process.argv.slice(2);
  const out = what === 'sigma' ? await sigma(args) : what === 'analyzers' ? await analyzers(args[0]) : null;
  if (!out) throw new Error('usage: detections-cli.ts sigma DIR... | analyzers [DIR]');
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
