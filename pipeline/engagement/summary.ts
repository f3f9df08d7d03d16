/**
 * A lens's aggregates from its risks: score (score.ts), a title, hosts, techniques and time span. Pure;
 * the repository stores the result on the Lens node so lists can filter and sort without recomputing.
 */
import { scoreAggregates, type RiskInput } from './score';

export interface LensRisk extends RiskInput {
  title: string;
  host: string | null;
  firstSeen: number | null;
  lastSeen: number | null;
  count: number;
}

export interface LensSummary {
  score: number;
  title: string;
  hosts: string[];
  techniques: string[];
  detections: number;
  riskCount: number;
  riskyCount: number;
  hitCount: number;
  firstSeen: number | null;
  lastSeen: number | null;
}

/**
 * What a lens's summary depends on, aggregated over its risks. The engage stage has Neo4j compute it
 * (repository.ts lensAggregates) so that recomputing a lens costs a few rows, not one per risk; aggregateRisks
 * is the same in TypeScript, the reference the database query is tested against.
 */
export interface LensRiskAggregates {
  /** Highest score of each distinct detection (not clamped). */
  best: ReadonlyMap<string, number>;
  /** Every technique of every risk. */
  techniques: readonly string[];
  /** Hosts of the risky nodes. */
  hosts: readonly string[];
  /** Distinct risky nodes that have a risk. */
  nodes: number;
  risks: number;
  /** Sum of the risks' counts. */
  hits: number;
  firstSeen: number | null;
  lastSeen: number | null;
  /** Title of the strongest risk (strongerRisk); null without risks. */
  topTitle: string | null;
}

/**
 * The strongest risk first: highest score, then the most recent, then the title last in code-point order
 * (two rules of one level firing on one event tie on both; the order is arbitrary but must be fixed, and
 * this one is Neo4j's `max([score, lastSeen, title])`, so the database picks it without sorting).
 */
export function strongerRisk(
  a: Pick<LensRisk, 'score' | 'lastSeen' | 'title'>,
  b: Pick<LensRisk, 'score' | 'lastSeen' | 'title'>,
): number {
  return (
    b.score - a.score ||
    (b.lastSeen ?? 0) - (a.lastSeen ?? 0) ||
    (a.title > b.title ? -1 : a.title < b.title ? 1 : 0)
  );
}

export function aggregateRisks(risks: readonly LensRisk[]): LensRiskAggregates {
  const best = new Map<string, number>();
  const techniques = new Set<string>();
  const hosts = new Set<string>();
  const nodes = new Set<string>();
  let hits = 0;
  let firstSeen: number | null = null;
  let lastSeen: number | null = null;
  let top: LensRisk | undefined;
  for (const r of risks) {
    const score = Number.isFinite(r.score) ? r.score : 0; // as score.ts clamps it
    best.set(r.detection, Math.max(best.get(r.detection) ?? -Infinity, score));
    for (const t of r.techniques ?? []) techniques.add(t);
    if (r.host) hosts.add(r.host);
    nodes.add(r.node);
    hits += r.count ?? 1;
    if (typeof r.firstSeen === 'number')
      firstSeen = firstSeen === null ? r.firstSeen : Math.min(firstSeen, r.firstSeen);
    if (typeof r.lastSeen === 'number')
      lastSeen = lastSeen === null ? r.lastSeen : Math.max(lastSeen, r.lastSeen);
    if (!top || strongerRisk(r, top) < 0) top = r;
  }
  return {
    best,
    techniques: [...techniques],
    hosts: [...hosts],
    nodes: nodes.size,
    risks: risks.length,
    hits,
    firstSeen,
    lastSeen,
    topTitle: top ? top.title : null,
  };
}

export function summarizeLens(
  type: 'engagement' | 'asset',
  risks: readonly LensRisk[],
  assetHost?: string,
): LensSummary {
  return summarizeAggregates(type, aggregateRisks(risks), assetHost);
}

export function summarizeAggregates(
  type: 'engagement' | 'asset',
  a: LensRiskAggregates,
  assetHost?: string,
): LensSummary {
  const s = scoreAggregates(a.best.values(), a.techniques, a.nodes);
  const hosts = [...new Set(a.hosts.filter((h) => !!h))].sort();
  if (assetHost && !hosts.includes(assetHost)) hosts.unshift(assetHost);
  const techniques = [...new Set(a.techniques)].sort();
  // The strongest detection names the lens (strongerRisk).
  const top = a.topTitle;
  const others = s.detections - 1;
  const more = others === 0 ? '' : others === 1 ? ' (+1 detection)' : ` (+${others} detections)`;
  const where =
    hosts.length === 0
      ? ''
      : hosts.length <= 3
        ? hosts.join(', ')
        : `${hosts.slice(0, 3).join(', ')} +${hosts.length - 3}`;
  let title: string;
  if (type === 'asset')
    title =
      top !== null
        ? `${assetHost ?? where}: ${top}${more}`
        : (assetHost ?? where);
  else
    title =
      top !== null
        ? `${top}${more}${where ? ` on ${where}` : ''}`
        : 'Engagement';
  return {
    score: s.score,
    title: title.slice(0, 300),
    hosts,
    techniques,
    detections: s.detections,
    riskCount: a.risks,
    riskyCount: s.nodes,
    hitCount: a.hits,
    firstSeen: a.firstSeen,
    lastSeen: a.lastSeen,
  };
}
