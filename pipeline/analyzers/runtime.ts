/**
 * Runs one analyzer anchored on the changed keys: its compiled query (read transaction, parameters only)
 * in chunks of keys, every returned row checked against the query's columns, `hits` called per match,
 * each draft shaped and validated. Errors of one match are counted and logged, not thrown, so one bad
 * row cannot hide the others; a failing query throws (the host reports the analyzer and moves on).
 */
import neo4j from 'neo4j-driver';
import type { Hit } from '../../domain/detection';
import { kindOfKey, type NodeKind } from '../../domain/model';
import type { Logger } from '../../lib/log';
import type { CompiledQuery } from './sdk/compile';
import type { Analyzer, AnalyzerContext, HitDraft, MatchRow } from './sdk/define';
import { latestTime, shapeHit } from './sdk/hits';
import type { EdgeVars, Match, NodeVars, Query } from './sdk/query';
import type { QueryRunner, Rarity } from './sdk/rarity';

export interface RunDeps {
  readonly gateway: QueryRunner;
  readonly rarity: Rarity;
  readonly log: Logger;
  /** Keys per query (default 2000). */
  readonly chunkSize?: number;
}

export interface AnalyzerRunStats {
  readonly id: string;
  ms: number;
  queries: number;
  rows: number;
  hits: number;
  rowErrors: number;
  /** First row error, for the log. */
  firstError?: string;
  /** Anchor nodes whose matches alone reached the row limit, so some of them were not seen. */
  truncated: number;
  /** The first of those, for the log. */
  firstTruncated?: string;
}

/** Changed keys by node kind (keys without a known kind are dropped). */
export function keysByKind(keys: readonly string[]): Map<NodeKind, string[]> {
  const out = new Map<NodeKind, string[]>();
  for (const k of new Set(keys)) {
    const kind = kindOfKey(k);
    if (!kind) continue;
    const list = out.get(kind);
    if (list) list.push(k);
    else out.set(kind, [k]);
  }
  return out;
}

function chunks<T>(xs: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < xs.length; i += size) out.push(xs.slice(i, i + size));
  return out;
}

/** Parameter sets covering every anchor key once: one kind's chunk at a time, the others empty. */
export function paramSets(
  compiled: CompiledQuery,
  byKind: Map<NodeKind, string[]>,
  limit: number,
  chunkSize: number,
): Record<string, unknown>[] {
  const base: Record<string, unknown> = { ...compiled.params, limit: neo4j.int(limit) };
  for (const p of compiled.intParams) base[p] = neo4j.int(Number(compiled.params[p]));
  const params = [...new Set(compiled.anchors.map((a) => a.param))];
  const kindOfParam = new Map(compiled.anchors.map((a) => [a.param, a.kind] as const));
  for (const p of params) base[p] = [];
  const out: Record<string, unknown>[] = [];
  for (const p of params) {
    const keys = byKind.get(kindOfParam.get(p)!) ?? [];
    for (const c of chunks(keys, chunkSize)) out.push({ ...base, [p]: c });
  }
  return out;
}

function isNodeRow(v: unknown): v is { key: string } {
  return (
    typeof v === 'object' &&
    v !== null &&
    !Array.isArray(v) &&
    typeof (v as { key?: unknown }).key === 'string'
  );
}

/** A row as returned by Neo4j, checked against the query's columns; undefined when it does not fit. */
export function checkRow(compiled: CompiledQuery, row: Record<string, unknown>): MatchRow | undefined {
  const out: Record<string, unknown> = {};
  for (const c of compiled.columns) {
    const v = row[c.name];
    if (c.type === 'node') {
      if (!isNodeRow(v)) return undefined;
    } else if (c.type === 'edge') {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    } else if (!Array.isArray(v) || !v.every(isNodeRow)) return undefined;
    out[c.name] = v;
  }
  return out;
}

/** Identity of a match: the keys of its nodes (branches may return the same match: UNION ALL). */
function signature(compiled: CompiledQuery, row: MatchRow): string {
  return compiled.columns
    .filter((c) => c.type === 'node')
    .map((c) => (row[c.name] as { key: string }).key)
    .join('\u0000');
}

/** How many times its analyzer's limit one anchor node's matches may reach before they are cut. */
export const SINGLE_NODE_LIMIT_FACTOR = 10;

