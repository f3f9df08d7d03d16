/**
 * The engagement graph: every Cypher statement of the engage stage, and the schema and audit writes the
 * API's engagement repository shares (server/engagements/repository.ts).
 *
 *   (:Risk {key: '<detection>|<nodeKey>', ...})        (node)-[:HAS_RISK]->(risk)
 *   (:Lens {key: 'eng:<id>' | 'asset:<HOST>', type, status, score, title, hosts, techniques, tags, ...})
 *   (lens)-[:SCOPE {role: 'risky'|'context', added_by, added_at}]->(node)
 *   (lens)-[:EXCLUDES {by, at}]->(node)                  removed by an analyst: never re-added by the pipeline
 *   (:Note {id, target, target_kind, text, author, created_at, updated_at, version})
 *   (:NoteVersion {note, version, text, author, at})    every text a note ever had
 *   (:AuditEntry {id, target, target_kind, at, actor, action, before, after})   before/after are JSON
 *   (:AppliedChunk {id: 'engage/<digest>'})             exactly-once marker per chunk
 *   (:EngageLock {id: 'lenses'})                         serialises lens decisions (see lockEngagement)
 *
 * Labels are constants or node kinds from domain/model.ts (never input); every value is a parameter.
 */
import neo4j, { type ManagedTransaction } from 'neo4j-driver';
import { z } from 'zod';
import { AppError } from '../../domain/errors';
import { NODE_KINDS, kindOfKey, type NodeKind } from '../../domain/model';
import type { GraphGateway } from '../../lib/neo4j';
import type { Direction, JoinOptions, Neighbour } from './join';
import { SCORE_MODEL } from './score';
import { strongerRisk, type LensRisk, type LensRiskAggregates } from './summary';

export const LENS = 'Lens';
export const PIPELINE_ACTOR = 'pipeline';

/** Parents that start programs on behalf of another host (remote execution brokers), lower-case. */
export const REMOTE_EXEC_BROKERS = [
  'services.exe',
  'wmiprvse.exe',
  'wsmprovhost.exe',
  'winrshost.exe',
  'mmc.exe',
  'scrcons.exe',
  'svchost.exe',
  'taskeng.exe',
  'dllhost.exe',
];

/** Relations by which a process touches a non-process node (TOUCH joins). */
const TOUCH_TYPES = [
  'CREATED',
  'MODIFIED',
  'DELETED',
  'EXECUTED',
  'SET_VALUE',
  'CREATED_KEY',
  'DELETED_KEY',
  'RENAMED_KEY',
  'CREATED_PIPE',
  'CONNECTED_PIPE',
  'CONNECTED_TO',
  'RESOLVED',
];

/** SHARED_DEST: at most this many processes ever connected to the address. */
const DEST_USERS_MAX = 5;

/** A named pipe with more processes than this is a service endpoint, not a hand-off between two. */
const PIPE_USERS_MAX = 6;

/** Cross-host clock skew and event-order slack (the development set shows up to ~40 s between hosts). */
const SKEW_MS = 60_000;

/** Integers go to Neo4j as integers (LIMIT needs one; times and counts are stored as the graph's are). */
export function int(n: number): ReturnType<typeof neo4j.int> {
  return neo4j.int(Math.trunc(Number.isFinite(n) ? n : 0));
}

const intOrNull = (n: number | null) => (n === null ? null : int(n));

function label(kind: NodeKind): string {
  if (!(NODE_KINDS as readonly string[]).includes(kind) || !/^[A-Za-z]+$/.test(kind)) throw new Error(`not a node kind: ${kind}`);
  return kind;
}

/** Keys grouped by the node kind they name; keys naming no kind are dropped. */
export function byKind(keys: Iterable<string>): Map<NodeKind, string[]> {
  const out = new Map<NodeKind, string[]>();
  for (const k of new Set(keys)) {
    const kind = kindOfKey(k);
    if (!kind) continue;
    const list = out.get(kind);
    if (list) list.push(k);
    else out.set(kind, [k]);
  }
  return out;
}

const num = z.number().nullable().catch(null);
const str = z.string().nullable().catch(null);
const strs = z.array(z.string()).nullable().catch(null).transform((v) => v ?? []);

// ---------------------------------------------------------------------------------------------- schema

export function engagementSchemaCypher(): string[] {
  return [
    `CREATE CONSTRAINT lg_lens_key IF NOT EXISTS FOR (n:Lens) REQUIRE n.key IS UNIQUE`,
    `CREATE CONSTRAINT lg_risk_key IF NOT EXISTS FOR (n:Risk) REQUIRE n.key IS UNIQUE`,
    `CREATE CONSTRAINT lg_appliedchunk_id IF NOT EXISTS FOR (n:AppliedChunk) REQUIRE n.id IS UNIQUE`,
    `CREATE CONSTRAINT lg_note_id IF NOT EXISTS FOR (n:Note) REQUIRE n.id IS UNIQUE`,
    `CREATE CONSTRAINT lg_auditentry_id IF NOT EXISTS FOR (n:AuditEntry) REQUIRE n.id IS UNIQUE`,
    `CREATE CONSTRAINT lg_engagelock_id IF NOT EXISTS FOR (n:EngageLock) REQUIRE n.id IS UNIQUE`,
    `CREATE INDEX lg_lens_score IF NOT EXISTS FOR (n:Lens) ON (n.score)`,
    `CREATE INDEX lg_lens_updated IF NOT EXISTS FOR (n:Lens) ON (n.updated_at)`,
    `CREATE INDEX lg_lens_status IF NOT EXISTS FOR (n:Lens) ON (n.status)`,
    `CREATE INDEX lg_lens_merged IF NOT EXISTS FOR (n:Lens) ON (n.merged_into)`,
    `CREATE INDEX lg_note_target IF NOT EXISTS FOR (n:Note) ON (n.target)`,
    `CREATE INDEX lg_noteversion_note IF NOT EXISTS FOR (n:NoteVersion) ON (n.note)`,
    `CREATE INDEX lg_audit_target IF NOT EXISTS FOR (n:AuditEntry) ON (n.target)`,
  ];
}

const schemaReady = new WeakMap<GraphGateway, Promise<void>>();

