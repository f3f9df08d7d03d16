/**
 * Engagement reads and writes for the API: the only Cypher of server/engagements. The graph layout is
 * described in pipeline/engagement/repository.ts, whose schema, scope, audit and aggregate statements
 * are shared (one definition of the engagement graph).
 */
import type { ManagedTransaction } from 'neo4j-driver';
import { z } from 'zod';
import { LensStatus, LensType, Resolution } from '../../domain/detection';
import {
  EDGE_KINDS,
  kindOfKey,
  type EdgeKind,
  type NodeKind,
  type PropValue,
} from '../../domain/model';
import type { GraphGateway } from '../../lib/neo4j';
import { byKind, int, RISK_PROJECTION, parseLensRisk } from '../../pipeline/engagement/repository';
import type { LensRisk } from '../../pipeline/engagement/summary';
import { modelProps } from '../graph/node-view';
import { kindOfLabels, nodeLabel, TIMELINE_EDGE_KINDS, type EdgeTimes, type ProcessTimes } from './present';
import type { StatusChange } from './lifecycle';
import type {
  AuditView,
  LensSummary,
  NoteVersionView,
  NoteView,
  RiskView,
  ScopeEdge,
  ScopeNode,
  ScopeRole,
} from './types';

const num = z.number().nullable().catch(null);
const str = z.string().nullable().catch(null);
const strs = z
  .array(z.string())
  .nullable()
  .catch(null)
  .transform((v) => v ?? []);
const n0 = z
  .number()
  .nullable()
  .catch(null)
  .transform((v) => v ?? 0);

const LensProps = z.object({
  key: z.string(),
  type: LensType.catch('engagement'),
  title: z.string().catch(''),
  status: LensStatus.catch('New'),
  score: n0,
  hosts: strs,
  techniques: strs,
  tags: strs,
  assignee: str,
  risk_count: n0,
  risky_count: n0,
  node_count: n0,
  detection_count: n0,
  hit_count: n0,
  resolution: Resolution.nullable().catch(null),
  resolution_summary: str,
  duplicate_of: str,
  merged_into: str,
  reopened_by_pipeline: z
    .boolean()
    .nullable()
    .catch(null)
    .transform((v) => v ?? false),
  reopen_reason: str,
  created_at: n0,
  updated_at: n0,
  status_changed_at: num,
  closed_at: num,
  closed_by: str,
  first_seen: num,
  last_seen: num,
});

export function toLensSummary(props: unknown): LensSummary {
  const p = LensProps.parse(props);
  return {
    id: p.key,
    type: p.type,
    title: p.title,
    status: p.status,
    score: p.score,
    hosts: p.hosts,
    techniques: p.techniques,
    tags: p.tags,
    assignee: p.assignee,
    riskCount: p.risk_count,
    riskyCount: p.risky_count,
    nodeCount: p.node_count,
    detectionCount: p.detection_count,
    hitCount: p.hit_count,
    resolution: p.resolution,
    resolutionSummary: p.resolution_summary,
    duplicateOf: p.duplicate_of,
    mergedInto: p.merged_into,
    reopenedByPipeline: p.reopened_by_pipeline,
    reopenReason: p.reopen_reason,
    createdAt: p.created_at,
    updatedAt: p.updated_at,
    statusChangedAt: p.status_changed_at,
    closedAt: p.closed_at,
    closedBy: p.closed_by,
    firstSeen: p.first_seen,
    lastSeen: p.last_seen,
  };
}

export interface LensFilter {
  statuses?: LensStatus[];
  type?: LensType;
  host?: string;
  technique?: string;
  tag?: string;
  minScore?: number;
  maxScore?: number;
  assignee?: string | null;
  text?: string;
  includeMerged?: boolean;
}

export type LensSort = 'score' | 'lastActivity';

/** Where the previous page ended: its last lens's sort value, tie value and key. */
export interface Cursor {
  v: number;
  t: number;
  k: string;
}

const SORT_VALUE: Record<LensSort, string> = {
  score: 'coalesce(l.score, 0)',
  lastActivity: 'coalesce(l.updated_at, 0)',
};

