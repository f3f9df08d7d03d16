/**
 * Hits -> one Risk row per (detection, risky node), folded within a batch. Pure; tested in
 * pipeline/stages/engage/handler.test.ts.
 */
import { createHash } from 'node:crypto';
import type { Hit } from '../../domain/detection';
import { kindOfKey, type NodeKind } from '../../domain/model';
import type { RiskRow } from './repository';

export function riskKey(detection: string, node: string): string {
  return `${detection}|${node}`;
}

/**
 * What one occurrence of a detection is, independent of when and how often it was evaluated:
 *   - Sigma matches one event: the event's time (each event reaches Sigma exactly once per chunk);
 *   - an analyzer matches a shape: the set of risky nodes it named. It finds the same shape again whenever a
 *     later update touches its nodes, and with values (times) that converge as the graph fills in, so only
 *     the identities of the matched nodes say whether it is the same occurrence.
 */
export function occurrenceOf(h: Hit): string {
  const basis = h.source === 'sigma' ? `t:${h.time}` : `n:${[...h.riskyNodes].sort().join('\n')}`;
  return createHash('sha1').update(basis).digest('base64url').slice(0, 16);
}

/**
 * Fold hits into one row per (detection, risky node), grouped by node kind. A risk counts distinct
 * occurrences (occurrenceOf), so counts (and lens hit counts) are the same however the pipeline was
 * batched, scheduled, retried or restarted.
 */
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
          occurrences: [occurrenceOf(h)],
          context: [...h.contextNodes],
        });
      } else {
        const occurrence = occurrenceOf(h);
        if (!prev.occurrences.includes(occurrence)) prev.occurrences.push(occurrence);
        prev.count = prev.occurrences.length;
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