/**
 * Constraints and indexes of the engagement labels, once per gateway. A constraint that cannot be created
 * (duplicates written before it existed) is reported, not fatal: MERGE still works without it.
 */
export function ensureEngagementSchema(gateway: GraphGateway, warn: (msg: string, f: Record<string, unknown>) => void = () => {}): Promise<void> {
  let p = schemaReady.get(gateway);
  if (!p) {
    p = (async () => {
      for (const stmt of engagementSchemaCypher()) {
        try {
          await gateway.schema(stmt);
        } catch (err) {
          // Neo4j down (an AppError UNAVAILABLE): fail, so that the caller retries and nothing is cached.
          if (err instanceof AppError && err.code === 'UNAVAILABLE') throw err;
          const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
          if (code.includes('AlreadyExists')) continue;
          warn('engagement schema statement failed', { stmt, err });
        }
      }
    })();
    schemaReady.set(gateway, p);
    p.catch(() => schemaReady.delete(gateway));
  }
  return p;
}

// -------------------------------------------------------------------------------------- exactly once

/** Claims chunk markers; returns the ids this attempt claimed (the others were applied before). */
export async function claimChunks(tx: ManagedTransaction, ids: string[], claim: string, now: number): Promise<Set<string>> {
  if (ids.length === 0) return new Set();
  const res = await tx.run(
    `UNWIND $ids AS id
     MERGE (a:AppliedChunk {id: id})
       ON CREATE SET a.at = $now, a.claim = $claim
     RETURN id, a.claim = $claim AS fresh`,
    { ids, claim, now: int(now) },
  );
  return new Set(res.records.filter((r) => r.get('fresh') === true).map((r) => String(r.get('id'))));
}

/**
 * Lens decisions read the lenses around new risks and then write them: the single EngageLock node, written
 * first, makes those read-decide-write steps of concurrent engage transactions run one after the other
 * (reads after the lock see everything committed before). Analyst edits lock only their lens node.
 */
export async function lockEngagement(tx: ManagedTransaction, now: number): Promise<void> {
  await tx.run(`MERGE (x:EngageLock {id: 'lenses'}) SET x.at = $now`, { now: int(now) });
}

/** Keys of nodes folded into others by the merge stage (pipeline/merge AliasedKey), old -> canonical. */
export async function lookupAliases(tx: ManagedTransaction, keys: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  if (keys.length === 0) return out;
  const res = await tx.run(`UNWIND $keys AS k MATCH (x:AliasedKey {key: k}) RETURN x.key AS key, x.to AS to`, { keys });
  for (const r of res.records) {
    const to = r.get('to');
    if (typeof to === 'string') out.set(String(r.get('key')), to);
  }
  return out;
}

// --------------------------------------------------------------------------------------------- risks

export interface RiskRow {
  key: string;
  node: string;
  detection: string;
  source: string;
  title: string;
  score: number;
  techniques: string[];
  summary: string;
  /** Earliest and latest hit time of the batch. */
  time: number;
  last: number;
  count: number;
  /** Distinct occurrences of the hits (risks.ts occurrenceOf): what `count` counts across batches. */
  occurrences: string[];
  context: string[];
}

/** Occurrences kept per risk to recognise repeats; past this, new ones still count. */
export const RISK_OCCURRENCES_KEPT = 1000;

// The label comes from the domain model (never from input); values are parameters.
export function riskCypher(kind: NodeKind): string {
  return `UNWIND $rows AS r
MATCH (n:${label(kind)} {key: r.node})
MERGE (k:Risk {key: r.key})
  ON CREATE SET k.detection = r.detection, k.source = r.source, k.title = r.title, k.summary = r.summary,
                k.first_seen = r.time, k.last_seen = r.last, k.count = 0, k.score = r.score, k.techniques = [],
                k.occurrences = []
WITH n, k, r, [t IN r.occurrences WHERE NOT t IN coalesce(k.occurrences, [])] AS fresh
SET k.count = k.count + size(fresh),
    k.occurrences = (coalesce(k.occurrences, []) + fresh)[..${RISK_OCCURRENCES_KEPT}],
    k.score = CASE WHEN r.score > k.score THEN r.score ELSE k.score END,
    k.first_seen = CASE WHEN r.time < k.first_seen THEN r.time ELSE k.first_seen END,
    k.last_seen = CASE WHEN r.last > k.last_seen THEN r.last ELSE k.last_seen END,
    k.techniques = k.techniques + [t IN r.techniques WHERE NOT t IN k.techniques]
MERGE (n)-[:HAS_RISK]->(k)
RETURN count(k) AS n`;
}

export async function upsertRisks(tx: ManagedTransaction, rows: Map<NodeKind, RiskRow[]>): Promise<number> {
  let n = 0;
  for (const [kind, kindRows] of rows) {
    const rows = kindRows.map((r) => ({
      ...r,
      time: int(r.time),
      last: int(r.last),
      count: int(r.count),
    }));
    const res = await tx.run(riskCypher(kind), { rows });
    n += Number(res.records[0]?.get('n') ?? 0);
  }
  return n;
}

// ------------------------------------------------------------------------------------------------ folds

/** The engagement state of a node that the merge stage folds into its canonical node (see foldEngagementCypher). */
export interface FoldEngagementCypher {
  /** Its risks, re-keyed onto the canonical node; a detection the canonical node already has is combined. */
  risks: string;
  /** Its place in lens scopes (`risky` wins, the first `added_by` stays), except where the lens excludes the canonical node. */
  scope: string;
  /** Analysts' exclusions of it. */
  excludes: string;
  /** Notes written on it (`moved_from` remembers the old key). */
  notes: string;
  /** Keys of the lenses whose scope holds the canonical node afterwards: their figures are recomputed. */
  lenses: string;
}

/**
 * The merge stage folds a provisional process into its canonical node when the creation event arrives
 * (pipeline/merge: the old node is DETACH DELETEd). By then the engage stage may have given the provisional
 * node risks and a place in lenses, and an analyst notes or exclusions: a Security 4688 upload that arrives
 * before the Sysmon upload of the same host is enough. These statements carry all of that to the canonical
 * node inside the fold, before the old node is deleted, so a detection never disappears from its lens. Each
 * takes `$aliases` ({from, to}) and matches nothing once the old node is gone. A combined risk counts the
 * distinct occurrences of both (as riskCypher does), takes the higher score, the wider time span and every
 * technique. The lenses that hold the canonical node then have their figures recomputed (engage.ts
 * recomputeLenses): they may have gained risks, and two risky nodes became one.
 */
