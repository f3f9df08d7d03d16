/**
 * The analyzer host: loads analyzers from the built-in pack and LENSGRAPH_ANALYZERS_DIR and runs them on
 * the nodes an update changed. One analyzer that fails to load or throws is reported and skipped; the
 * others keep running.
 */
import path from 'node:path';
import type { Hit } from '../../domain/detection';
import type { NodeKind } from '../../domain/model';
import type { Logger } from '../../lib/log';
import type { GraphGateway } from '../../lib/neo4j';
import type { AnalyzerHost } from '../stages/analyze/handler';
import { keysFor, prefetchCypher, prefetchPlan, type NodeFacts } from './anchor-prefilter';
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
  /**
   * Read the anchors' filtered properties and required edge counts once per run and give each analyzer only
   * the keys that may start a match (anchor-prefilter.ts; default true). Off: every analyzer gets every
   * changed key.
   */
  prefilter?: boolean;
}

export interface RunningHost extends AnalyzerHost {
  readonly analyzers: readonly Analyzer[];
  /** Per-analyzer cost and outcome of the last run, and the analyzers that threw. */
  readonly lastRun: {
    stats: AnalyzerRunStats[];
    failed: Array<{ id: string; error: string }>;
    /** Analyzers that ran no query because none of the changed keys could start a match (anchor-prefilter.ts). */
    skipped: string[];
  };
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
  const lastRun: RunningHost['lastRun'] = { stats: [], failed: [], skipped: [] };
  const chunkSize = opts.chunkSize ?? 2000;
  // Per node kind, the prefetch statement: fixed by the analyzers' queries, so built once here.
  const prefetchCyphers = new Map<NodeKind, string>(
    opts.prefilter === false
      ? []
      : [...prefetchPlan(analyzers.map((a) => a.query.spec))].map(([kind, plan]) => [
          kind,
          prefetchCypher(kind, plan),
        ]),
  );
  /**
   * What the anchors' filters and required edges need to know of the changed nodes, by key. Each fact is a
   * real read, so a read that failed only leaves its keys out (kept for every analyzer, as when not found).
   */
  const prefetch = async (byKind: ReadonlyMap<NodeKind, readonly string[]>) => {
    const out = new Map<string, NodeFacts>();
    const reads: Promise<void>[] = [];
    for (const [kind, cypher] of prefetchCyphers) {
      const keys = byKind.get(kind) ?? [];
      for (let i = 0; i < keys.length; i += chunkSize) {
        const part = keys.slice(i, i + chunkSize);
        reads.push(
          gateway
            .query<{
              n: Record<string, unknown>;
              d: Record<string, number>;
            }>(`analyze.prefetch.${kind}`, cypher, { keys: part })
            .then((rows) => {
              for (const r of rows)
                if (typeof r.n?.key === 'string') out.set(r.n.key, { props: r.n, degrees: r.d ?? {} });
            }),
        );
      }
    }
    const failures = (await Promise.allSettled(reads)).flatMap((r) =>
      r.status === 'rejected' ? [r.reason] : [],
    );
    if (failures.length > 0) {
      log.warn('anchor prefetch failed; its keys go to every analyzer', {
        failed: failures.length,
        reads: reads.length,
        error: errorText(failures[0]),
      });
    }
    return out;
  };
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
        const r = await runAnalyzer(a, byKind, { gateway, rarity, log, chunkSize });
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
      const skipped: string[] = [];
      if (byKind.size > 0) {
        const facts = prefetchCyphers.size > 0 ? await prefetch(byKind) : undefined;
        await pool(analyzers, opts.concurrency ?? 4, async (a) => {
          const keys = facts ? keysFor(a.query.spec, byKind, facts) : byKind;
          if (keys.size === 0) {
            skipped.push(a.id);
            return;
          }
          try {
            const r = await runAnalyzer(a, keys, { gateway, rarity, log, chunkSize });
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
          skipped: skipped.length,
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
      lastRun.skipped = skipped;
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
