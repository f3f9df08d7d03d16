/**
 * The graph service: what the graph explorer reads. One node with its risks, notes, neighbour counts and
 * lenses; its neighbours page by page; a shortest path between two nodes; full-text search. Every method
 * needs a viewer allowed to read (sessions of every role, `read` tokens; never `ingest` tokens), parses
 * its input (BAD_INPUT) and throws AppError codes only. Per-node lookups take lists of keys so the API
 * can batch them (DataLoader, see server/graphql/loaders.ts).
 */
import { z } from 'zod';
import { AppError } from '../../domain/errors';
import { EDGE_KINDS, NODE_KINDS, kindOfKey, type EdgeKind, type NodeKind } from '../../domain/model';
import type { GraphGateway } from '../../lib/neo4j';
import { EngagementRepository } from '../engagements/repository';
import type { LensSummary, NoteView, RiskView } from '../engagements/types';
import { requirePermission, type Viewer } from '../auth/roles';
import { literalQuery, SEARCH_TEXT_MAX } from './lucene';
import type { EdgeView, NodeView } from './node-view';
import { GraphRepository, type Direction, type NeighbourGroup, type NeighbourRow } from './repository';

export const GRAPH_LIMITS = {
  neighboursDefault: 50,
  neighboursMax: 200,
  hopsDefault: 6,
  hopsMax: 8,
  searchDefault: 25,
  searchMax: 100,
  /** Keys per batched lookup. */
  batchMax: 200,
} as const;

export interface NeighbourPage {
  nodes: NodeView[];
  edges: EdgeView[];
  total: number;
  nextCursor: string | null;
}

const NodeKeyInput = z
  .string()
  .min(1)
  .max(2000)
  .refine((k) => kindOfKey(k) !== undefined, 'not a node key (Kind:identity with a known kind)');

const Cursor = z.object({ n: z.string(), e: z.string().nullable(), d: z.string(), k: z.string() }).strict();

function parse<S extends z.ZodType>(schema: S, input: unknown, field: string): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) {
    const msg = r.error.issues.map((i) => i.message).join('; ');
    throw new AppError('BAD_INPUT', `${field}: ${msg}`.slice(0, 300), { field });
  }
  return r.data;
}