export function foldEngagementCypher(kind: NodeKind): FoldEngagementCypher {
  const k = label(kind);
  return {
    risks: `UNWIND $aliases AS al
MATCH (old:${k} {key: al.from})-[:HAS_RISK]->(r:Risk)
MATCH (new:${k} {key: al.to})
WITH new, r, r.detection + '|' + new.key AS key
MERGE (x:Risk {key: key})
  ON CREATE SET x.detection = r.detection, x.source = r.source, x.title = r.title, x.summary = r.summary,
                x.first_seen = r.first_seen, x.last_seen = r.last_seen, x.count = r.count, x.score = r.score,
                x.techniques = coalesce(r.techniques, []), x.occurrences = coalesce(r.occurrences, []), x.moved_from = r.key
  ON MATCH SET x.count = x.count + size([t IN coalesce(r.occurrences, []) WHERE NOT t IN coalesce(x.occurrences, [])]),
               x.occurrences = (coalesce(x.occurrences, []) + [t IN coalesce(r.occurrences, []) WHERE NOT t IN coalesce(x.occurrences, [])])[..${RISK_OCCURRENCES_KEPT}],
               x.score = CASE WHEN r.score > x.score THEN r.score ELSE x.score END,
               x.first_seen = CASE WHEN r.first_seen < x.first_seen THEN r.first_seen ELSE x.first_seen END,
               x.last_seen = CASE WHEN r.last_seen > x.last_seen THEN r.last_seen ELSE x.last_seen END,
               x.techniques = x.techniques + [t IN coalesce(r.techniques, []) WHERE NOT t IN x.techniques]
MERGE (new)-[:HAS_RISK]->(x)
DETACH DELETE r`,
    scope: `UNWIND $aliases AS al
MATCH (l:${LENS})-[s:SCOPE]->(old:${k} {key: al.from})
MATCH (new:${k} {key: al.to})
WITH l, s, new WHERE NOT (l)-[:EXCLUDES]->(new)
MERGE (l)-[s2:SCOPE]->(new)
  ON CREATE SET s2.role = s.role, s2.added_by = s.added_by, s2.added_at = s.added_at
SET s2.role = CASE WHEN s.role = 'risky' OR s2.role = 'risky' THEN 'risky' ELSE s2.role END`,
    excludes: `UNWIND $aliases AS al
MATCH (l:${LENS})-[x:EXCLUDES]->(old:${k} {key: al.from})
MATCH (new:${k} {key: al.to})
MERGE (l)-[x2:EXCLUDES]->(new)
  ON CREATE SET x2.by = x.by, x2.at = x.at`,
    notes: `UNWIND $aliases AS al
MATCH (n:Note {target: al.from})
SET n.target = al.to, n.moved_from = al.from`,
    lenses: `UNWIND $aliases AS al
MATCH (l:${LENS})-[:SCOPE]->(:${k} {key: al.to})
RETURN DISTINCT l.key AS lens`,
  };
}

// ------------------------------------------------------------------------------------------ node facts

export interface NodeFacts {
  key: string;
  kind: NodeKind;
  host: string | null;
  firstSeen: number | null;
  lastSeen: number | null;
  risky: boolean;
}

const NodeFactsRow = z.object({ key: z.string(), host: str, firstSeen: num, lastSeen: num, risky: z.boolean() });

/** What the lens rules need to know of existing nodes; keys not in the graph are absent. */
export async function nodeFacts(tx: ManagedTransaction, keys: Iterable<string>): Promise<Map<string, NodeFacts>> {
  const out = new Map<string, NodeFacts>();
  for (const [kind, list] of byKind(keys)) {
    const host = kind === 'Asset' ? `substring(n.key, 6)` : 'n.host';
    const res = await tx.run(
      `UNWIND $keys AS k
       MATCH (n:${label(kind)} {key: k})
       RETURN n.key AS key, ${host} AS host, n.first_seen AS firstSeen, n.last_seen AS lastSeen,
              EXISTS { (n)-[:HAS_RISK]->(:Risk) } AS risky`,
      { keys: list },
    );
    for (const r of res.records) {
      const row = NodeFactsRow.parse(r.toObject());
      out.set(row.key, { ...row, kind });
    }
  }
  return out;
}

/**
 * The file names each node was seen in (`sources`), for the findings export: a process that appears in
 * several recordings (a long-lived service on a lab machine) is a finding in each of them. Other nodes
 * take those of the processes that touched them, and a logon session (which no process edge reaches)
 * also its own.
 */
export async function nodeSources(gateway: Pick<GraphGateway, 'query'>, keys: Iterable<string>): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (const [kind, list] of byKind(keys)) {
    const rows = await gateway.query<{ key: unknown; sources: unknown }>(
      'engage.node-sources',
      kind === 'Process'
        ? `UNWIND $keys AS k MATCH (n:Process {key: k}) RETURN n.key AS key, n.sources AS sources`
        : `UNWIND $keys AS k MATCH (n:${label(kind)} {key: k})
           OPTIONAL MATCH (p:Process)-[]->(n)
           WITH n, collect(DISTINCT p.sources)[0..50] AS lists
           RETURN n.key AS key, reduce(acc = coalesce(n.sources, []), l IN lists | acc + [s IN coalesce(l, []) WHERE NOT s IN acc]) AS sources`,
      { keys: list },
    );
    for (const r of rows) if (typeof r.key === 'string') out.set(r.key, strs.parse(r.sources));
  }
  return out;
}

// ---------------------------------------------------------------------------------------- join steps

const RISKY_Y = 'EXISTS { (y)-[:HAS_RISK]->(:Risk) }';
const BROKER_PARENT = (child: string) =>
  `EXISTS { MATCH (b:Process)-[:PARENT_OF]->(${child}) WHERE b.image IS NOT NULL AND any(n IN $brokers WHERE toLower(b.image) ENDS WITH '\\\\' + n OR toLower(b.image) = n) }`;