/**
 * Among lenses of equal sort value, the one active most recently comes first (lenses of the same detections
 * score the same), or the higher score among equal activity times; then the key.
 */
const TIE_VALUE: Record<LensSort, string> = {
  score: 'coalesce(l.updated_at, 0)',
  lastActivity: 'coalesce(l.score, 0)',
};

/** WHERE clauses of a lens list: constant text chosen by which filters are set; values are parameters. */
export function lensFilterCypher(
  f: LensFilter,
  sort: LensSort,
  cursor: Cursor | null,
): { where: string; params: Record<string, unknown> } {
  const c: string[] = [];
  const params: Record<string, unknown> = {};
  if (!f.includeMerged) c.push('l.merged_into IS NULL');
  if (f.statuses && f.statuses.length > 0) {
    c.push('l.status IN $statuses');
    params.statuses = f.statuses;
  }
  if (f.type) {
    c.push('l.type = $type');
    params.type = f.type;
  }
  if (f.host) {
    c.push('any(h IN coalesce(l.hosts, []) WHERE toUpper(h) = $host)');
    params.host = f.host.toUpperCase();
  }
  if (f.technique) {
    c.push("any(t IN coalesce(l.techniques, []) WHERE t = $technique OR t STARTS WITH $technique + '.')");
    params.technique = f.technique;
  }
  if (f.tag) {
    c.push('any(t IN coalesce(l.tags, []) WHERE toLower(t) = $tag)');
    params.tag = f.tag.toLowerCase();
  }
  if (f.minScore !== undefined) {
    c.push('coalesce(l.score, 0) >= $minScore');
    params.minScore = f.minScore;
  }
  if (f.maxScore !== undefined) {
    c.push('coalesce(l.score, 0) <= $maxScore');
    params.maxScore = f.maxScore;
  }
  if (f.assignee === null) c.push('l.assignee IS NULL');
  else if (f.assignee !== undefined) {
    c.push('l.assignee = $assignee');
    params.assignee = f.assignee;
  }
  if (f.text) {
    c.push(
      `(toLower(coalesce(l.title, '')) CONTAINS $text OR toLower(l.key) CONTAINS $text
        OR any(t IN coalesce(l.tags, []) WHERE toLower(t) CONTAINS $text)
        OR any(h IN coalesce(l.hosts, []) WHERE toLower(h) CONTAINS $text))`,
    );
    params.text = f.text.toLowerCase();
  }
  if (cursor) {
    const v = SORT_VALUE[sort];
    const t = TIE_VALUE[sort];
    c.push(
      `(${v} < $cursorValue OR (${v} = $cursorValue AND (${t} < $cursorTie OR (${t} = $cursorTie AND l.key > $cursorKey))))`,
    );
    params.cursorValue = cursor.v;
    params.cursorTie = cursor.t;
    params.cursorKey = cursor.k;
  }
  return { where: c.length > 0 ? `WHERE ${c.join('\n  AND ')}` : '', params };
}

const TIMELINE_KINDS = TIMELINE_EDGE_KINDS.filter((k) => (EDGE_KINDS as readonly string[]).includes(k));

const NoteRow = z.object({
  id: z.string(),
  target: z.string(),
  target_kind: z.enum(['lens', 'node']).catch('lens'),
  text: z.string().catch(''),
  author: z.string().catch(''),
  created_at: n0,
  updated_at: n0,
  version: z.number().catch(1),
  edited_by: str,
  moved_from: str,
});

function toNote(v: unknown): NoteView {
  const n = NoteRow.parse(v);
  return {
    id: n.id,
    target: n.target,
    targetKind: n.target_kind,
    text: n.text,
    author: n.author,
    createdAt: n.created_at,
    updatedAt: n.updated_at,
    version: n.version,
    editedBy: n.edited_by,
    movedFrom: n.moved_from,
  };
}

const parseJson = (v: unknown): unknown => {
  if (typeof v !== 'string') return null;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
};

const AuditRow = z.object({
  id: z.string(),
  target: z.string(),
  target_kind: z.enum(['lens', 'node']).catch('lens'),
  at: n0,
  actor: z.string().catch(''),
  action: z.string().catch(''),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
});

