/**
 * API data to cytoscape elements: the one pure transform between the engagement API and the canvas
 * (ENGINEERING.md §9). Tested in elements.test.ts. Labels drawn on the canvas are never parsed as HTML.
 */
import type { ElementDefinition } from 'cytoscape';
import type { GraphEdge, GraphNode, ScopeRole } from '../engagement/api';
import { formatScore, riskLevel } from '../engagement/format';

export interface GraphInput {
  /** Nodes in the lens's scope, with their role. */
  scope: ReadonlyArray<{ node: GraphNode; role: ScopeRole }>;
  /** Nodes shown but not (yet) in scope: just expanded or added, until the lens is refetched. */
  extra?: readonly GraphNode[];
  edges: readonly GraphEdge[];
  hidden?: ReadonlySet<string>;
  pinned?: ReadonlySet<string>;
  /** Nodes to mark (e.g. the selected timeline entries). */
  highlighted?: ReadonlySet<string>;
}

export const LABEL_MAX = 48;

export function edgeId(e: Pick<GraphEdge, 'kind' | 'from' | 'to'>): string {
  return `${e.kind}|${e.from}|${e.to}`;
}

export function truncate(text: string, max = LABEL_MAX): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** `CONNECTED_TO` -> `connected to`, with `×3` when the edge was seen more than once. */
export function edgeLabel(e: Pick<GraphEdge, 'kind' | 'count'>): string {
  const name = e.kind.toLowerCase().replace(/_/g, ' ');
  return e.count && e.count > 1 ? `${name} ×${e.count}` : name;
}

/** The node's canvas label: short text, and the risk score as a badge line when it has risks. */
export function nodeLabel(n: Pick<GraphNode, 'label' | 'key' | 'riskScore'>): string {
  const text = truncate(n.label || n.key);
  return n.riskScore > 0 ? `${text}\n▲ ${formatScore(n.riskScore)}` : text;
}

export function toElements(input: GraphInput): ElementDefinition[] {
  const hidden = input.hidden ?? new Set<string>();
  const pinned = input.pinned ?? new Set<string>();
  const highlighted = input.highlighted ?? new Set<string>();
  const nodes = new Map<string, { node: GraphNode; role: ScopeRole | 'shown' }>();
  for (const s of input.scope) if (!nodes.has(s.node.key)) nodes.set(s.node.key, s);
  for (const n of input.extra ?? []) if (!nodes.has(n.key)) nodes.set(n.key, { node: n, role: 'shown' });

  const out: ElementDefinition[] = [];
  for (const [key, { node, role }] of nodes) {
    if (hidden.has(key)) continue;
    const classes = [role === 'risky' ? 'risky' : 'context'];
    if (pinned.has(key)) classes.push('pinned');
    if (highlighted.has(key)) classes.push('highlight');
    out.push({
      group: 'nodes',
      data: {
        id: key,
        label: nodeLabel(node),
        kind: node.kind ?? 'Unknown',
        host: node.host ?? '',
        riskScore: node.riskScore,
        risk: riskLevel(node.riskScore),
        role,
      },
      classes: classes.join(' '),
      locked: pinned.has(key),
    });
  }

  const seen = new Set<string>();
  for (const e of input.edges) {
    const id = edgeId(e);
    if (seen.has(id)) continue;
    if (!nodes.has(e.from) || !nodes.has(e.to) || hidden.has(e.from) || hidden.has(e.to)) continue;
    seen.add(id);
    out.push({
      group: 'edges',
      data: { id, source: e.from, target: e.to, kind: e.kind, label: edgeLabel(e) },
    });
  }
  return out;
}

export type LayoutName = 'dagre' | 'cose';

/** Process trees read top-down (dagre); graphs without parent/child edges spread out (cose). */
export function layoutFor(elements: readonly ElementDefinition[]): LayoutName {
  return elements.some((e) => e.group === 'edges' && e.data.kind === 'PARENT_OF') ? 'dagre' : 'cose';
}

/** A key-set signature of the elements: the layout runs again only when nodes come or go. */
export function structureSignature(elements: readonly ElementDefinition[]): string {
  return elements
    .filter((e) => e.group === 'nodes')
    .map((e) => String(e.data.id))
    .sort()
    .join('\n');
}
