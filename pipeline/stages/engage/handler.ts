/**
 * engage: hits -> Risk nodes, one per (detection, node), whose count and last-seen grow with every new
 * hit, each chunk (by content digest) applied exactly once. Lens grouping builds on these risks.
 */
import type { Hit } from '../../../domain/detection';
import { kindOfKey, type NodeKind } from '../../../domain/model';
import type { GraphGateway } from '../../../lib/neo4j';
import { HitsPayload } from '../../payloads';
import type { StageDefinition } from '../../runner';

interface RiskRow {
  key: string;
  node: string;
  detection: string;
  source: string;
  title: string;
  score: number;
  techniques: string[];
  summary: string;
  time: number;
  count: number;
  context: string[];
}

/** Fold hits into one row per (detection, risky node). Pure; tested. */
export function riskRows(hits: Hit[]): Map<NodeKind, RiskRow[]> {
  const byKey = new Map<string, RiskRow & { kind: NodeKind }>();
  for (const h of hits) {
    for (const node of h.riskyNodes) {
      const kind = kindOfKey(node);
      if (!kind) continue;
      const key = `${h.detection}|${node}`;
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
          count: 1,
          context: [...h.contextNodes],
        });
      } else {
        prev.count++;
        prev.score = Math.max(prev.score, h.score);
        prev.time = Math.min(prev.time, h.time);
        prev.techniques = [...new Set([...prev.techniques, ...h.techniques])];
        prev.context = [...new Set([...prev.context, ...h.contextNodes])].slice(0, 200);
      }
    }
  }
  const out = new Map<NodeKind, RiskRow[]>();
  for (const { kind, ...row } of byKey.values()) out.set(kind, [...(out.get(kind) ?? []), row]);
  return out;
}

// The label comes from the domain model (never from input); values are parameters.
export function riskCypher(kind: NodeKind): string {
  return `UNWIND $rows AS r
MATCH (n:${kind} {key: r.node})
MERGE (k:Risk {key: r.key})
  ON CREATE SET k.detection = r.detection, k.source = r.source, k.title = r.title, k.summary = r.summary,
                k.first_seen = r.time, k.last_seen = r.time, k.count = 0, k.score = r.score, k.techniques = []
SET k.count = k.count + r.count,
    k.score = CASE WHEN r.score > k.score THEN r.score ELSE k.score END,
    k.first_seen = CASE WHEN r.time < k.first_seen THEN r.time ELSE k.first_seen END,
    k.last_seen = CASE WHEN r.time > k.last_seen THEN r.time ELSE k.last_seen END,
    k.techniques = k.techniques + [t IN r.techniques WHERE NOT t IN k.techniques]
MERGE (n)-[:HAS_RISK]->(k)
RETURN count(k) AS n`;
}

export function createEngageStage(gateway: GraphGateway): StageDefinition<HitsPayload, null> {
  return {
    name: 'engage',
    payload: HitsPayload,
    async handle(inputs, ctx) {
      const parts = inputs.flatMap((i) => i.payload.parts);
      const ids = parts.map((p) => `engage/${p.digest}`);
      await gateway.write('engage.risks', async (tx) => {
        const applied = await tx.run<{ id: string }>(
          'UNWIND $ids AS id MATCH (a:AppliedChunk {id: id}) RETURN a.id AS id',
          { ids },
        );
        const done = new Set(applied.records.map((r) => r.get('id')));
        const fresh = [...new Map(parts.map((p) => [p.digest, p] as const)).values()].filter(
          (p) => !done.has(`engage/${p.digest}`),
        );
        const rows = riskRows(fresh.flatMap((p) => p.hits));
        for (const [kind, kindRows] of rows) await tx.run(riskCypher(kind), { rows: kindRows });
        await tx.run('UNWIND $ids AS id MERGE (a:AppliedChunk {id: id}) ON CREATE SET a.at = timestamp()', {
          ids: fresh.map((p) => `engage/${p.digest}`),
        });
      });
      const perChunk = new Map(parts.map((p) => [p.chunk, p.hits.length] as const));
      await ctx.uploads.recordFindings(
        parts.map((p) => p.chunk),
        perChunk,
      );
      return null;
    },
  };
}