const RiskRow = z.object({
  key: z.string(),
  node: z.string(),
  detection: z.string().catch(''),
  source: z.string().catch(''),
  title: z.string().catch(''),
  summary: z.string().catch(''),
  score: n0,
  techniques: strs,
  count: z
    .number()
    .nullable()
    .catch(null)
    .transform((v) => v ?? 1),
  firstSeen: num,
  lastSeen: num,
});

export interface ExportRow {
  risk: RiskView;
  nodeKey: string;
  kind: NodeKind | null;
  host: string | null;
  processGuid: string | null;
  image: string | null;
  commandLine: string | null;
  sources: string[];
  lens: { id: string; type: LensType; score: number; status: LensStatus } | null;
}

const ExportLens = z
  .object({ key: z.string(), type: LensType.catch('engagement'), score: n0, status: LensStatus.catch('New') })
  .nullable()
  .catch(null);

/**
 * The order in which a lens's scope is shown, and cut at the page's node cap: risky nodes first, then by
 * key. The timeline reads its nodes in the same order, so a cut scope's timeline covers the nodes shown.
 */
const SHOWN_ORDER = "CASE s.role WHEN 'risky' THEN 0 ELSE 1 END, n.key";

export class EngagementRepository {
  constructor(private readonly gateway: GraphGateway) {}

  // ------------------------------------------------------------------------------------------ reads

  async listLenses(
    filter: LensFilter,
    sort: LensSort,
    cursor: Cursor | null,
    limit: number,
  ): Promise<LensSummary[]> {
    const { where, params } = lensFilterCypher(filter, sort, cursor);
    const rows = await this.gateway.query<{ lens: unknown }>(
      'engagement.list-lenses',
      `MATCH (l:Lens)
       ${where}
       WITH l ORDER BY ${SORT_VALUE[sort]} DESC, ${TIE_VALUE[sort]} DESC, l.key ASC
       LIMIT $limit
       RETURN properties(l) AS lens`,
      { ...params, limit: int(limit) },
    );
    return rows.map((r) => toLensSummary(r.lens));
  }

  async countLenses(filter: LensFilter): Promise<number> {
    const { where, params } = lensFilterCypher(filter, 'score', null);
    const rows = await this.gateway.query<{ n: number }>(
      'engagement.count-lenses',
      `MATCH (l:Lens) ${where} RETURN count(l) AS n`,
      params,
    );
    return Number(rows[0]?.n ?? 0);
  }

  async findLens(id: string): Promise<LensSummary | null> {
    const rows = await this.gateway.query<{ lens: unknown }>(
      'engagement.find-lens',
      'MATCH (l:Lens {key: $id}) RETURN properties(l) AS lens',
      { id },
    );
    return rows[0] ? toLensSummary(rows[0].lens) : null;
  }

  async scopeNodes(id: string, limit: number): Promise<ScopeNode[]> {
    const rows = await this.gateway.query<{
      key: string;
      labels: string[];
      role: unknown;
      addedBy: unknown;
      addedAt: unknown;
      props: Record<string, unknown>;
      scores: unknown[];
    }>(
      'engagement.scope-nodes',
      `MATCH (:Lens {key: $id})-[s:SCOPE]->(n)
       WITH s, n ORDER BY ${SHOWN_ORDER}
       LIMIT $limit
       RETURN n.key AS key, labels(n) AS labels, s.role AS role, s.added_by AS addedBy, s.added_at AS addedAt,
              properties(n) AS props, [(n)-[:HAS_RISK]->(r:Risk) | r.score] AS scores`,
      { id, limit: int(limit) },
    );
    return rows.map((r) => {
      const kind = kindOfLabels(r.labels);
      const props = modelProps(kind, r.props);
      const host =
        typeof props.host === 'string' ? props.host : kind === 'Asset' ? r.key.slice('Asset:'.length) : null;
      return {
        key: r.key,
        kind,
        role: r.role === 'risky' ? 'risky' : 'context',
        addedBy: str.parse(r.addedBy),
        addedAt: num.parse(r.addedAt),
        host,
        label: nodeLabel(kind, r.key, props),
        riskScore: r.scores.reduce<number>((a, b) => (typeof b === 'number' && b > a ? b : a), 0),
        props,
      };
    });
  }

