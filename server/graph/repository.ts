/**
 * Graph reads for the API: nodes, their risks, neighbour counts, neighbours page by page, shortest paths
 * and full-text search. The only Cypher of server/graph. Labels and relationship types come from
 * domain/model.ts (through `ident`), never from input; every value is a parameter. Nodes are looked up
 * by label and key (the unique constraint of every node kind), so keys are grouped by the kind they name.
 */
import { z } from 'zod';
import { EDGE_KINDS, EdgeKinds, NODE_KINDS, kindOfKey, type EdgeKind, type NodeKind } from '../../domain/model';
import type { GraphGateway } from '../../lib/neo4j';
import { byKind, int } from '../../pipeline/engagement/repository';
import { ident, SEARCH_INDEX } from '../../pipeline/merge/cypher';
import { toLensSummary } from '../engagements/repository';
import type { LensSummary, RiskView } from '../engagements/types';
import { edgeProjection, nodeProjection, toEdgeView, toNodeView, type EdgeView, type NodeView } from './node-view';

export type Direction = 'out' | 'in' | 'both';

export interface NeighbourGroup {
  edgeKind: EdgeKind;
  direction: 'out' | 'in';
  total: number;
}

export interface NeighbourRow {
  node: NodeView;
  /** Every edge between the node and this neighbour that matches the query. */
  edges: EdgeView[];
}

/** Edge kinds a node of `kind` has in each direction, by the model (what neighbour counts look at). */
export function edgeKindsOf(kind: NodeKind): { out: EdgeKind[]; in: EdgeKind[] } {
  return {
    out: EDGE_KINDS.filter((e) => EdgeKinds[e].from === kind),
    in: EDGE_KINDS.filter((e) => EdgeKinds[e].to === kind),
  };
}

/** The relationship pattern of a neighbour query: direction and (when given) type are query text from constants. */
export function neighbourPattern(direction: Direction, edgeKind: EdgeKind | null): { pattern: string; where: string } {
  const t = edgeKind ? `:${ident(edgeKind)}` : '';
  const pattern = direction === 'out' ? `-[r${t}]->` : direction === 'in' ? `<-[r${t}]-` : `-[r${t}]-`;
  return { pattern, where: edgeKind ? 'true' : 'type(r) IN $kinds' };
}

/** The Cypher of a neighbour page and of its total (snapshot-tested in repository.test.ts). */
export function neighbourCypher(kind: NodeKind, direction: Direction, edgeKind: EdgeKind | null) {
  const { pattern, where } = neighbourPattern(direction, edgeKind);
  const page = `MATCH (n:${ident(kind)} {key: $key})
MATCH (n)${pattern}(m)
WHERE ${where} AND m.key > $after
WITH DISTINCT n, m ORDER BY m.key LIMIT $limit
CALL (n, m) {
  MATCH (n)${pattern}(m) WHERE ${where}
  WITH r ORDER BY type(r), startNode(r) = n DESC
  RETURN collect(${edgeProjection('r')}) AS edges
}
RETURN ${nodeProjection('m')} AS node, edges
ORDER BY m.key`;
  const total = `MATCH (n:${ident(kind)} {key: $key})
MATCH (n)${pattern}(m)
WHERE ${where}
RETURN count(DISTINCT m) AS total`;
  return { page, total };
}

/** Neighbour counts of every edge kind and direction the model allows a node kind (degree lookups). */
export function groupCountsCypher(kind: NodeKind): { cypher: string; groups: Array<Omit<NeighbourGroup, 'total'>> } {
  const kinds = edgeKindsOf(kind);
  const groups: Array<Omit<NeighbourGroup, 'total'>> = [
    ...kinds.out.map((edgeKind) => ({ edgeKind, direction: 'out' as const })),
    ...kinds.in.map((edgeKind) => ({ edgeKind, direction: 'in' as const })),
  ];
  const counts = groups.map((g) =>
    g.direction === 'out' ? `COUNT { (n)-[:${ident(g.edgeKind)}]->() }` : `COUNT { (n)<-[:${ident(g.edgeKind)}]-() }`,
  );
  return {
    cypher: `UNWIND $keys AS k
MATCH (n:${ident(kind)} {key: k})
RETURN n.key AS key, [${counts.join(', ')}] AS counts`,
    groups,
  };
}

