/**
 * A lens's aggregates from its risks: score (score.ts), a title, hosts, techniques and time span. Pure;
 * the repository stores the result on the Lens node so lists can filter and sort without recomputing.
 */
import { scoreRisks, type RiskInput } from './score';

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

export function summarizeLens(type: 'engagement' | 'asset', risks: readonly LensRisk[], assetHost?: string): LensSummary {
  const s = scoreRisks(risks);
  const hosts = [...new Set(risks.map((r) => r.host).filter((h): h is string => !!h))].sort();
  if (assetHost && !hosts.includes(assetHost)) hosts.unshift(assetHost);
  const techniques = [...new Set(risks.flatMap((r) => r.techniques ?? []))].sort();
  // The strongest detection names the lens; ties go to the most recent.
  const top = [...risks].sort((a, b) => b.score - a.score || (b.lastSeen ?? 0) - (a.lastSeen ?? 0) || (a.title < b.title ? -1 : 1))[0];
  const others = s.detections - 1;
  const where = hosts.length === 0 ? '' : hosts.length <= 3 ? hosts.join(', ') : `${hosts.slice(0, 3).join(', ')} +${hosts.length - 3}`;
  let title: string;
  if (type === 'asset') title = top ? `${assetHost ?? where}: ${top.title}${others > 0 ? ` (+${others} detections)` : ''}` : (assetHost ?? where);
  else title = top ? `${top.title}${others > 0 ? ` (+${others} detections)` : ''}${where ? ` on ${where}` : ''}` : 'Engagement';
  const firsts = risks.map((r) => r.firstSeen).filter((t): t is number => typeof t === 'number');
  const lasts = risks.map((r) => r.lastSeen).filter((t): t is number => typeof t === 'number');
  return {
    score: s.score,
    title: title.slice(0, 300),
    hosts,
    techniques,
    detections: s.detections,
    riskCount: risks.length,
    riskyCount: s.nodes,
    hitCount: risks.reduce((a, r) => a + (r.count ?? 1), 0),
    firstSeen: firsts.length ? firsts.reduce((a, b) => Math.min(a, b)) : null,
    lastSeen: lasts.length ? lasts.reduce((a, b) => Math.max(a, b)) : null,
  };
}
