/**
 * The engagement API as the browser sees it: GraphQL documents (against server/graphql/schema.ts), the
 * shapes they answer, and the react-query keys. Every string in these shapes may be attacker-controlled
 * (it came from telemetry or from another user): render it as React text only.
 */

export type LensStatus = 'New' | 'Investigating' | 'Closed';
export type Resolution = 'TruePositive' | 'FalsePositive' | 'Benign' | 'Duplicate';
export type LensSort = 'score' | 'lastActivity';
export type ScopeRole = 'risky' | 'context';
export type Direction = 'out' | 'in' | 'both';

export const LENS_STATUSES: readonly LensStatus[] = ['New', 'Investigating', 'Closed'];
export const RESOLUTIONS: readonly Resolution[] = ['TruePositive', 'FalsePositive', 'Benign', 'Duplicate'];
export const RESOLUTION_TEXT: Record<Resolution, string> = {
  TruePositive: 'True positive',
  FalsePositive: 'False positive',
  Benign: 'Benign (expected activity)',
  Duplicate: 'Duplicate of another lens',
};

export interface Lens {
  id: string;
  type: 'engagement' | 'asset';
  title: string;
  status: LensStatus;
  score: number;
  hosts: string[];
  techniques: string[];
  tags: string[];
  assignee: string | null;
  riskCount: number;
  riskyCount: number;
  nodeCount: number;
  detectionCount: number;
  hitCount: number;
  resolution: Resolution | null;
  resolutionSummary: string | null;
  duplicateOf: string | null;
  mergedInto: string | null;
  reopenedByPipeline: boolean;
  reopenReason: string | null;
  createdAt: string;
  updatedAt: string;
  statusChangedAt: string | null;
  closedAt: string | null;
  closedBy: string | null;
  firstSeen: string | null;
  lastSeen: string | null;
}

/** Node properties: values are strings, numbers or string lists (times are epoch milliseconds). */
export type Props = Record<string, unknown>;

export interface GraphNode {
  key: string;
  kind: string | null;
  host: string | null;
  label: string;
  riskScore: number;
  props: Props;
}

/** A node as the lens page lists and draws it: without its properties (the node panel asks for those). */
export type NodeSummary = Omit<GraphNode, 'props'>;

export interface ScopeNode {
  node: NodeSummary;
  role: ScopeRole;
  addedBy: string | null;
  addedAt: string | null;
}

export interface GraphEdge {
  kind: string;
  from: string;
  to: string;
  count: number | null;
  firstSeen: string | null;
  lastSeen: string | null;
}

export interface Risk {
  key: string;
  node: string;
  detection: string;
  source: string;
  title: string;
  summary: string;
  score: number;
  techniques: string[];
  count: number;
  firstSeen: string | null;
  lastSeen: string | null;
}

export interface TimelineEvent {
  time: string;
  kind: string;
  node: string;
  target: string | null;
  text: string;
}

export interface Note {
  id: string;
  target: string;
  targetKind: string;
  text: string;
  author: string;
  createdAt: string;
  updatedAt: string;
  version: number;
  editedBy: string | null;
}

export interface AuditEntry {
  id: string;
  target: string;
  targetKind: string;
  at: string;
  actor: string;
  action: string;
  before: unknown;
  after: unknown;
}

export interface LensDetail {
  lens: Lens;
  redirectedFrom: string | null;
  nodes: ScopeNode[];
  edges: GraphEdge[];
  risks: Risk[];
  timeline: TimelineEvent[];
  notes: Note[];
  audit: AuditEntry[];
  truncated: { nodes: boolean; edges: boolean; timeline: boolean; audit: boolean };
}

export interface NeighbourGroup {
  edgeKind: string;
  direction: Direction;
  total: number;
}

export interface NodeDetail {
  node: GraphNode;
  risks: Risk[];
  notes: Note[];
  neighbourGroups: NeighbourGroup[];
  lenses: Array<Pick<Lens, 'id' | 'title' | 'status' | 'score'>>;
}

export interface NeighbourPage {
  nodes: GraphNode[];
  edges: GraphEdge[];
  total: number;
  nextCursor: string | null;
}

export interface LensPage {
  lenses: Lens[];
  nextCursor: string | null;
  total: number;
}

export type LensType = 'engagement' | 'asset';

export interface LensFilter {
  status?: LensStatus[];
  type?: LensType;
  host?: string;
  technique?: string;
  minScore?: number;
  assignee?: string;
  text?: string;
}

export const LENS_FIELDS = `id type title status score hosts techniques tags assignee riskCount riskyCount
  nodeCount detectionCount hitCount resolution resolutionSummary duplicateOf mergedInto reopenedByPipeline
  reopenReason createdAt updatedAt statusChangedAt closedAt closedBy firstSeen lastSeen`;
const NODE_FIELDS = 'key kind host label riskScore props';
// The lens page draws every node of a lens but shows one node's properties at a time (NODE_QUERY):
// leaving them out makes a big lens's answer several times smaller, and quicker to build, send and parse.
const SUMMARY_FIELDS = 'key kind host label riskScore';
const EDGE_FIELDS = 'kind from to count firstSeen lastSeen';
const RISK_FIELDS = 'key node detection source title summary score techniques count firstSeen lastSeen';
const NOTE_FIELDS = 'id target targetKind text author createdAt updatedAt version editedBy';