function limitOf(value: number | null | undefined, fallback: number, max: number, field: string): number {
  if (value === null || value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw new AppError('BAD_INPUT', `${field}: must be a whole number from 1 to ${max}`, { field });
  return Math.min(value, max);
}

export function parseEdgeKind(v: string | null | undefined): EdgeKind | null {
  if (v === null || v === undefined) return null;
  if (!(EDGE_KINDS as readonly string[]).includes(v)) {
    throw new AppError('BAD_INPUT', `edgeKind: unknown edge kind; one of ${EDGE_KINDS.join(', ')}`, {
      field: 'edgeKind',
    });
  }
  return v as EdgeKind;
}

export function parseNodeKinds(v: readonly string[] | null | undefined): NodeKind[] | null {
  if (v === null || v === undefined || v.length === 0) return null;
  const bad = v.filter((k) => !(NODE_KINDS as readonly string[]).includes(k));
  if (bad.length > 0) {
    throw new AppError('BAD_INPUT', `kinds: unknown node kind; one of ${NODE_KINDS.join(', ')}`, {
      field: 'kinds',
    });
  }
  return [...new Set(v)] as NodeKind[];
}

function parseDirection(v: string | null | undefined): Direction {
  if (v === null || v === undefined) return 'both';
  if (v === 'out' || v === 'in' || v === 'both') return v;
  throw new AppError('BAD_INPUT', 'direction: out, in or both', { field: 'direction' });
}

export function encodeNeighbourCursor(c: z.infer<typeof Cursor>): string {
  return Buffer.from(JSON.stringify(c)).toString('base64url');
}

function decodeNeighbourCursor(cursor: string, expect: { n: string; e: string | null; d: string }): string {
  try {
    const c = Cursor.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (c.success && c.data.n === expect.n && c.data.e === expect.e && c.data.d === expect.d) return c.data.k;
  } catch {
    // fall through
  }
  throw new AppError('BAD_INPUT', 'after: the cursor belongs to another list or is damaged.', { field: 'after' });
}

export class GraphService {
  private readonly repo: GraphRepository;
  private readonly engagements: EngagementRepository;

  constructor(deps: { gateway: GraphGateway }) {
    this.repo = new GraphRepository(deps.gateway);
    this.engagements = new EngagementRepository(deps.gateway);
  }

  /** The nodes of these keys, in the order asked; null for a key that names no node. */
  async nodes(viewer: Viewer | null, keys: readonly string[]): Promise<Array<NodeView | null>> {
    requirePermission(viewer, 'read');
    const valid = this.batch(keys);
    const found = new Map((await this.repo.nodes(valid)).map((n) => [n.key, n] as const));
    return keys.map((k) => found.get(k) ?? null);
  }

  async risks(viewer: Viewer | null, keys: readonly string[]): Promise<RiskView[][]> {
    requirePermission(viewer, 'read');
    const m = await this.repo.risks(this.batch(keys));
    return keys.map((k) => m.get(k) ?? []);
  }

  async notes(viewer: Viewer | null, keys: readonly string[]): Promise<NoteView[][]> {
    requirePermission(viewer, 'read');
    const notes = await this.engagements.notes(this.batch(keys));
    return keys.map((k) => notes.filter((n) => n.target === k));
  }

  async neighbourGroups(viewer: Viewer | null, keys: readonly string[]): Promise<NeighbourGroup[][]> {
    requirePermission(viewer, 'read');
    const m = await this.repo.neighbourGroups(this.batch(keys));
    return keys.map((k) => m.get(k) ?? []);
  }

  async lenses(viewer: Viewer | null, keys: readonly string[]): Promise<LensSummary[][]> {
    requirePermission(viewer, 'read');
    const m = await this.repo.lensesOf(this.batch(keys));
    return keys.map((k) => m.get(k) ?? []);
  }

  /** Neighbours in key order; `after` is the previous page's nextCursor. */
  async neighbours(
    viewer: Viewer | null,
    input: {
      key: string;
      edgeKind?: string | null;
      direction?: string | null;
      limit?: number | null;
      after?: string | null;
    },
  ): Promise<NeighbourPage> {
    requirePermission(viewer, 'read');
    const key = parse(NodeKeyInput, input.key, 'key');
    const edgeKind = parseEdgeKind(input.edgeKind);
    const direction = parseDirection(input.direction);
    const limit = limitOf(input.limit, GRAPH_LIMITS.neighboursDefault, GRAPH_LIMITS.neighboursMax, 'limit');
    const scope = { n: key, e: edgeKind, d: direction };
    const after = input.after ? decodeNeighbourCursor(input.after, scope) : '';
    const { rows, total } = await this.repo.neighbours(key, direction, edgeKind, after, limit + 1);
    const page: NeighbourRow[] = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      nodes: page.map((r) => r.node),
      edges: page.flatMap((r) => r.edges),
      total,
      nextCursor: rows.length > limit && last ? encodeNeighbourCursor({ ...scope, k: last.node.key }) : null,
    };
  }

  /** A shortest path over the graph's own edges (either direction); null when there is none. */
  async path(
    viewer: Viewer | null,
    input: { from: string; to: string; maxHops?: number | null },
  ): Promise<{ nodes: NodeView[]; edges: EdgeView[] } | null> {
    requirePermission(viewer, 'read');
    const from = parse(NodeKeyInput, input.from, 'from');
    const to = parse(NodeKeyInput, input.to, 'to');
    const hops = limitOf(input.maxHops, GRAPH_LIMITS.hopsDefault, GRAPH_LIMITS.hopsMax, 'maxHops');
    if (from === to) {
      const [node] = await this.repo.nodes([from]);
      return node ? { nodes: [node], edges: [] } : null;
    }
    return this.repo.shortestPath(from, to, hops);
  }

  /** Literal full-text search (see lucene.ts); strongest matches first, then by key. */
  async search(
    viewer: Viewer | null,
    input: { text: string; kinds?: readonly string[] | null; limit?: number | null },
  ): Promise<NodeView[]> {
    requirePermission(viewer, 'read');
    if (typeof input.text !== 'string' || input.text.length > SEARCH_TEXT_MAX) {
      throw new AppError('BAD_INPUT', `text: at most ${SEARCH_TEXT_MAX} characters`, { field: 'text' });
    }
    const kinds = parseNodeKinds(input.kinds);
    const limit = limitOf(input.limit, GRAPH_LIMITS.searchDefault, GRAPH_LIMITS.searchMax, 'limit');
    const query = literalQuery(input.text);
    if (query === null) return [];
    return this.repo.search(query, kinds, limit);
  }

  /** Keys worth looking up: known kinds only, at most batchMax (a DataLoader batch never exceeds it). */
  private batch(keys: readonly string[]): string[] {
    if (keys.length > GRAPH_LIMITS.batchMax) throw new AppError('BAD_INPUT', 'Too many nodes at once.');
    return keys.filter((k) => typeof k === 'string' && k.length <= 2000 && kindOfKey(k) !== undefined);
  }
}