async function execute(
  op: string,
  compiled: CompiledQuery,
  byKind: Map<NodeKind, string[]>,
  limit: number,
  deps: RunDeps,
  stats?: AnalyzerRunStats,
): Promise<MatchRow[]> {
  const seen = new Set<string>();
  const out: MatchRow[] = [];
  const anchorParams = [...new Set(compiled.anchors.map((a) => a.param))];
  const take = (rows: readonly Record<string, unknown>[]): void => {
    for (const r of rows) {
      const row = checkRow(compiled, r);
      if (!row) {
        if (stats) {
          stats.rowErrors++;
          stats.firstError ??= 'a returned row does not fit the query columns';
        }
        continue;
      }
      const sig = signature(compiled, row);
      if (seen.has(sig)) continue;
      seen.add(sig);
      out.push(row);
    }
  };
  // A branch stops at `limit` rows, so a query that returned that many may have been cut, and the cut
  // could drop the one match that matters (an attacker can flood a batch with look-alike events to push
  // theirs out). Such keys are run again in halves until every part returns fewer rows than the limit. A
  // single anchor node that alone reaches the limit (one process padding its own accesses with harmless
  // ones) is run once more with SINGLE_NODE_LIMIT_FACTOR times the limit; only beyond that is it left cut,
  // counted and logged.
  const cover = async (
    params: Record<string, unknown>,
    param: string,
    keys: readonly string[],
    rowLimit = limit,
  ): Promise<void> => {
    const rows = await deps.gateway.query<Record<string, unknown>>(op, compiled.cypher, {
      ...params,
      [param]: keys,
      ...(rowLimit === limit ? {} : { limit: neo4j.int(rowLimit) }),
    });
    if (stats) stats.queries++;
    take(rows);
    if (rows.length < rowLimit) return;
    if (keys.length > 1) {
      const mid = keys.length >> 1;
      await cover(params, param, keys.slice(0, mid));
      await cover(params, param, keys.slice(mid));
    } else if (rowLimit === limit) {
      await cover(params, param, keys, limit * SINGLE_NODE_LIMIT_FACTOR);
    } else if (stats) {
      stats.truncated++;
      stats.firstTruncated ??= keys[0];
    }
  };
  for (const params of paramSets(compiled, byKind, limit, deps.chunkSize ?? 2000)) {
    const param = anchorParams.find((p) => (params[p] as readonly string[]).length > 0);
    if (param) await cover(params, param, params[param] as readonly string[]);
  }
  return out;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Runs `analyzer` on the changed keys; returns its hits (shaped and valid) and what it cost. */
export async function runAnalyzer(
  analyzer: Analyzer,
  byKind: Map<NodeKind, string[]>,
  deps: RunDeps,
  compiled: CompiledQuery = analyzer.compiled,
): Promise<{ hits: Hit[]; stats: AnalyzerRunStats }> {
  const t0 = Date.now();
  const stats: AnalyzerRunStats = {
    id: analyzer.id,
    ms: 0,
    queries: 0,
    rows: 0,
    hits: 0,
    rowErrors: 0,
    truncated: 0,
  };
  const relevant = compiled.anchors.some((a) => (byKind.get(a.kind)?.length ?? 0) > 0);
  if (!relevant) return { hits: [], stats };
  const log = deps.log.child({ analyzer: analyzer.id });
  const ctx: AnalyzerContext = {
    rarity: deps.rarity,
    log,
    expand: async <V extends NodeVars, E extends EdgeVars, O extends NodeVars>(
      query: Query<V, E, O>,
      keys: readonly string[],
    ) => {
      const declared = analyzer.expansions.find((e) => e.query === query || e.query.spec === query.spec);
      if (!declared)
        throw new Error(`expand(): the query is not one of analyzer ${analyzer.id}'s declared expansions`);
      const c = declared.compiled;
      const kk = new Map<NodeKind, string[]>();
      for (const a of c.anchors) kk.set(a.kind, [...keys]);
      const rows = await execute(`analyzer:${analyzer.id}:expand`, c, kk, analyzer.limit, deps, stats);
      return rows as unknown as Match<V, E, O>[];
    },
  };
  const rows = await execute(`analyzer:${analyzer.id}`, compiled, byKind, analyzer.limit, deps, stats);
  stats.rows = rows.length;
  const hits: Hit[] = [];
  const now = Date.now();
  for (const row of rows) {
    let result;
    try {
      result = await analyzer.hits(row, ctx);
    } catch (err) {
      stats.rowErrors++;
      stats.firstError ??= `hits() threw: ${errorText(err)}`;
      continue;
    }
    if (result === null || result === undefined) continue;
    const drafts: readonly HitDraft[] = Array.isArray(result) ? result : [result as HitDraft];
    for (const d of drafts) {
      if (!d || typeof d !== 'object') continue;
      const riskyRows = (d.risky ?? []).filter(
        (r): r is { key: string } => typeof r === 'object' && r !== null,
      );
      const shaped = shapeHit(
        analyzer,
        d,
        latestTime(riskyRows.length > 0 ? riskyRows : Object.values(row), now),
      );
      if (shaped.ok) hits.push(shaped.hit);
      else {
        stats.rowErrors++;
        stats.firstError ??= `invalid hit: ${shaped.error}`;
      }
    }
  }
  stats.hits = hits.length;
  stats.ms = Date.now() - t0;
  if (stats.rowErrors > 0)
    log.warn('analyzer match errors', { errors: stats.rowErrors, first: stats.firstError });
  if (stats.truncated > 0)
    log.warn('analyzer row limit reached by single nodes; some of their matches were not evaluated', {
      nodes: stats.truncated,
      first: stats.firstTruncated,
      limit: analyzer.limit * SINGLE_NODE_LIMIT_FACTOR,
    });
  return { hits, stats };
}

/** One hit per (detection, risky nodes): the highest score, context united. */
export function dedupeHits(hits: readonly Hit[]): Hit[] {
  const by = new Map<string, Hit>();
  for (const h of hits) {
    const k = `${h.detection}|${[...h.riskyNodes].sort().join(',')}`;
    const prev = by.get(k);
    if (!prev) {
      by.set(k, h);
      continue;
    }
    const best = h.score > prev.score ? h : prev;
    by.set(k, {
      ...best,
      techniques: [...new Set([...prev.techniques, ...h.techniques])].slice(0, 50),
      contextNodes: [...new Set([...prev.contextNodes, ...h.contextNodes])].slice(0, 200),
      time: Math.min(prev.time, h.time),
    });
  }
  return [...by.values()];
}