/**
 * Both ends of one connection: the same endpoint node, the same source address and port. Loopback and
 * link-local addresses name no other host (and repeat across machines), so they never join hosts.
 */
const SAME_TUPLE = `any(ip IN coalesce(o.src_ip, []) WHERE ip IN coalesce(i.src_ip, []))
      AND (o.src_port IS NULL OR i.src_port IS NULL OR any(p IN o.src_port WHERE p IN i.src_port))
      AND NOT (coalesce(ep.ip, '') STARTS WITH 'fe80:' OR coalesce(ep.ip, '') STARTS WITH '169.254.'
               OR coalesce(ep.ip, '') STARTS WITH '127.' OR ep.ip IN ['::1', '0.0.0.0', '::'])`;
/**
 * A pipe two processes used to talk: anonymous pipes (one node per host for all of them) and pipes with
 * many users (system services' RPC pipes) are no hand-off.
 */
/**
 * SHARED_DEST: an address only a few processes ever connected to (a C2 server, not a domain controller,
 * proxy, DNS server or CDN), outside the loopback, link-local, multicast and broadcast ranges. The two
 * sides are two MATCH clauses: processes of one implant usually reach the same endpoint (one ip:port
 * node), and a single pattern may not use that endpoint's ENDPOINT_OF relationship twice.
 */
const ROUTABLE_IP = `NOT (ip.key CONTAINS '@' OR coalesce(ip.ip, '') STARTS WITH 'fe80:' OR coalesce(ip.ip, '') STARTS WITH '169.254.'
      OR coalesce(ip.ip, '') STARTS WITH 'ff' OR coalesce(ip.ip, '') ENDS WITH '.255'
      OR coalesce(toInteger(split(coalesce(ip.ip, ''), '.')[0]), 0) >= 224)`;
const PRIVATE_PIPE = `NOT p.key ENDS WITH ':<anonymous pipe>' AND COUNT { (p)<-[:CREATED_PIPE|CONNECTED_PIPE]-(:Process) } <= $pipeUsers`;

/** Downstream candidates of processes: what they started, injected, dropped-and-ran, reached remotely. */
export const DOWNSTREAM_CYPHER = `UNWIND $keys AS k
MATCH (x:Process {key: k})
CALL (x) {
    MATCH (x)-[:PARENT_OF]->(y:Process) WHERE y <> x
    WITH y ORDER BY ${RISKY_Y} DESC LIMIT $limit
    RETURN 'PARENT_OF' AS rel, y, null AS via, null AS access
  UNION ALL
    MATCH (x)-[:INJECTED_INTO]->(y:Process) WHERE y <> x
    WITH DISTINCT y LIMIT $limit
    RETURN 'INJECTED_INTO' AS rel, y, null AS via, null AS access
  UNION ALL
    MATCH (x)-[a:ACCESSED]->(y:Process) WHERE y <> x AND ${RISKY_Y}
    WITH y, a LIMIT $limit
    RETURN 'ACCESSED' AS rel, y, null AS via, a.granted_access AS access
  UNION ALL
    MATCH (x)-[c:CREATED|MODIFIED]->(f:File)<-[e:EXECUTED|LOADED]-(y:Process)
    WHERE y <> x AND e.last_seen >= c.first_seen
    WITH DISTINCT f, y ORDER BY ${RISKY_Y} DESC LIMIT $limit
    RETURN 'FILE' AS rel, y, f.key AS via, null AS access
  UNION ALL
    MATCH (x)-[:CREATED_PIPE|CONNECTED_PIPE]->(p:Pipe)<-[:CREATED_PIPE|CONNECTED_PIPE]-(y:Process)
    WHERE y <> x AND ${RISKY_Y} AND ${PRIVATE_PIPE}
    WITH DISTINCT p, y LIMIT $limit
    RETURN 'PIPE' AS rel, y, p.key AS via, null AS access
  UNION ALL
    MATCH (x)-[o:CONNECTED_TO]->(ep:NetworkEndpoint)<-[i:CONNECTED_TO]-(y:Process)
    WHERE y <> x AND 'outbound' IN coalesce(o.direction, []) AND 'inbound' IN coalesce(i.direction, [])
      AND y.host <> x.host AND ${SAME_TUPLE} AND ${RISKY_Y}
    WITH DISTINCT ep, y LIMIT $limit
    RETURN 'NETWORK' AS rel, y, ep.key AS via, null AS access
  UNION ALL
    MATCH (x)-[o:CONNECTED_TO]->(ep:NetworkEndpoint)<-[i:CONNECTED_TO]-(l:Process)
    WHERE l <> x AND 'outbound' IN coalesce(o.direction, []) AND 'inbound' IN coalesce(i.direction, [])
      AND l.host <> x.host AND ${SAME_TUPLE}
    WITH DISTINCT ep, i, l LIMIT 25
    MATCH (y:Process) USING INDEX y:Process(host, create_time)
    WHERE y.host = l.host AND y.create_time >= i.first_seen - $skew AND y.create_time <= i.last_seen + $remoteExecMs
      AND ${RISKY_Y} AND ${BROKER_PARENT('y')}
    WITH DISTINCT ep, y LIMIT $limit
    RETURN 'REMOTE_EXEC' AS rel, y, ep.key AS via, null AS access
  UNION ALL
    MATCH (x)-[o:CONNECTED_TO]->(:NetworkEndpoint)-[:ENDPOINT_OF]->(ip:IpAddress)
    WHERE 'outbound' IN coalesce(o.direction, []) AND ${ROUTABLE_IP}
    MATCH (ip)<-[:ENDPOINT_OF]-(:NetworkEndpoint)<-[o2:CONNECTED_TO]-(y:Process)
    WHERE y <> x AND 'outbound' IN coalesce(o2.direction, [])
      AND o2.last_seen >= o.first_seen - $window AND o2.first_seen <= o.last_seen + $window
      AND ${RISKY_Y}
      AND size(COLLECT { MATCH (q:Process)-[:CONNECTED_TO]->(:NetworkEndpoint)-[:ENDPOINT_OF]->(ip) RETURN DISTINCT q.key AS q LIMIT $destUsersProbe }) <= $destUsers
    WITH DISTINCT ip, y LIMIT $limit
    RETURN 'SHARED_DEST' AS rel, y, ip.key AS via, null AS access
}
RETURN x.key AS from, rel, y.key AS to, via, access, y.first_seen AS firstSeen, y.last_seen AS lastSeen, ${RISKY_Y} AS risky`;

