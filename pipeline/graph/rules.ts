/**
 * The merge rules of domain/model.ts as pure functions, for coalescing in memory before a write. They
 * compute exactly what the Cypher of pipeline/merge computes in the database, so merging in memory first
 * and in Neo4j later gives the same result as writing every row on its own, in any order:
 *
 *   immutable  set once: the first non-empty value, and when sources disagree (two events with different
 *              call traces, `C:\Windows\x.exe` / `C:\windows\x.exe` spelled by different events) the
 *              smallest value (code-point order) wins, so the result never depends on arrival order
 *   increment  max          decrement  min          counter  sum          union  set union, order kept
 */
import {
  EdgeKinds,
  NodeKinds,
  type EdgeKind,
  type GraphEdge,
  type GraphNode,
  type NodeKind,
  type PropSpec,
  type PropValue,
} from '../../domain/model';

export type Props = Record<string, PropValue>;

export function isEmptyValue(v: PropValue | undefined | null): boolean {
  return v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0);
}

export function mergeValue(
  spec: PropSpec,
  cur: PropValue | undefined,
  next: PropValue | undefined,
): PropValue | undefined {
  if (isEmptyValue(next)) return cur;
  if (isEmptyValue(cur)) return next;
  switch (spec.merge) {
    case 'immutable':
      return (next as string | number) < (cur as string | number) ? next : cur;
    case 'increment':
      return (next as number) > (cur as number) ? next : cur;
    case 'decrement':
      return (next as number) < (cur as number) ? next : cur;
    case 'counter':
      return (cur as number) + (next as number);
    case 'union': {
      const a = cur as string[];
      const b = next as string[];
      let out: string[] | undefined;
      for (const x of b) {
        if (!a.includes(x) && !(out?.includes(x) ?? false)) (out ??= [...a]).push(x);
      }
      return out ?? a;
    }
  }
}

/** Merges `src` into `dst` (mutated) by the rules of `specs`; properties not in `specs` are ignored. */
export function mergePropsInto(specs: Record<string, PropSpec>, dst: Props, src: Props): void {
  for (const name in src) {
    const spec = specs[name];
    if (!spec) continue;
    const v = mergeValue(spec, dst[name], src[name]);
    if (v !== undefined) dst[name] = v;
  }
}

/**
 * Only the properties the model declares for `specs`, each of its declared type, empty values dropped,
 * union lists de-duplicated. Everything written to Neo4j goes through this.
 */
export function sanitizeProps(specs: Record<string, PropSpec>, props: Record<string, unknown>): Props {
  const out: Props = {};
  for (const name in props) {
    const spec = specs[name];
    if (!spec) continue;
    const v = props[name];
    if (spec.type === 'string') {
      if (typeof v === 'string' && v !== '') out[name] = v;
    } else if (spec.type === 'number') {
      if (typeof v === 'number' && Number.isFinite(v)) out[name] = v;
    } else if (Array.isArray(v)) {
      const list: string[] = [];
      for (const x of v) if (typeof x === 'string' && x !== '' && !list.includes(x)) list.push(x);
      if (list.length > 0) out[name] = list;
    }
  }
  return out;
}

export function nodeSpecs(kind: NodeKind): Record<string, PropSpec> {
  return NodeKinds[kind].props as Record<string, PropSpec>;
}

export function edgeSpecs(kind: EdgeKind): Record<string, PropSpec> {
  return EdgeKinds[kind].props as Record<string, PropSpec>;
}

export function edgeId(e: { kind: string; from: string; to: string }): string {
  return edgeIdOf(e.kind, e.from, e.to);
}

function edgeIdOf(kind: string, from: string, to: string): string {
  return `${from}\u0000${kind}\u0000${to}`;
}

/**
 * Accumulates nodes and edges, merging duplicates by the rules as they come. With `trusted`, properties
 * are taken as well-formed (the builder made them) and only copied; otherwise they are sanitised first.
 */
export class GraphAccumulator {
  readonly nodes = new Map<string, GraphNode>();
  readonly edges = new Map<string, GraphEdge>();

  constructor(private readonly trusted = false) {}

  private clean(specs: Record<string, PropSpec>, props: Record<string, PropValue>): Props {
    return this.trusted ? { ...props } : sanitizeProps(specs, props);
  }

  addNode(node: GraphNode): void {
    this.addNodeParts(node.kind, node.key, node.props);
  }

  /** addNode without a node object to build first (identity resolution calls this per process reference). */
  addNodeParts(kind: NodeKind, key: string, props: Props): void {
    const specs = nodeSpecs(kind);
    const cur = this.nodes.get(key);
    if (!cur) {
      this.nodes.set(key, { kind, key, props: this.clean(specs, props) });
      return;
    }
    mergePropsInto(specs, cur.props, this.trusted ? props : sanitizeProps(specs, props));
  }

  addEdge(edge: GraphEdge): void {
    this.addEdgeParts(edge.kind, edge.from, edge.to, edge.props);
  }

  /** addEdge without an edge object to build first. */
  addEdgeParts(kind: EdgeKind, from: string, to: string, props: Props): void {
    const specs = edgeSpecs(kind);
    const id = edgeIdOf(kind, from, to);
    const cur = this.edges.get(id);
    if (!cur) {
      this.edges.set(id, { kind, from, to, props: this.clean(specs, props) });
      return;
    }
    mergePropsInto(specs, cur.props, this.trusted ? props : sanitizeProps(specs, props));
  }

  toSubgraph(): { nodes: GraphNode[]; edges: GraphEdge[] } {
    return { nodes: [...this.nodes.values()], edges: [...this.edges.values()] };
  }
}