  /**
   * Edges among a lens's scope nodes (only among `among` when given: the nodes the page shows), the first
   * `limit` in the order that decides which edges a cap keeps:
   *   1. more risky endpoints first (risky-risky, risky-context, context-context): the relationships among
   *      the flagged nodes are the attack story the analyst is there for;
   *   2. then process-tree edges (PARENT_OF) before the others: the skeleton the layout draws the trees
   *      from, and at most one per process, so they never crowd the rest out;
   *   3. then by kind, from key, to key: edges merge on those three, so the order is total and a cut is
   *      the same on every load, not whatever order the database returned.
   */
  async scopeEdges(id: string, limit: number, among: readonly string[] | null = null): Promise<ScopeEdge[]> {
    const rows = await this.gateway.query<{
      kind: string;
      from: string;
      to: string;
      count: unknown;
      firstSeen: unknown;
      lastSeen: unknown;
    }>(
      'engagement.scope-edges',
      // Two MATCH clauses, not one pattern: a pattern would never use the same SCOPE relationship twice,
      // and so would drop an edge from a node to itself.
      `MATCH (l:Lens {key: $id})-[sa:SCOPE]->(a)-[r]->(b)
       WHERE type(r) IN $kinds AND ($among IS NULL OR (a.key IN $among AND b.key IN $among))
       MATCH (l)-[sb:SCOPE]->(b)
       WITH r, type(r) AS kind, a.key AS fromKey, b.key AS toKey,
            CASE sa.role WHEN 'risky' THEN 1 ELSE 0 END + CASE sb.role WHEN 'risky' THEN 1 ELSE 0 END AS risky
       ORDER BY risky DESC, CASE kind WHEN 'PARENT_OF' THEN 0 ELSE 1 END, kind, fromKey, toKey
       LIMIT $limit
       RETURN kind, fromKey AS from, toKey AS to, r.count AS count, r.first_seen AS firstSeen, r.last_seen AS lastSeen`,
      { id, kinds: EDGE_KINDS, limit: int(limit), among: among ? [...among] : null },
    );
    return rows.map((r) => ({
      kind: r.kind as EdgeKind,
      from: r.from,
      to: r.to,
      count: num.parse(r.count),
      firstSeen: num.parse(r.firstSeen),
      lastSeen: num.parse(r.lastSeen),
    }));
  }

  async risks(id: string, limit: number): Promise<RiskView[]> {
    const rows = await this.gateway.query<{ risk: unknown }>(
      'engagement.lens-risks',
      `MATCH (:Lens {key: $id})-[:SCOPE {role: 'risky'}]->(n)-[:HAS_RISK]->(r:Risk)
       RETURN {key: r.key, node: n.key, detection: r.detection, source: r.source, title: r.title, summary: r.summary,
               score: r.score, techniques: r.techniques, count: r.count, firstSeen: r.first_seen, lastSeen: r.last_seen} AS risk
       ORDER BY r.score DESC, r.key
       LIMIT $limit`,
      { id, limit: int(limit) },
    );
    return rows.map((r) => RiskRow.parse(r.risk));
  }

  /** Risks of a lens's risky scope as the score function takes them. */
  async lensRisksForScore(id: string): Promise<LensRisk[]> {
    const rows = await this.gateway.query<{ risk: unknown }>(
      'engagement.lens-score-risks',
      `MATCH (:Lens {key: $id})-[:SCOPE {role: 'risky'}]->(n)-[:HAS_RISK]->(r:Risk) RETURN ${RISK_PROJECTION} AS risk`,
      { id },
    );
    return rows.map((r) => parseLensRisk(r.risk));
  }