/** Upstream candidates of processes: who started, injected, dropped their image, or reached them remotely. */
export const UPSTREAM_CYPHER = `UNWIND $keys AS k
MATCH (x:Process {key: k})
CALL (x) {
    MATCH (y:Process)-[:PARENT_OF]->(x) WHERE y <> x
    WITH DISTINCT y LIMIT $limit
    RETURN 'PARENT_OF' AS rel, y, null AS via, null AS access
  UNION ALL
    MATCH (y:Process)-[:INJECTED_INTO]->(x) WHERE y <> x
    WITH DISTINCT y LIMIT $limit
    RETURN 'INJECTED_INTO' AS rel, y, null AS via, null AS access
  UNION ALL
    MATCH (y:Process)-[a:ACCESSED]->(x) WHERE y <> x AND ${RISKY_Y}
    WITH y, a LIMIT $limit
    RETURN 'ACCESSED' AS rel, y, null AS via, a.granted_access AS access
  UNION ALL
    MATCH (x)-[e:EXECUTED|LOADED]->(f:File)<-[c:CREATED|MODIFIED]-(y:Process)
    WHERE y <> x AND e.last_seen >= c.first_seen
    WITH DISTINCT f, y ORDER BY ${RISKY_Y} DESC LIMIT $limit
    RETURN 'FILE' AS rel, y, f.key AS via, null AS access
  UNION ALL
    MATCH (x)-[:CREATED_PIPE|CONNECTED_PIPE]->(p:Pipe)<-[:CREATED_PIPE|CONNECTED_PIPE]-(y:Process)
    WHERE y <> x AND ${RISKY_Y} AND ${PRIVATE_PIPE}
    WITH DISTINCT p, y LIMIT $limit
    RETURN 'PIPE' AS rel, y, p.key AS via, null AS access
  UNION ALL
    MATCH (x)-[i:CONNECTED_TO]->(ep:NetworkEndpoint)<-[o:CONNECTED_TO]-(y:Process)
    WHERE y <> x AND 'inbound' IN coalesce(i.direction, []) AND 'outbound' IN coalesce(o.direction, [])
      AND y.host <> x.host AND ${SAME_TUPLE} AND ${RISKY_Y}
    WITH DISTINCT ep, y LIMIT $limit
    RETURN 'NETWORK' AS rel, y, ep.key AS via, null AS access
  UNION ALL
    WITH x WHERE x.create_time IS NOT NULL AND EXISTS { (x)-[:HAS_RISK]->(:Risk) } AND ${BROKER_PARENT('x')}
    MATCH (x)-[:RUNS_ON]->(:Asset)<-[:RUNS_ON]-(l:Process)-[i:CONNECTED_TO]->(ep:NetworkEndpoint)
    WHERE 'inbound' IN coalesce(i.direction, []) AND i.first_seen <= x.create_time + $skew
      AND i.last_seen >= x.create_time - $remoteExecMs
    WITH DISTINCT x, i, ep LIMIT 25
    MATCH (ep)<-[o:CONNECTED_TO]-(y:Process)
    WHERE y.host <> x.host AND 'outbound' IN coalesce(o.direction, []) AND ${SAME_TUPLE}
    WITH DISTINCT ep, y LIMIT $limit
    RETURN 'REMOTE_EXEC' AS rel, y, ep.key AS via, null AS access
}
RETURN x.key AS from, rel, y.key AS to, via, access, y.first_seen AS firstSeen, y.last_seen AS lastSeen, ${RISKY_Y} AS risky`;

/** Processes that touched a non-process node (a risky file, key, pipe, endpoint). */
export function touchCypher(kind: NodeKind): string {
  return `UNWIND $keys AS k
MATCH (x:${label(kind)} {key: k})
CALL (x) {
  MATCH (y:Process)-[r]->(x) WHERE type(r) IN $types
  WITH DISTINCT y ORDER BY ${RISKY_Y} DESC LIMIT $limit
  RETURN y
}
RETURN x.key AS from, 'TOUCH' AS rel, y.key AS to, null AS via, null AS access, y.first_seen AS firstSeen, y.last_seen AS lastSeen, ${RISKY_Y} AS risky`;
}

const NeighbourRow = z.object({
  from: z.string(),
  rel: z.enum(['PARENT_OF', 'INJECTED_INTO', 'ACCESSED', 'FILE', 'PIPE', 'NETWORK', 'REMOTE_EXEC', 'SHARED_DEST', 'TOUCH']),
  to: z.string(),
  via: str,
  access: z.array(z.string()).nullable().catch(null),
  firstSeen: num,
  lastSeen: num,
  risky: z.boolean(),
});

/** Parameters of DOWNSTREAM_CYPHER, UPSTREAM_CYPHER and touchCypher, apart from `keys` and `types`. */
export function neighbourParams(o: Pick<JoinOptions, 'fanout' | 'remoteExecMs' | 'windowMs'>) {
  return {
    // One row more than the fanout, so the search can tell a hub.
    limit: int(o.fanout + 1),
    skew: int(SKEW_MS),
    remoteExecMs: int(o.remoteExecMs),
    brokers: REMOTE_EXEC_BROKERS,
    pipeUsers: int(PIPE_USERS_MAX),
    destUsers: int(DEST_USERS_MAX),
    destUsersProbe: int(DEST_USERS_MAX + 1),
    window: int(o.windowMs),
  };
}

