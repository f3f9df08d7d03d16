/**
 * The merge writer's semantics in memory: the reference the Neo4j writer is tested against, and a way to
 * test identity (aliases, order independence) without a database. Same steps as write.ts: exactly-once
 * batch ids, alias rewrite and folding, coalescing, merge by the rules.
 */
import { kindOfKey, type GraphEdge, type GraphNode } from '../../domain/model';
import { edgeId, edgeSpecs, mergePropsInto, nodeSpecs, sanitizeProps } from '../graph/rules';
import type { Alias } from '../identity/resolve';
import { coalesce, resolveAliasMap } from './coalesce';
import type { MergeBatch } from './write';

export class MemoryGraph {
  readonly nodes = new Map<string, GraphNode>();
  readonly edges = new Map<string, GraphEdge>();
  readonly applied = new Set<string>();
  /** AliasedKey records: old key -> canonical key. */
  readonly aliasRecords = new Map<string, string>();

  apply(batches: readonly MergeBatch[]): { skipped: number } {
    const pending: MergeBatch[] = [];
    for (const b of batches) {
      if (this.applied.has(b.id)) continue;
      this.applied.add(b.id);
      pending.push(b);
    }
    const batchAliases = pending.flatMap((b) => b.aliases);
    const known: Alias[] = [...this.aliasRecords].map(([from, to]) => ({ from, to }));
    const rewrite = resolveAliasMap([...known, ...batchAliases]);
    const folds: Alias[] = [];
    const seen = new Set<string>();
    for (const a of batchAliases) {
      const to = rewrite.get(a.from);
      if (!to || seen.has(a.from)) continue;
      seen.add(a.from);
      folds.push({ from: a.from, to });
    }
    for (const f of folds) this.fold(f);
    for (const f of folds) {
      this.aliasRecords.set(f.from, f.to);
      for (const [k, v] of this.aliasRecords) if (v === f.from) this.aliasRecords.set(k, f.to);
    }
    const c = coalesce(
      pending.map((b) => b.subgraph),
      rewrite,
    );
    for (const list of c.nodes.values()) for (const n of list) this.mergeNode(n);
    for (const list of c.edges.values()) for (const e of list) this.mergeEdge(e);
    return { skipped: batches.length - pending.length };
  }

  private mergeNode(n: GraphNode): void {
    const cur = this.nodes.get(n.key);
    if (!cur)
      this.nodes.set(n.key, { kind: n.kind, key: n.key, props: sanitizeProps(nodeSpecs(n.kind), n.props) });
    else mergePropsInto(nodeSpecs(n.kind), cur.props, n.props);
  }

  private mergeEdge(e: GraphEdge): void {
    const id = edgeId(e);
    const cur = this.edges.get(id);
    if (!cur) this.edges.set(id, { ...e, props: sanitizeProps(edgeSpecs(e.kind), e.props) });
    else mergePropsInto(edgeSpecs(e.kind), cur.props, e.props);
  }

  private fold(a: Alias): void {
    const old = this.nodes.get(a.from);
    if (!old) return;
    const kind = kindOfKey(a.to)!;
    this.nodes.delete(a.from);
    this.mergeNode({ kind, key: a.to, props: old.props });
    for (const [id, e] of [...this.edges]) {
      if (e.from !== a.from && e.to !== a.from) continue;
      this.edges.delete(id);
      this.mergeEdge({ ...e, from: e.from === a.from ? a.to : e.from, to: e.to === a.from ? a.to : e.to });
    }
  }

  /** Nodes and edges in a canonical order, for equality checks. */
  snapshot(): { nodes: GraphNode[]; edges: GraphEdge[] } {
    const sortList = (v: unknown) => (Array.isArray(v) ? [...v].sort() : v);
    const norm = <T extends { props: Record<string, unknown> }>(x: T): T => ({
      ...x,
      props: Object.fromEntries(
        Object.entries(x.props)
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([k, v]) => [k, sortList(v)]),
      ),
    });
    return {
      nodes: [...this.nodes.values()].map(norm).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
      edges: [...this.edges.values()]
        .map(norm)
        .sort((a, b) => (edgeId(a) < edgeId(b) ? -1 : edgeId(a) > edgeId(b) ? 1 : 0)),
    };
  }
}