  async timelineSources(
    id: string,
    perNode: number,
    nodeLimit: number,
  ): Promise<{ processes: ProcessTimes[]; edges: EdgeTimes[] }> {
    const procs = await this.gateway.query<{
      key: string;
      image: unknown;
      pid: unknown;
      cmd: unknown;
      user: unknown;
      created: unknown;
      terminated: unknown;
    }>(
      'engagement.timeline-processes',
      `MATCH (:Lens {key: $id})-[s:SCOPE]->(n)
       WITH s, n ORDER BY ${SHOWN_ORDER}
       LIMIT $nodeLimit
       WITH n AS p WHERE p:Process
       RETURN p.key AS key, p.image AS image, p.pid AS pid, p.command_line AS cmd, p.user AS user,
              p.create_time AS created, p.terminate_time AS terminated`,
      { id, nodeLimit: int(nodeLimit) },
    );
    const edges = await this.gateway.query<{
      kind: string;
      from: string;
      fromLabels: string[];
      fromProps: Record<string, unknown>;
      to: string;
      toLabels: string[];
      toProps: Record<string, unknown>;
      inScope: boolean;
      firstSeen: unknown;
      lastSeen: unknown;
      count: unknown;
    }>(
      'engagement.timeline-edges',
      `MATCH (l:Lens {key: $id})-[s:SCOPE]->(a)
       WITH l, s, a ORDER BY ${SHOWN_ORDER.replace('n.key', 'a.key')}
       LIMIT $nodeLimit
       CALL (l, a) {
         MATCH (a)-[r]->(b) WHERE type(r) IN $kinds
         WITH r, b ORDER BY r.first_seen LIMIT $perNode
         RETURN r, b, EXISTS { (l)-[:SCOPE]->(b) } AS inScope
       }
       RETURN type(r) AS kind, a.key AS from, labels(a) AS fromLabels, a{.image, .pid, .path, .name, .ip, .port, .hostname} AS fromProps,
              b.key AS to, labels(b) AS toLabels, b{.image, .pid, .path, .name, .ip, .port, .hostname, .domain, .logon_id} AS toProps,
              inScope, r.first_seen AS firstSeen, r.last_seen AS lastSeen, r.count AS count`,
      { id, kinds: TIMELINE_KINDS, perNode: int(perNode), nodeLimit: int(nodeLimit) },
    );
    const props = (p: Record<string, unknown>) => {
      const out: Record<string, PropValue> = {};
      for (const [k, v] of Object.entries(p)) if (typeof v === 'string' || typeof v === 'number') out[k] = v;
      return out;
    };
    return {
      processes: procs.map((p) => ({
        key: p.key,
        label: nodeLabel('Process', p.key, props({ image: p.image, pid: p.pid })),
        commandLine: str.parse(p.cmd),
        user: str.parse(p.user),
        createTime: num.parse(p.created),
        terminateTime: num.parse(p.terminated),
      })),
      edges: edges.map((e) => ({
        kind: e.kind,
        from: e.from,
        fromLabel: nodeLabel(kindOfLabels(e.fromLabels), e.from, props(e.fromProps)),
        to: e.to,
        toLabel: nodeLabel(kindOfLabels(e.toLabels), e.to, props(e.toProps)),
        toInScope: e.inScope,
        firstSeen: num.parse(e.firstSeen),
        lastSeen: num.parse(e.lastSeen),
        count: num.parse(e.count),
      })),
    };
  }

  async notes(targets: string[]): Promise<NoteView[]> {
    if (targets.length === 0) return [];
    const rows = await this.gateway.query<{ note: unknown }>(
      'engagement.notes',
      `UNWIND $targets AS t MATCH (n:Note {target: t}) RETURN properties(n) AS note ORDER BY n.created_at, n.id`,
      { targets },
    );
    return rows.map((r) => toNote(r.note));
  }

  async noteVersions(noteId: string): Promise<NoteVersionView[]> {
    const rows = await this.gateway.query<{
      v: { note: string; version: number; text: string; author: string; at: number };
    }>(
      'engagement.note-versions',
      `MATCH (v:NoteVersion {note: $noteId}) RETURN v{.note, .version, .text, .author, .at} AS v ORDER BY v.version`,
      { noteId },
    );
    return rows.map((r) => ({
      note: r.v.note,
      version: Number(r.v.version),
      text: r.v.text,
      author: r.v.author,
      at: Number(r.v.at),
    }));
  }