/** One hop of the join search for a frontier (see join.ts discoverJoins). */
export async function expandNeighbours(
  tx: ManagedTransaction,
  frontier: ReadonlyArray<{ key: string; dir: Direction }>,
  o: Pick<JoinOptions, 'fanout' | 'remoteExecMs' | 'windowMs'>,
): Promise<Neighbour[]> {
  const out: Neighbour[] = [];
  const params = neighbourParams(o);
  const collect = async (cypher: string, keys: string[], dir: Direction) => {
    if (keys.length === 0) return;
    const res = await tx.run(cypher, { ...params, keys, types: TOUCH_TYPES });
    for (const r of res.records) out.push({ ...NeighbourRow.parse(r.toObject()), dir });
  };
  const down: string[] = [];
  const up: string[] = [];
  const other: string[] = [];
  for (const f of frontier) {
    if (kindOfKey(f.key) === 'Process') (f.dir === 'down' ? down : up).push(f.key);
    else if (f.dir === 'up') other.push(f.key);
  }
  await collect(DOWNSTREAM_CYPHER, down, 'down');
  await collect(UPSTREAM_CYPHER, up, 'up');
  for (const [kind, keys] of byKind(other)) await collect(touchCypher(kind), keys, 'up');
  return out;
}

// -------------------------------------------------------------------------------------------- lenses

/** Risky node -> the (oldest, live) engagement lens holding it as risky. */
export async function lensMemberships(tx: ManagedTransaction, keys: Iterable<string>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const [kind, list] of byKind(keys)) {
    const res = await tx.run(
      `UNWIND $keys AS k
       MATCH (n:${label(kind)} {key: k})<-[:SCOPE {role: 'risky'}]-(l:Lens {type: 'engagement'})
       WHERE l.merged_into IS NULL
       RETURN n.key AS node, l.key AS lens ORDER BY l.created_at, l.key`,
      { keys: list },
    );
    for (const r of res.records) {
      const node = String(r.get('node'));
      if (!out.has(node)) out.set(node, String(r.get('lens')));
    }
  }
  return out;
}

const LockedLensRow = z.object({
  key: z.string(),
  type: z.enum(['engagement', 'asset']),
  createdAt: z.number(),
  status: z.enum(['New', 'Investigating', 'Closed']),
  excluded: z.array(z.string()),
});
export type LockedLens = z.infer<typeof LockedLensRow>;

/** Write-locks lenses (in key order, so two writers never wait on each other crosswise) and reads them. */
export async function lockLenses(tx: ManagedTransaction, keys: string[], now: number): Promise<Map<string, LockedLens>> {
  const out = new Map<string, LockedLens>();
  if (keys.length === 0) return out;
  const res = await tx.run(
    `UNWIND $keys AS k
     MATCH (l:Lens {key: k})
     SET l.updated_at = $now
     RETURN l.key AS key, l.type AS type, l.created_at AS createdAt, l.status AS status,
            [(l)-[:EXCLUDES]->(x) | x.key] AS excluded`,
    { keys: [...new Set(keys)].sort(), now: int(now) },
  );
  for (const r of res.records) {
    const row = LockedLensRow.parse(r.toObject());
    out.set(row.key, row);
  }
  return out;
}

export async function createEngagementLens(tx: ManagedTransaction, key: string, now: number): Promise<void> {
  await tx.run(
    `CREATE (l:Lens {key: $key, type: 'engagement', status: 'New', created_at: $now, updated_at: $now,
                     status_changed_at: $now, created_by: $by, title: '', score: 0, tags: [], hosts: [], techniques: [],
                     risk_count: 0, risky_count: 0, node_count: 0})`,
    { key, now: int(now), by: PIPELINE_ACTOR },
  );
}

/** The asset lens of each host, created when missing, locked, and read. */
export async function ensureAssetLenses(tx: ManagedTransaction, hosts: string[], now: number): Promise<Map<string, LockedLens>> {
  if (hosts.length === 0) return new Map();
  const keys = [...new Set(hosts)].sort().map((h) => `asset:${h}`);
  await tx.run(
    `UNWIND $keys AS k
     MERGE (l:Lens {key: k})
       ON CREATE SET l.type = 'asset', l.status = 'New', l.created_at = $now, l.status_changed_at = $now,
                     l.created_by = $by, l.title = substring(k, 6), l.score = 0, l.tags = [], l.hosts = [substring(k, 6)],
                     l.techniques = [], l.risk_count = 0, l.risky_count = 0, l.node_count = 0`,
    { keys, now: int(now), by: PIPELINE_ACTOR },
  );
  return lockLenses(tx, keys, now);
}

export interface ScopeRow {
  node: string;
  role: 'risky' | 'context';
}

/**
 * Adds nodes to a lens's scope. A node already there keeps its first `added_by`; `risky` wins over
 * `context`. With `respectExclusions` (the pipeline) nodes an analyst removed are skipped.
 */
export async function addScope(
  tx: ManagedTransaction,
  lens: string,
  rows: ScopeRow[],
  by: string,
  now: number,
  respectExclusions: boolean,
): Promise<number> {
  let n = 0;
  const groups = new Map<NodeKind, ScopeRow[]>();
  for (const r of rows) {
    const kind = kindOfKey(r.node);
    if (!kind) continue;
    groups.set(kind, [...(groups.get(kind) ?? []), r]);
  }
  for (const [kind, list] of groups) {
    const res = await tx.run(
      `MATCH (l:Lens {key: $lens})
       UNWIND $rows AS r
       MATCH (n:${label(kind)} {key: r.node})
       WITH l, n, r WHERE NOT ($respect AND (l)-[:EXCLUDES]->(n))
       MERGE (l)-[s:SCOPE]->(n)
         ON CREATE SET s.role = r.role, s.added_by = $by, s.added_at = $now
       SET s.role = CASE WHEN r.role = 'risky' THEN 'risky' ELSE s.role END
       RETURN count(s) AS n`,
      { lens, rows: list, by, now: int(now), respect: respectExclusions },
    );
    n += Number(res.records[0]?.get('n') ?? 0);
  }
  return n;
}