/** The Cypher of a shortest path of at most `hops` relationships of the model's kinds. */
export function pathCypher(fromKind: NodeKind, toKind: NodeKind, hops: number): string {
  if (!Number.isInteger(hops) || hops < 1 || hops > 8) throw new Error(`hops out of range: ${hops}`);
  // Variable-length bounds cannot be parameters; `hops` is a checked integer. Types in the pattern (not a
  // WHERE over relationships(p)) keep the search a bidirectional breadth-first one.
  return `MATCH (a:${ident(fromKind)} {key: $from}), (b:${ident(toKind)} {key: $to})
MATCH p = shortestPath((a)-[:${EDGE_KINDS.map(ident).join('|')}*..${hops}]-(b))
RETURN [x IN nodes(p) | ${nodeProjection('x')}] AS nodes, [r IN relationships(p) | ${edgeProjection('r')}] AS edges`;
}

export const SEARCH_CYPHER = `CALL db.index.fulltext.queryNodes($index, $query, {limit: $scan}) YIELD node, score
WHERE $kinds IS NULL OR any(l IN labels(node) WHERE l IN $kinds)
WITH node, score ORDER BY score DESC, node.key LIMIT $limit
RETURN ${nodeProjection('node')} AS node`;

const num = z.number().nullable().catch(null);
const RiskRow = z.object({
  key: z.string(),
  node: z.string(),
  detection: z.string().catch(''),
  source: z.string().catch(''),
  title: z.string().catch(''),
  summary: z.string().catch(''),
  score: num.transform((v) => v ?? 0),
  techniques: z
    .array(z.string())
    .nullable()
    .catch(null)
    .transform((v) => v ?? []),
  count: num.transform((v) => v ?? 1),
  firstSeen: num,
  lastSeen: num,
});

const group = <T>(keys: readonly string[], rows: Array<{ key: string; value: T }>): Map<string, T[]> => {
  const out = new Map<string, T[]>(keys.map((k) => [k, []]));
  for (const r of rows) out.get(r.key)?.push(r.value);
  return out;
};

export class GraphRepository {
  constructor(private readonly gateway: GraphGateway) {}

  /** The nodes of these keys that exist (any order). */
  async nodes(keys: readonly string[]): Promise<NodeView[]> {
    const out: NodeView[] = [];
    for (const [kind, list] of byKind(keys)) {
      const rows = await this.gateway.query<{ node: unknown }>(
        'graph.nodes',
        `UNWIND $keys AS k MATCH (n:${ident(kind)} {key: k}) RETURN ${nodeProjection('n')} AS node`,
        { keys: list },
      );
      out.push(...rows.map((r) => toNodeView(r.node)));
    }
    return out;
  }

  /** Risks on each node, strongest first. */
  async risks(keys: readonly string[]): Promise<Map<string, RiskView[]>> {
    const rows: Array<{ key: string; value: RiskView }> = [];
    for (const [kind, list] of byKind(keys)) {
      const res = await this.gateway.query<{ key: string; risk: unknown }>(
        'graph.node-risks',
        `UNWIND $keys AS k
         MATCH (n:${ident(kind)} {key: k})-[:HAS_RISK]->(r:Risk)
         RETURN k AS key, {key: r.key, node: n.key, detection: r.detection, source: r.source, title: r.title,
                summary: r.summary, score: r.score, techniques: r.techniques, count: r.count,
                firstSeen: r.first_seen, lastSeen: r.last_seen} AS risk
         ORDER BY r.score DESC, r.key`,
        { keys: list },
      );
      rows.push(...res.map((r) => ({ key: r.key, value: RiskRow.parse(r.risk) })));
    }
    return group(keys, rows);
  }