  async findNote(noteId: string): Promise<NoteView | null> {
    const rows = await this.gateway.query<{ note: unknown }>(
      'engagement.find-note',
      'MATCH (n:Note {id: $noteId}) RETURN properties(n) AS note',
      { noteId },
    );
    return rows[0] ? toNote(rows[0].note) : null;
  }

  async audit(targets: string[], limit: number): Promise<AuditView[]> {
    if (targets.length === 0) return [];
    const rows = await this.gateway.query<{ a: unknown }>(
      'engagement.audit',
      `UNWIND $targets AS t
       MATCH (a:AuditEntry {target: t})
       WITH a ORDER BY a.at DESC, a.seq DESC LIMIT $limit
       RETURN properties(a) AS a`,
      { targets, limit: int(limit) },
    );
    return rows.map((r) => {
      const a = AuditRow.parse(r.a);
      return {
        id: a.id,
        target: a.target,
        targetKind: a.target_kind,
        at: a.at,
        actor: a.actor,
        action: a.action,
        before: parseJson(a.before),
        after: parseJson(a.after),
      };
    });
  }

  async nodeExists(key: string): Promise<boolean> {
    const kind = kindOfKey(key);
    if (!kind) return false;
    const rows = await this.gateway.query<{ n: number }>(
      'engagement.node-exists',
      `MATCH (n:${kind} {key: $key}) RETURN count(n) AS n`,
      { key },
    );
    return Number(rows[0]?.n ?? 0) > 0;
  }

  /** True when an enabled account has this username. */
  async accountActive(username: string): Promise<boolean> {
    const rows = await this.gateway.query<{ ok: boolean }>(
      'engagement.account-active',
      'MATCH (a:Account {username: $username}) RETURN coalesce(a.disabled, false) = false AS ok',
      { username },
    );
    return rows[0]?.ok === true;
  }

  /**
   * Risks for export, in key order from `after`, each with its node and lens: the engagement lens holding
   * the node as risky (pipeline-made first, then the oldest), else its host's asset lens. With `lens`, only
   * the risks of that lens's risky nodes, exported with that lens.
   */
  async exportRows(after: string, limit: number, lens?: string): Promise<ExportRow[]> {
    const head = lens
      ? `MATCH (only:Lens {key: $lens})-[:SCOPE {role: 'risky'}]->(n)-[:HAS_RISK]->(r:Risk)
         WHERE r.key > $after
         WITH r, n, only ORDER BY r.key LIMIT $limit`
      : `MATCH (r:Risk) WHERE r.key > $after
         WITH r ORDER BY r.key LIMIT $limit
         MATCH (n)-[:HAS_RISK]->(r)
         WITH r, n, null AS only`;
    const rows = await this.gateway.query<{
      risk: unknown;
      nodeKey: string;
      labels: string[];
      node: Record<string, unknown>;
      host: unknown;
      lens: unknown;
    }>(
      'engagement.export',
      `${head}
       WITH r, n, only, coalesce(n.host, CASE WHEN n:Asset THEN substring(n.key, 6) END) AS host
       WITH r, n, host, coalesce(only, COLLECT {
         MATCH (l:Lens {type: 'engagement'})-[s:SCOPE {role: 'risky'}]->(n) WHERE l.merged_into IS NULL
         RETURN l ORDER BY CASE s.added_by WHEN 'pipeline' THEN 0 ELSE 1 END, l.created_at, l.key LIMIT 1
       }[0]) AS eng
       OPTIONAL MATCH (a:Lens {key: 'asset:' + host})
       WITH r, n, host, coalesce(eng, a) AS lens
       RETURN {key: r.key, node: n.key, detection: r.detection, source: r.source, title: r.title, summary: r.summary,
               score: r.score, techniques: r.techniques, count: r.count, firstSeen: r.first_seen, lastSeen: r.last_seen} AS risk,
              n.key AS nodeKey, labels(n) AS labels, n{.process_guid, .image, .command_line, .sources} AS node, host,
              lens{.key, .type, .score, .status} AS lens
       ORDER BY r.key`,
      { after, limit: int(limit), lens: lens ?? null },
    );
    return rows.map((r) => {
      const l = ExportLens.parse(r.lens);
      return {
        risk: RiskRow.parse(r.risk),
        nodeKey: r.nodeKey,
        kind: kindOfLabels(r.labels),
        host: str.parse(r.host),
        processGuid: str.parse(r.node.process_guid),
        image: str.parse(r.node.image),
        commandLine: str.parse(r.node.command_line),
        sources: strs.parse(r.node.sources),
        lens: l ? { id: l.key, type: l.type, score: l.score, status: l.status } : null,
      };
    });
  }