/** Merges `absorbed` into `target`: scope, exclusions, notes, tags move; the absorbed lens points on. */
export async function mergeLensInto(tx: ManagedTransaction, target: string, absorbed: string, now: number): Promise<void> {
  const p = { target, absorbed, now: int(now), by: PIPELINE_ACTOR };
  await tx.run(
    `MATCH (t:Lens {key: $target}), (a:Lens {key: $absorbed})
     MATCH (a)-[s:SCOPE]->(n) WHERE NOT (t)-[:EXCLUDES]->(n)
     MERGE (t)-[s2:SCOPE]->(n)
       ON CREATE SET s2.role = s.role, s2.added_by = s.added_by, s2.added_at = s.added_at
     SET s2.role = CASE WHEN s.role = 'risky' OR s2.role = 'risky' THEN 'risky' ELSE s2.role END`,
    p,
  );
  await tx.run(
    `MATCH (t:Lens {key: $target}), (a:Lens {key: $absorbed})
     MATCH (a)-[x:EXCLUDES]->(n)
     MERGE (t)-[x2:EXCLUDES]->(n) ON CREATE SET x2.by = x.by, x2.at = x.at`,
    p,
  );
  await tx.run(`MATCH (note:Note {target: $absorbed}) SET note.target = $target, note.moved_from = $absorbed`, p);
  // Lenses merged into the absorbed one earlier now point at the survivor directly.
  await tx.run(`MATCH (o:Lens {merged_into: $absorbed}) SET o.merged_into = $target`, p);
  await tx.run(`MATCH (:Lens {key: $absorbed})-[s:SCOPE]->() DELETE s`, p);
  await tx.run(
    `MATCH (t:Lens {key: $target}), (a:Lens {key: $absorbed})
     SET t.tags = coalesce(t.tags, []) + [x IN coalesce(a.tags, []) WHERE NOT x IN coalesce(t.tags, [])],
         t.assignee = coalesce(t.assignee, a.assignee),
         t.updated_at = $now,
         a.merged_into = t.key, a.previous_status = a.status, a.status = 'Closed', a.resolution = 'Duplicate',
         a.duplicate_of = t.key, a.resolution_summary = 'Merged by the pipeline: a later event linked it to ' + t.key,
         a.closed_at = $now, a.closed_by = $by, a.status_changed_at = $now, a.updated_at = $now`,
    p,
  );
}

/** Closed -> Investigating because new hits arrived; returns the state before, or null if not Closed. */
export async function reopenByPipeline(
  tx: ManagedTransaction,
  lens: string,
  reason: string,
  now: number,
): Promise<{ resolution: string | null; summary: string | null } | null> {
  const res = await tx.run(
    `MATCH (l:Lens {key: $lens}) WHERE l.status = 'Closed' AND l.merged_into IS NULL
     WITH l, l.resolution AS resolution, l.resolution_summary AS summary
     SET l.status = 'Investigating', l.previous_resolution = l.resolution, l.previous_resolution_summary = l.resolution_summary,
         l.resolution = null, l.resolution_summary = null, l.duplicate_of = null, l.closed_at = null, l.closed_by = null,
         l.reopened_by_pipeline = true, l.reopen_reason = $reason, l.reopened_at = $now,
         l.status_changed_at = $now, l.updated_at = $now
     RETURN resolution, summary`,
    { lens, reason, now: int(now) },
  );
  const r = res.records[0];
  if (!r) return null;
  return { resolution: str.parse(r.get('resolution')), summary: str.parse(r.get('summary')) };
}

// ---------------------------------------------------------------------------------------- aggregates

const LensRiskRow = z.object({
  node: z.string(),
  detection: z.string(),
  title: z.string().nullable().catch(null).transform((v) => v ?? ''),
  score: z.number().catch(0),
  techniques: strs,
  count: z.number().nullable().catch(null).transform((v) => v ?? 1),
  host: str,
  firstSeen: num,
  lastSeen: num,
});

export const RISK_PROJECTION = `{node: n.key, detection: r.detection, title: r.title, score: r.score, techniques: r.techniques,
  count: r.count, host: coalesce(n.host, CASE WHEN n:Asset THEN substring(n.key, 6) END),
  firstSeen: r.first_seen, lastSeen: r.last_seen}`;

export function parseLensRisk(v: unknown): LensRisk {
  return LensRiskRow.parse(v);
}

/** Risks of risky nodes (for the score of a story that has no lens yet). */
export async function risksOfNodes(tx: ManagedTransaction, keys: Iterable<string>): Promise<LensRisk[]> {
  const out: LensRisk[] = [];
  for (const [kind, list] of byKind(keys)) {
    const res = await tx.run(
      `UNWIND $keys AS k
       MATCH (n:${label(kind)} {key: k})-[:HAS_RISK]->(r:Risk)
       RETURN ${RISK_PROJECTION} AS risk`,
      { keys: list },
    );
    for (const r of res.records) out.push(parseLensRisk(r.get('risk')));
  }
  return out;
}

export interface LensAggregateRow {
  key: string;
  type: 'engagement' | 'asset';
  nodeCount: number;
  aggregates: LensRiskAggregates;
}

const AggregatesRow = z.object({
  key: z.string(),
  type: z.string().nullable().catch(null),
  nodeCount: z.number().catch(0),
  risks: z.number().catch(0),
  nodes: z.number().catch(0),
  hits: z.number().nullable().catch(null),
  firstSeen: num,
  lastSeen: num,
  hosts: z.array(z.unknown()).catch([]),
  detections: z
    .array(
      z.object({
        detection: z.string(),
        score: num,
        techniques: z.array(z.unknown()).catch([]),
        top: z.tuple([z.unknown(), z.unknown(), z.unknown()]),
      }),
    ),
});

/**
 * What a lens's summary needs (summary.ts LensRiskAggregates), aggregated by Neo4j over the risks of its
 * risky scope: a few rows per lens however many risks it has. Reading every risk of every lens a batch
 * touched cost the engage stage 0.1 s per 1,000 risks, inside the engagement lock, so one busy host's asset
 * lens slowed every batch (docs/engagements.md, "Aggregates"). Each value is read as summary.ts reads a risk:
 * a missing count is 1, a missing title empty, a missing score no score; pipeline/engagement/aggregates.int.test.ts
 * checks the result against aggregateRisks over the same risks read one by one.
 */