export const LENSES_QUERY = /* GraphQL */ `
  query Lenses($filter: LensFilter, $sort: LensSort, $first: Int, $after: String) {
    lenses(filter: $filter, sort: $sort, first: $first, after: $after) {
      lenses { ${LENS_FIELDS} }
      nextCursor
      total
    }
  }
`;

export const LENS_QUERY = /* GraphQL */ `
  query Lens($id: ID!) {
    lens(id: $id) {
      lens { ${LENS_FIELDS} }
      redirectedFrom
      nodes { node { ${SUMMARY_FIELDS} } role addedBy addedAt }
      edges { ${EDGE_FIELDS} }
      risks { ${RISK_FIELDS} }
      timeline { time kind node target text }
      notes { ${NOTE_FIELDS} }
      audit { id target targetKind at actor action before after }
      truncated { nodes edges timeline audit }
    }
  }
`;

export const NODE_QUERY = /* GraphQL */ `
  query Node($key: ID!) {
    node(key: $key) {
      node { ${NODE_FIELDS} }
      risks { ${RISK_FIELDS} }
      notes { ${NOTE_FIELDS} }
      neighbourGroups { edgeKind direction total }
      lenses { id title status score }
    }
  }
`;

export const NEIGHBOURS_QUERY = /* GraphQL */ `
  query Neighbours($key: ID!, $edgeKind: String, $direction: Direction, $limit: Int, $after: String) {
    neighbours(key: $key, edgeKind: $edgeKind, direction: $direction, limit: $limit, after: $after) {
      nodes { ${NODE_FIELDS} }
      edges { ${EDGE_FIELDS} }
      total
      nextCursor
    }
  }
`;

export const SEARCH_QUERY = /* GraphQL */ `
  query Search($text: String!, $kinds: [String!], $limit: Int) {
    search(text: $text, kinds: $kinds, limit: $limit) { ${NODE_FIELDS} }
  }
`;

export const LENS_REPORT_QUERY = /* GraphQL */ `
  query LensReport($id: ID!) {
    lensReport(id: $id)
  }
`;

export const ME_QUERY = /* GraphQL */ `
  query Me {
    me { username role }
  }
`;

export const LENS_CHANGED_SUBSCRIPTION = /* GraphQL */ `
  subscription LensChanged {
    lensChanged { kind lens { id status score updatedAt } }
  }
`;

export const SET_STATUS = /* GraphQL */ `
  mutation SetLensStatus($id: ID!, $status: LensStatus!, $resolution: Resolution, $summary: String, $duplicateOf: ID) {
    setLensStatus(id: $id, status: $status, resolution: $resolution, summary: $summary, duplicateOf: $duplicateOf) { id status }
  }
`;

export const ASSIGN = /* GraphQL */ `
  mutation AssignLens($id: ID!, $assignee: String) {
    assignLens(id: $id, assignee: $assignee) { id assignee }
  }
`;

/** What a change of several lenses at once did to each (the incident list's triage). */
export interface LensChangeOutcome {
  id: string;
  lens: { id: string; status: LensStatus; assignee: string | null } | null;
  error: { code: string; message: string } | null;
}

export const SET_LENSES_STATUS = /* GraphQL */ `
  mutation SetLensesStatus($ids: [ID!]!, $status: LensStatus!, $resolution: Resolution, $summary: String) {
    setLensesStatus(ids: $ids, status: $status, resolution: $resolution, summary: $summary) {
      id
      lens { id status assignee }
      error { code message }
    }
  }
`;

export const ASSIGN_LENSES = /* GraphQL */ `
  mutation AssignLenses($ids: [ID!]!, $assignee: String) {
    assignLenses(ids: $ids, assignee: $assignee) {
      id
      lens { id status assignee }
      error { code message }
    }
  }
`;

export const SET_TAGS = /* GraphQL */ `
  mutation SetLensTags($id: ID!, $tags: [String!]!) {
    setLensTags(id: $id, tags: $tags) { id tags }
  }
`;

export const ADD_NOTE = /* GraphQL */ `
  mutation AddNote($lens: ID, $node: ID, $text: String!) {
    addNote(lens: $lens, node: $node, text: $text) { id }
  }
`;

export const EDIT_NOTE = /* GraphQL */ `
  mutation EditNote($id: ID!, $text: String!) {
    editNote(id: $id, text: $text) { id version }
  }
`;

export const ADD_TO_LENS = /* GraphQL */ `
  mutation AddToLens($lens: ID!, $node: ID!, $role: ScopeRole) {
    addToLens(lens: $lens, node: $node, role: $role) { id nodeCount }
  }
`;

export const REMOVE_FROM_LENS = /* GraphQL */ `
  mutation RemoveFromLens($lens: ID!, $node: ID!) {
    removeFromLens(lens: $lens, node: $node) { id nodeCount }
  }
`;

export const lensesKey = (filter: LensFilter, sort: LensSort) => ['lenses', filter, sort] as const;
export const lensKey = (id: string) => ['lens', id] as const;
export const nodeKey = (key: string) => ['node', key] as const;
export const ME_KEY = ['me'] as const;

/** The engagement page's address: the lens, and the selected node when there is one. */
export function lensHref(id: string, node?: string | null): string {
  const base = `/incidents/${encodeURIComponent(id)}`;
  return node ? `${base}?node=${encodeURIComponent(node)}` : base;
}