  /** Live engagement lenses by score (for the markdown report of all of them). */
  async engagementIds(limit: number): Promise<string[]> {
    const rows = await this.gateway.query<{ id: string }>(
      'engagement.engagement-ids',
      `MATCH (l:Lens {type: 'engagement'}) WHERE l.merged_into IS NULL
       RETURN l.key AS id ORDER BY coalesce(l.score, 0) DESC, l.key LIMIT $limit`,
      { limit: int(limit) },
    );
    return rows.map((r) => r.id);
  }

  // ----------------------------------------------------------------------------------------- writes

  write<T>(operation: string, work: (tx: ManagedTransaction) => Promise<T>): Promise<T> {
    return this.gateway.write(operation, work);
  }

  /** Write-locks a lens (an update of `updated_at`) and reads it; null when it does not exist. */
  async lockLens(tx: ManagedTransaction, id: string, now: number): Promise<LensSummary | null> {
    const res = await tx.run(
      'MATCH (l:Lens {key: $id}) SET l.updated_at = $now RETURN properties(l) AS lens',
      { id, now: int(now) },
    );
    const r = res.records[0];
    return r ? toLensSummary(r.get('lens')) : null;
  }

  async lensExists(
    tx: ManagedTransaction,
    id: string,
  ): Promise<{ mergedInto: string | null; duplicateOf: string | null } | null> {
    const res = await tx.run(
      'MATCH (l:Lens {key: $id}) RETURN l.merged_into AS mergedInto, l.duplicate_of AS duplicateOf',
      { id },
    );
    const r = res.records[0];
    return r
      ? { mergedInto: str.parse(r.get('mergedInto')), duplicateOf: str.parse(r.get('duplicateOf')) }
      : null;
  }

  async applyStatus(
    tx: ManagedTransaction,
    id: string,
    change: StatusChange,
    actor: string,
    now: number,
  ): Promise<void> {
    const closing = change.status === 'Closed';
    await tx.run(
      `MATCH (l:Lens {key: $id})
       SET l.status = $status, l.status_changed_at = $now, l.updated_at = $now,
           l.resolution = $resolution, l.resolution_summary = $summary, l.duplicate_of = $duplicateOf,
           l.closed_at = CASE WHEN $closing THEN $now ELSE null END,
           l.closed_by = CASE WHEN $closing THEN $actor ELSE null END,
           l.reopened_by_pipeline = CASE WHEN $closing THEN null ELSE false END,
           l.reopen_reason = CASE WHEN $closing THEN null ELSE l.reopen_reason END`,
      {
        id,
        now: int(now),
        actor,
        closing,
        status: change.status,
        resolution: change.resolution,
        summary: change.summary,
        duplicateOf: change.duplicateOf,
      },
    );
  }

  async setAssignee(tx: ManagedTransaction, id: string, assignee: string | null, now: number): Promise<void> {
    await tx.run('MATCH (l:Lens {key: $id}) SET l.assignee = $assignee, l.updated_at = $now', {
      id,
      assignee,
      now: int(now),
    });
  }

  async setTags(tx: ManagedTransaction, id: string, tags: string[], now: number): Promise<void> {
    await tx.run('MATCH (l:Lens {key: $id}) SET l.tags = $tags, l.updated_at = $now', { id, tags, now: int(now) });
  }

  async createNote(
    tx: ManagedTransaction,
    n: { id: string; target: string; targetKind: 'lens' | 'node'; text: string; author: string },
    now: number,
  ): Promise<NoteView> {
    const res = await tx.run(
      `CREATE (n:Note {id: $id, target: $target, target_kind: $targetKind, text: $text, author: $author,
                       created_at: $now, updated_at: $now, version: 1})
       CREATE (:NoteVersion {note: $id, version: 1, text: $text, author: $author, at: $now})
       RETURN properties(n) AS note`,
      { ...n, now: int(now) },
    );
    return toNote(res.records[0]!.get('note'));
  }