export async function lensAggregates(tx: ManagedTransaction, keys: string[]): Promise<LensAggregateRow[]> {
  if (keys.length === 0) return [];
  const risky = `(l)-[:SCOPE {role: 'risky'}]->(n)-[:HAS_RISK]->(r:Risk) WHERE r.detection IS NOT NULL`;
  // Two passes over the risks: the lens's totals, then per detection its highest score, its techniques and
  // its strongest risk (max of [score, last seen, title] is that order, as summary.ts strongerRisk).
  const res = await tx.run(
    `UNWIND $keys AS k
     MATCH (l:Lens {key: k})
     CALL (l) {
       OPTIONAL MATCH ${risky}
       RETURN count(r) AS risks, count(DISTINCT n) AS nodes, sum(CASE WHEN r IS NULL THEN 0 ELSE coalesce(r.count, 1) END) AS hits,
              min(r.first_seen) AS firstSeen, max(r.last_seen) AS lastSeen,
              collect(DISTINCT coalesce(n.host, CASE WHEN n:Asset THEN substring(n.key, 6) END)) AS hosts
     }
     CALL (l) {
       OPTIONAL MATCH ${risky}
       WITH r.detection AS detection, max(r.score) AS score, collect(DISTINCT r.techniques) AS techniques,
            max([coalesce(r.score, 0), coalesce(r.last_seen, 0), coalesce(r.title, '')]) AS top
       WHERE detection IS NOT NULL
       RETURN collect({detection: detection, score: score, techniques: techniques, top: top}) AS detections
     }
     RETURN l.key AS key, l.type AS type, COUNT { (l)-[:SCOPE]->() } AS nodeCount, risks, nodes, hits, firstSeen,
            lastSeen, hosts, detections`,
    { keys },
  );
  return res.records.map((rec) => {
    const r = AggregatesRow.parse(rec.toObject());
    const best = new Map<string, number>();
    const techniques = new Set<string>();
    let top: { score: number; lastSeen: number; title: string } | undefined;
    for (const d of r.detections) {
      best.set(d.detection, typeof d.score === 'number' && Number.isFinite(d.score) ? d.score : 0);
      for (const list of d.techniques) if (Array.isArray(list)) for (const t of list) if (typeof t === 'string') techniques.add(t);
      const [score, lastSeen, title] = d.top;
      const candidate = { score: Number(score) || 0, lastSeen: Number(lastSeen) || 0, title: String(title) };
      if (!top || strongerRisk(candidate, top) < 0) top = candidate;
    }
    return {
      key: r.key,
      type: r.type === 'asset' ? 'asset' : 'engagement',
      nodeCount: r.nodeCount,
      aggregates: {
        best,
        techniques: [...techniques],
        hosts: r.hosts.filter((h): h is string => typeof h === 'string' && h !== ''),
        nodes: r.nodes,
        risks: r.risks,
        hits: r.hits ?? 0,
        firstSeen: r.firstSeen,
        lastSeen: r.lastSeen,
        topTitle: top ? top.title : null,
      },
    };
  });
}

export interface LensAggregates {
  key: string;
  score: number;
  title: string;
  hosts: string[];
  techniques: string[];
  detections: number;
  riskCount: number;
  riskyCount: number;
  hitCount: number;
  nodeCount: number;
  firstSeen: number | null;
  lastSeen: number | null;
}

export async function setAggregates(tx: ManagedTransaction, rows: LensAggregates[], now: number): Promise<void> {
  if (rows.length === 0) return;
  await tx.run(
    `UNWIND $rows AS r
     MATCH (l:Lens {key: r.key})
     SET l.score = r.score, l.title = r.title, l.hosts = r.hosts, l.techniques = r.techniques,
         l.detection_count = r.detections, l.risk_count = r.riskCount, l.risky_count = r.riskyCount,
         l.hit_count = r.hitCount, l.node_count = r.nodeCount, l.first_seen = r.firstSeen, l.last_seen = r.lastSeen,
         l.score_model = $model, l.updated_at = $now`,
    {
      rows: rows.map((r) => ({
        ...r,
        detections: int(r.detections),
        riskCount: int(r.riskCount),
        riskyCount: int(r.riskyCount),
        hitCount: int(r.hitCount),
        nodeCount: int(r.nodeCount),
        firstSeen: intOrNull(r.firstSeen),
        lastSeen: intOrNull(r.lastSeen),
      })),
      now: int(now),
      model: int(SCORE_MODEL),
    },
  );
}

/** Up to `limit` keys of live lenses whose score an older formula made (no `score_model`, or a lower one). */
export async function lensesToRescore(tx: ManagedTransaction, limit: number): Promise<string[]> {
  const res = await tx.run(
    `MATCH (l:Lens) WHERE l.merged_into IS NULL AND coalesce(l.score_model, 1) < $model
     RETURN l.key AS key ORDER BY key LIMIT $limit`,
    { model: int(SCORE_MODEL), limit: int(limit) },
  );
  return res.records.map((r) => String(r.get('key')));
}

/** A new score for each lens and the formula's version, nothing else: the lens's activity time stays. */
export async function setScores(tx: ManagedTransaction, rows: { key: string; score: number }[]): Promise<void> {
  if (rows.length === 0) return;
  await tx.run(
    `UNWIND $rows AS r
     MATCH (l:Lens {key: r.key})
     SET l.score = r.score, l.score_model = $model`,
    { rows, model: int(SCORE_MODEL) },
  );
}

// --------------------------------------------------------------------------------------------- audit

export interface AuditInput {
  target: string;
  targetKind: 'lens' | 'node';
  actor: string;
  action: string;
  before?: unknown;
  after?: unknown;
}

/** Appends audit entries (ids generated here; before/after stored as JSON text). */
export async function writeAudit(tx: ManagedTransaction, entries: AuditInput[], now: number): Promise<void> {
  if (entries.length === 0) return;
  await tx.run(
    `UNWIND $entries AS e
     CREATE (:AuditEntry {id: randomUUID(), target: e.target, target_kind: e.targetKind, at: $now, seq: e.seq,
                          actor: e.actor, action: e.action, before: e.before, after: e.after})`,
    {
      now: int(now),
      entries: entries.map((e, seq) => ({
        seq,
        target: e.target,
        targetKind: e.targetKind,
        actor: e.actor,
        action: e.action,
        before: e.before === undefined ? null : JSON.stringify(e.before),
        after: e.after === undefined ? null : JSON.stringify(e.after),
      })),
    },
  );
}
