/**
 * Hits -> one Risk row per (detection, risky node), folded within a batch. Pure; tested in
 * pipeline/stages/engage/handler.test.ts.
 */
import type { Hit } from '../../domain/detection';
import { kindOfKey, type NodeKind } from '../../domain/model';
import type { RiskRow } from './repository';

export function riskKey(detection: string, node: string): string {
  return `${detection}|${node}`;
}

/** Fold hits into one row per (detection, risky node), grouped by node kind. */
export function riskRows(hits: readonly Hit[]): Map<NodeKind, RiskRow[]> {
  const byKey = new Map<string, RiskRow & { kind: NodeKind }>();
  for (const h of hits) {
    for (const node of h.riskyNodes) {
      const kind = kindOfKey(node);
      if (!kind) continue;
      const key = riskKey(h.detection, node);
      const prev = byKey.get(key);
      if (!prev) {
        byKey.set(key, {
          kind,
          key,
          node,
          detection: h.detection,
          source: h.source,
          title: h.title,
          score: h.score,
          techniques: [...h.techniques],
          summary: h.summary,
          time: h.time,
          last: h.time,
          count: 1,
          context: [...h.contextNodes],
        });
      } else {
        prev.count++;
        prev.score = Math.max(prev.score, h.score);
        prev.time = Math.min(prev.time, h.time);
        prev.last = Math.max(prev.last, h.time);
        prev.techniques = [...new Set([...prev.techniques, ...h.techniques])];
        prev.context = [...new Set([...prev.context, ...h.contextNodes])].slice(0, 200);
      }
    }
  }
  const out = new Map<NodeKind, RiskRow[]>();
  for (const { kind, ...row } of byKey.values()) out.set(kind, [...(out.get(kind) ?? []), row]);
  return out;
}

/** Hits with their node keys rewritten through the merge stage's aliases (folded provisional processes). */
export function rewriteHits(hits: readonly Hit[], aliases: ReadonlyMap<string, string>): Hit[] {
  if (aliases.size === 0) return [...hits];
  const re = (k: string) => aliases.get(k) ?? k;
  return hits.map((h) => ({
    ...h,
    riskyNodes: [...new Set(h.riskyNodes.map(re))],
    contextNodes: [...new Set(h.contextNodes.map(re))],
  }));
}
