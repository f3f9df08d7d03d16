/**
 * Many subgraphs -> one set of rows per label and relationship type: keys rewritten through the aliases,
 * duplicates merged by the rules (pipeline/graph/rules.ts), rows that do not fit the model dropped, and a
 * node row added for every edge endpoint so that the edge statements can MATCH both ends. Pure.
 */
import {
  EdgeKinds,
  kindOfKey,
  NodeKinds,
  type EdgeKind,
  type GraphEdge,
  type GraphNode,
  type NodeKind,
  type Subgraph,
} from '../../domain/model';
import { GraphAccumulator } from '../graph/rules';
import type { Alias } from '../identity/resolve';

export interface Coalesced {
  /** Rows per label, sorted by key (a stable lock order makes deadlocks between writers rarer). */
  nodes: Map<NodeKind, GraphNode[]>;
  /** Rows per relationship type, sorted by (from, to). */
  edges: Map<EdgeKind, GraphEdge[]>;
  nodesIn: number;
  edgesIn: number;
  /** Rows that did not fit the model (unknown kind, key of another kind, endpoint of the wrong kind). */
  dropped: number;
}

/**
 * `from -> to` with chains followed to their end (`a->b`, `b->c` => `a->c`, `b->c`); aliases between keys
 * of different kinds, or that loop, are ignored. Later entries win for the same `from`.
 */
export function resolveAliasMap(aliases: readonly Alias[]): Map<string, string> {
  const direct = new Map<string, string>();
  for (const a of aliases) {
    const kf = kindOfKey(a.from);
    if (!kf || kf !== kindOfKey(a.to) || a.from === a.to) continue;
    direct.set(a.from, a.to);
  }
  const out = new Map<string, string>();
  for (const from of direct.keys()) {
    let to = direct.get(from)!;
    const seen = new Set([from]);
    let cyclic = false;
    while (direct.has(to)) {
      if (seen.has(to)) {
        cyclic = true;
        break;
      }
      seen.add(to);
      to = direct.get(to)!;
    }
    if (!cyclic && to !== from) out.set(from, to);
  }
  return out;
}

export function coalesce(
  subgraphs: readonly Subgraph[],
  rewrite: ReadonlyMap<string, string> = new Map(),
): Coalesced {
  const acc = new GraphAccumulator();
  const re = (k: string) => rewrite.get(k) ?? k;
  let nodesIn = 0;
  let edgesIn = 0;
  let dropped = 0;
  for (const g of subgraphs) {
    for (const n of g.nodes) {
      nodesIn++;
      if (!(n.kind in NodeKinds) || kindOfKey(n.key) !== n.kind) {
        dropped++;
        continue;
      }
      acc.addNode({ kind: n.kind, key: re(n.key), props: n.props });
    }
  }
  for (const g of subgraphs) {
    for (const e of g.edges) {
      edgesIn++;
      const spec = EdgeKinds[e.kind];
      if (!spec || kindOfKey(e.from) !== spec.from || kindOfKey(e.to) !== spec.to) {
        dropped++;
        continue;
      }
      acc.addEdge({ kind: e.kind, from: re(e.from), to: re(e.to), props: e.props });
    }
  }
  // Endpoints without a node row of their own: a row with the edge's times (the node was seen then).
  for (const e of acc.edges.values()) {
    for (const key of [e.from, e.to]) {
      if (acc.nodes.has(key)) continue;
      const kind = kindOfKey(key)!;
      const props: Record<string, number> = {};
      if (typeof e.props.first_seen === 'number') props.first_seen = e.props.first_seen;
      if (typeof e.props.last_seen === 'number') props.last_seen = e.props.last_seen;
      acc.addNode({ kind, key, props });
    }
  }
  const nodes = new Map<NodeKind, GraphNode[]>();
  for (const n of acc.nodes.values()) {
    let list = nodes.get(n.kind);
    if (!list) nodes.set(n.kind, (list = []));
    list.push(n);
  }
  for (const list of nodes.values()) list.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const edges = new Map<EdgeKind, GraphEdge[]>();
  for (const e of acc.edges.values()) {
    let list = edges.get(e.kind);
    if (!list) edges.set(e.kind, (list = []));
    list.push(e);
  }
  for (const list of edges.values()) {
    list.sort((a, b) =>
      a.from < b.from ? -1 : a.from > b.from ? 1 : a.to < b.to ? -1 : a.to > b.to ? 1 : 0,
    );
  }
  return { nodes, edges, nodesIn, edgesIn, dropped };
}