  /** Write-locks a note and reads it. */
  async lockNote(tx: ManagedTransaction, id: string): Promise<NoteView | null> {
    const res = await tx.run(
      'MATCH (n:Note {id: $id}) SET n.lock_seq = coalesce(n.lock_seq, 0) + 1 RETURN properties(n) AS note',
      { id },
    );
    const r = res.records[0];
    return r ? toNote(r.get('note')) : null;
  }

  async updateNote(
    tx: ManagedTransaction,
    id: string,
    text: string,
    editor: string,
    now: number,
  ): Promise<NoteView> {
    const res = await tx.run(
      `MATCH (n:Note {id: $id})
       SET n.text = $text, n.version = n.version + 1, n.updated_at = $now, n.edited_by = $editor
       CREATE (:NoteVersion {note: $id, version: n.version, text: $text, author: $editor, at: $now})
       RETURN properties(n) AS note`,
      { id, text, editor, now: int(now) },
    );
    return toNote(res.records[0]!.get('note'));
  }

  async touchLens(tx: ManagedTransaction, id: string, now: number): Promise<void> {
    await tx.run('MATCH (l:Lens {key: $id}) SET l.updated_at = $now', { id, now: int(now) });
  }

  async scopeOf(
    tx: ManagedTransaction,
    lens: string,
    node: string,
  ): Promise<{ role: ScopeRole; addedBy: string | null } | null> {
    const kind = kindOfKey(node);
    if (!kind) return null;
    const res = await tx.run(
      `MATCH (:Lens {key: $lens})-[s:SCOPE]->(n:${kind} {key: $node}) RETURN s.role AS role, s.added_by AS addedBy`,
      { lens, node },
    );
    const r = res.records[0];
    return r
      ? { role: r.get('role') === 'risky' ? 'risky' : 'context', addedBy: str.parse(r.get('addedBy')) }
      : null;
  }

  async nodeExistsTx(tx: ManagedTransaction, key: string): Promise<boolean> {
    const kind = kindOfKey(key);
    if (!kind) return false;
    const res = await tx.run(`MATCH (n:${kind} {key: $key}) RETURN count(n) AS n`, { key });
    return Number(res.records[0]?.get('n') ?? 0) > 0;
  }

  /** Removes the node's exclusion from the lens (an analyst adds it back explicitly). */
  async clearExclusion(tx: ManagedTransaction, lens: string, node: string): Promise<void> {
    for (const [kind, keys] of byKind([node])) {
      await tx.run(`MATCH (:Lens {key: $lens})-[x:EXCLUDES]->(n:${kind}) WHERE n.key IN $keys DELETE x`, {
        lens,
        keys,
      });
    }
  }

  /** Puts a node in a lens's scope with exactly this role (an analyst's decision). */
  async setScope(
    tx: ManagedTransaction,
    lens: string,
    node: string,
    role: ScopeRole,
    by: string,
    now: number,
  ): Promise<void> {
    for (const [kind, keys] of byKind([node])) {
      await tx.run(
        `MATCH (l:Lens {key: $lens}), (n:${kind}) WHERE n.key IN $keys
         MERGE (l)-[s:SCOPE]->(n)
           ON CREATE SET s.added_by = $by, s.added_at = $now
         SET s.role = $role`,
        { lens, keys, role, by, now: int(now) },
      );
    }
  }

  /** Deletes the scope relationship and remembers the removal, so the pipeline does not add it back. */
  async removeScope(
    tx: ManagedTransaction,
    lens: string,
    node: string,
    by: string,
    now: number,
  ): Promise<void> {
    for (const [kind, keys] of byKind([node])) {
      await tx.run(
        `MATCH (l:Lens {key: $lens})-[s:SCOPE]->(n:${kind}) WHERE n.key IN $keys
         DELETE s
         MERGE (l)-[x:EXCLUDES]->(n)
         SET x.by = $by, x.at = $now`,
        { lens, keys, by, now: int(now) },
      );
    }
  }
}