  /** Live lenses (not merged away) holding each node in their scope, strongest first. */
  async lensesOf(keys: readonly string[]): Promise<Map<string, LensSummary[]>> {
    const rows: Array<{ key: string; value: LensSummary }> = [];
    for (const [kind, list] of byKind(keys)) {
      const res = await this.gateway.query<{ key: string; lens: unknown }>(
        'graph.node-lenses',
        `UNWIND $keys AS k
         MATCH (l:Lens)-[:SCOPE]->(n:${ident(kind)} {key: k})
         WHERE l.merged_into IS NULL
         RETURN k AS key, properties(l) AS lens
         ORDER BY coalesce(l.score, 0) DESC, l.key`,
        { keys: list },
      );
      rows.push(...res.map((r) => ({ key: r.key, value: toLensSummary(r.lens) })));
    }
    return group(keys, rows);
  }

  /** Neighbour counts per edge kind and direction (only those with neighbours). */
  async neighbourGroups(keys: readonly string[]): Promise<Map<string, NeighbourGroup[]>> {
    const rows: Array<{ key: string; value: NeighbourGroup }> = [];
    for (const [kind, list] of byKind(keys)) {
      const { cypher, groups } = groupCountsCypher(kind);
      if (groups.length === 0) continue;
      const res = await this.gateway.query<{ key: string; counts: unknown[] }>('graph.neighbour-groups', cypher, {
        keys: list,
      });
      for (const r of res) {
        groups.forEach((g, i) => {
          const total = Number(r.counts[i] ?? 0);
          if (total > 0) rows.push({ key: r.key, value: { ...g, total } });
        });
      }
    }
    return group(keys, rows);
  }

  /** Neighbours of a node in key order after `after`, at most `limit`, with the edges that lead to them. */
  async neighbours(
    key: string,
    direction: Direction,
    edgeKind: EdgeKind | null,
    after: string,
    limit: number,
  ): Promise<{ rows: NeighbourRow[]; total: number }> {
    const kind = kindOfKey(key);
    if (!kind) return { rows: [], total: 0 };
    const q = neighbourCypher(kind, direction, edgeKind);
    const params = { key, kinds: EDGE_KINDS, after, limit: int(limit) };
    const [rows, total] = await Promise.all([
      this.gateway.query<{ node: unknown; edges: unknown[] }>('graph.neighbours', q.page, params),
      this.gateway.query<{ total: number }>('graph.neighbour-total', q.total, params),
    ]);
    return {
      rows: rows.map((r) => ({ node: toNodeView(r.node), edges: r.edges.map(toEdgeView) })),
      total: Number(total[0]?.total ?? 0),
    };
  }

  async shortestPath(
    from: string,
    to: string,
    hops: number,
  ): Promise<{ nodes: NodeView[]; edges: EdgeView[] } | null> {
    const a = kindOfKey(from);
    const b = kindOfKey(to);
    if (!a || !b) return null;
    const rows = await this.gateway.query<{ nodes: unknown[]; edges: unknown[] }>(
      'graph.shortest-path',
      pathCypher(a, b, hops),
      { from, to },
    );
    const r = rows[0];
    return r ? { nodes: r.nodes.map(toNodeView), edges: r.edges.map(toEdgeView) } : null;
  }

  /** Full-text search; `query` is a Lucene query built by lucene.ts (never raw user text). */
  async search(query: string, kinds: NodeKind[] | null, limit: number): Promise<NodeView[]> {
    const rows = await this.gateway.query<{ node: unknown }>('graph.search', SEARCH_CYPHER, {
      index: SEARCH_INDEX,
      query,
      kinds: kinds && kinds.length < NODE_KINDS.length ? kinds : null,
      // Kinds are filtered after the index answers: look at more hits than asked for.
      scan: int(kinds ? Math.max(limit * 20, 500) : limit * 2),
      limit: int(limit),
    });
    return rows.map((r) => toNodeView(r.node));
  }
}
