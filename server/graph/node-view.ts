/**
 * One shaping of graph nodes and edges for the API (node detail, neighbours, paths, search): kind from
 * labels, model properties only, the short label of server/engagements/present.ts, highest risk score.
 */
import { z } from 'zod';
import { EDGE_KINDS, propSpec, type EdgeKind, type NodeKind, type PropValue } from '../../domain/model';
import { kindOfLabels, nodeLabel } from '../engagements/present';

export interface NodeView {
  key: string;
  kind: NodeKind | null;
  host: string | null;
  label: string;
  riskScore: number;
  /** Model properties only (bookkeeping properties are not shown); times are epoch ms. */
  props: Record<string, PropValue>;
}

export interface EdgeView {
  kind: EdgeKind;
  from: string;
  to: string;
  count: number | null;
  firstSeen: number | null;
  lastSeen: number | null;
}

/** Properties the model declares for this kind, with values of the model's types. */
export function modelProps(kind: NodeKind | null, props: Record<string, unknown>): Record<string, PropValue> {
  const out: Record<string, PropValue> = {};
  if (!kind) return out;
  for (const [k, v] of Object.entries(props)) {
    if (!propSpec(kind, k)) continue;
    if (typeof v === 'string' || typeof v === 'number') out[k] = v;
    else if (Array.isArray(v) && v.every((x) => typeof x === 'string')) out[k] = v as string[];
  }
  return out;
}

/** The Cypher projection `NODE_PROJECTION('m')` returns and `toNodeView` reads. */
export const nodeProjection = (v: string) =>
  `{key: ${v}.key, labels: labels(${v}), props: properties(${v}), scores: [(${v})-[:HAS_RISK]->(rsk:Risk) | rsk.score]}`;

const NodeRow = z.object({
  key: z.string(),
  labels: z.array(z.string()).catch([]),
  props: z.record(z.string(), z.unknown()).catch({}),
  scores: z.array(z.unknown()).catch([]),
});

export function toNodeView(row: unknown): NodeView {
  const r = NodeRow.parse(row);
  const kind = kindOfLabels(r.labels);
  const props = modelProps(kind, r.props);
  const host =
    typeof props.host === 'string' ? props.host : kind === 'Asset' ? r.key.slice('Asset:'.length) : null;
  return {
    key: r.key,
    kind,
    host,
    label: nodeLabel(kind, r.key, props),
    riskScore: r.scores.reduce<number>((a, b) => (typeof b === 'number' && b > a ? b : a), 0),
    props,
  };
}

/** The Cypher projection of a relationship `r` that `toEdgeView` reads. */
export const edgeProjection = (r: string) =>
  `{kind: type(${r}), from: startNode(${r}).key, to: endNode(${r}).key, count: ${r}.count, firstSeen: ${r}.first_seen, lastSeen: ${r}.last_seen}`;

const num = z.number().nullable().catch(null);
const EdgeRow = z.object({
  kind: z.enum(EDGE_KINDS as [EdgeKind, ...EdgeKind[]]),
  from: z.string(),
  to: z.string(),
  count: num,
  firstSeen: num,
  lastSeen: num,
});

export function toEdgeView(row: unknown): EdgeView {
  return EdgeRow.parse(row);
}
