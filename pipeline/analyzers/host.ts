/**
 * The analyzer host: loads analyzers from the built-in pack and LENSGRAPH_ANALYZERS_DIR and runs them on
 * the nodes an update changed. One analyzer that fails to load or throws is reported and skipped; the
 * others keep running.
 */
import path from 'node:path';
import type { Hit } from '../../domain/detection';
import type { Logger } from '../../lib/log';
import type { GraphGateway } from '../../lib/neo4j';
import type { AnalyzerHost } from '../stages/analyze/handler';
import { FOLLOWERS, followedKeys } from './follow';
import { loadAnalyzersFrom, type AnalyzerLoadReport, type LoadedAnalyzers } from './loader';
import { dedupeHits, keysByKind, runAnalyzer, type AnalyzerRunStats } from './runtime';
import type { Analyzer } from './sdk/define';
import { GraphRarity, type QueryRunner, type Rarity } from './sdk/rarity';

export type { AnalyzerLoadReport } from './loader';

export const BUILTIN_DIR = path.join(import.meta.dirname, 'builtin');

export interface HostOptions {
  /** Analyzers run at once (default 4). */
  concurrency?: number;
  /** Keys per query (default 2000). */
  chunkSize?: number;
  rarity?: Rarity;
  /** Follow-up analyzers run on what the batch's hits flagged (default: follow.ts FOLLOWERS). */
  followers?: readonly Analyzer[];
}

export interface RunningHost extends AnalyzerHost {
  readonly analyzers: readonly Analyzer[];
  /** Per-analyzer cost and outcome of the last run, and the analyzers that threw. */
  readonly lastRun: { stats: AnalyzerRunStats[]; failed: Array<{ id: string; error: string }> };
  follow(hits: readonly Hit[]): Promise<Hit[]>;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]!.slice(0, 1000) : String(err).slice(0, 1000);
}

async function pool<T>(items: readonly T[], size: number, work: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.max(1, Math.min(size, items.length)) }, async () => {
    while (next < items.length) {
      const item = items[next++]!;
      await work(item);
    }
  });
  await Promise.all(lanes);
}

/** A host over already-loaded analyzers (tests, the evaluation script). */
export function createAnalyzerHost(
  gateway: QueryRunner,
  analyzers: readonly Analyzer[],
  log: Logger,
  opts: HostOptions = {},
): RunningHost {
  const rarity = opts.rarity ?? new GraphRarity(gateway);
  const lastRun: RunningHost['lastRun'] = { stats: [], failed: [] };
  const follow = async (
    batchHits: readonly Hit[],
    failed: Array<{ id: string; error: string }> = [],
  ): Promise<Hit[]> => {
    const followers = opts.followers ?? FOLLOWERS;
    const byKind = keysByKind(followedKeys(batchHits, followers));
    if (byKind.size === 0) return [];
    const hits: Hit[] = [];
    for (const a of followers) {
      try {
        const r = await runAnalyzer(a, byKind, { gateway, rarity, log, chunkSize: opts.chunkSize ?? 2000 });
        hits.push(...r.hits);
      } catch (err) {
        failed.push({ id: a.id, error: errorText(err) });
        log.warn('analyzer failed', { analyzer: a.id, error: errorText(err) });
      }
    }
    return dedupeHits(hits);
  };
  return {
    analyzers,
    lastRun,
    async run(changedKeys: string[]): Promise<Hit[]> {
      const byKind = keysByKind(changedKeys);
      const hits: Hit[] = [];
      const stats: AnalyzerRunStats[] = [];
      const failed: Array<{ id: string; error: string }> = [];
      if (byKind.size > 0) {
        await pool(analyzers, opts.concurrency ?? 4, async (a) => {
          try {
            const r = await runAnalyzer(a, byKind, {
              gateway,
              rarity,
              log,
              chunkSize: opts.chunkSize ?? 2000,
            });
            hits.push(...r.hits);
            stats.push(r.stats);
          } catch (err) {
            failed.push({ id: a.id, error: errorText(err) });
            log.warn('analyzer failed', { analyzer: a.id, error: errorText(err) });
          }
        });
      }
      const found = dedupeHits(hits);
      if (stats.length > 0) {
        // Which analyzers an update cost most: the first place to look when analysis falls behind.
        const slowest = [...stats]
          .sort((a, b) => b.ms - a.ms)
          .slice(0, 5)
          .map((s) => ({ id: s.id, ms: s.ms, queries: s.queries, rows: s.rows }));
        log.info('analyzers ran', {
          analyzers: stats.length,
          queries: stats.reduce((n, s) => n + s.queries, 0),
          keys: changedKeys.length,
          truncated: stats.reduce((n, s) => n + s.truncated, 0),
          slowest,
        });
      }
      // Follow-ups of this run's own hits (follow.ts); Sigma hits are followed by the stage through follow().
      const followed = await follow(found, failed);
      lastRun.stats = stats;
      lastRun.failed = failed;
      return [...found, ...followed];
    },
    follow: (batchHits) => follow(batchHits),
  };
}

/** Loads the built-in pack and the analyzers of `dir` (LENSGRAPH_ANALYZERS_DIR). */
export async function loadAnalyzers(
  dir: string | undefined,
  builtinDir = BUILTIN_DIR,
): Promise<LoadedAnalyzers> {
  const loaded: LoadedAnalyzers = { analyzers: [], report: { loaded: [], failed: [] } };
  await loadAnalyzersFrom(builtinDir, 'builtin', loaded);
  if (dir) await loadAnalyzersFrom(path.resolve(dir), 'extra', loaded);
  return loaded;
}

export async function loadAnalyzerHost(
  gateway: GraphGateway,
  dir: string | undefined,
  log: Logger,
): Promise<AnalyzerHost & { report: AnalyzerLoadReport }> {
  const { analyzers, report } = await loadAnalyzers(dir);
  for (const f of report.failed) log.warn('analyzer not loaded', { analyzer: f.name, error: f.error });
  log.info('analyzers loaded', { loaded: report.loaded.length, failed: report.failed.length });
  const host = createAnalyzerHost(gateway, analyzers, log);
  return Object.assign(host, { report });
}
