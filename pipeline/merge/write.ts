/**
 * The merge writer: subgraphs of several payloads written to Neo4j in ONE transaction, exactly once per
 * batch id.
 *
 *   1. claim the batch ids (AppliedBatch markers, MERGE under a unique constraint): ids already applied
 *      are skipped, so a retried or replayed payload never doubles a counter
 *   2. rewrite keys through the batch aliases and the aliases applied earlier (AliasedKey records), then
 *      coalesce everything by the merge rules (coalesce.ts); a transaction that looks up or applies an
 *      alias first takes the alias lock (ALIAS_LOCK), so two merge workers cannot miss each other's folds
 *   3. fold every aliased node into its canonical node (properties by the rules, relationships re-pointed,
 *      the engagement state attached to it moved: risks, lens scope, exclusions, notes; old node deleted)
 *      and record the alias
 *   4. MERGE nodes label by label, then relationships type by type, in large UNWIND batches of constant
 *      shape (cypher.ts), every property by its rule
 *
 * Everything happens in one managed transaction: it commits whole or not at all, and the driver retries
 * it whole on transient errors (deadlocks), with a fresh claim token per attempt.
 */
import { randomUUID } from 'node:crypto';
import neo4j, { type ManagedTransaction, type QueryResult } from 'neo4j-driver';
import {
  EDGE_KINDS,
  NODE_KINDS,
  kindOfKey,
  type GraphEdge,
  type GraphNode,
  type NodeKind,
  type PropValue,
  type Subgraph,
} from '../../domain/model';
import type { GraphGateway } from '../../lib/neo4j';
import { recomputeLenses } from '../engagement/engage';
import { foldEngagementCypher } from '../engagement/repository';
import { isSessionProcessKey } from '../graph/keys';
import type { Alias } from '../identity/resolve';
import { coalesce, resolveAliasMap } from './coalesce';
import {
  ALIAS_LOCK,
  CLAIM_BATCHES,
  LOOKUP_ALIASES,
  RECORD_ALIASES,
  edgeMergeCypher,
  foldCypher,
  nodeMergeCypher,
  schemaCypher,
} from './cypher';

export interface MergeBatch {
  /** Exactly-once unit: a batch id is applied at most once, ever. */
  id: string;
  subgraph: Subgraph;
  aliases: Alias[];
  /** Events the batch was built from (reported only). */
  events?: number;
}

export interface MergeReport {
  /** Batches given. */
  batches: number;
  /** Batches skipped because their id was applied before. */
  skippedBatches: number;
  eventsIn?: number;
  /** Node / edge rows of the batches applied, before coalescing. */
  nodesIn: number;
  edgesIn: number;
  /** Rows written after coalescing (one per distinct node / relationship). */
  nodesWritten: number;
  edgesWritten: number;
  aliasesApplied: number;
  /** Rows that did not fit the model and were left out. */
  rowsDropped: number;
  nodesCreated: number;
  relationshipsCreated: number;
  /** Keys of every node the update wrote or folded into (a superset of those whose state changed). */
  changedKeys: string[];
}

export interface MergeOptions {
  /** Rows per UNWIND statement. Default 5000. */
  chunkSize?: number;
  /** Run ensureGraphSchema first (once per gateway). Default true. */
  ensureSchema?: boolean;
  /** Wall clock for the AppliedBatch markers. */
  now?: number;
}

const schemaReady = new WeakMap<GraphGateway, Promise<void>>();

/** Uniqueness constraints on `key` of every node kind, markers and indexes. Idempotent. */
export async function ensureGraphSchema(gateway: GraphGateway): Promise<void> {
  for (const stmt of schemaCypher()) {
    try {
      await gateway.schema(stmt);
    } catch (err) {
      // Two processes creating the same schema at once: the loser's IF NOT EXISTS may still collide.
      const code = typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : '';
      if (!code.includes('EquivalentSchemaRuleAlreadyExists') && !code.includes('AlreadyExists')) throw err;
    }
  }
  await gateway.schema('CALL db.awaitIndexes(300)');
}

/** ensureGraphSchema once per gateway (a failed attempt is forgotten, so the next call tries again). */
export function ensureGraphSchemaOnce(gateway: GraphGateway): Promise<void> {
  let p = schemaReady.get(gateway);
  if (!p) {
    p = ensureGraphSchema(gateway);
    schemaReady.set(gateway, p);
    p.catch(() => schemaReady.delete(gateway));
  }
  return p;
}

/** Integers go to Neo4j as integers (the driver would send every JS number as a float). */
function param(v: PropValue): unknown {
  return typeof v === 'number' && Number.isSafeInteger(v) ? neo4j.int(v) : v;
}

function propsParam(props: Record<string, PropValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in props) out[k] = param(props[k]!);
  return out;
}

const nodeRow = (n: GraphNode) => ({ key: n.key, props: propsParam(n.props) });
const edgeRow = (e: GraphEdge) => ({ from: e.from, to: e.to, props: propsParam(e.props) });

function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

interface Counters {
  nodesCreated: number;
  relationshipsCreated: number;
}

async function runChunked(
  tx: ManagedTransaction,
  cypher: string,
  name: 'rows' | 'aliases',
  rows: readonly unknown[],
  size: number,
  counters: Counters,
): Promise<void> {
  for (const part of chunks(rows, size)) {
    const res = await tx.run(cypher, { [name]: part });
    const u = res.summary.counters.updates();
    counters.nodesCreated += u.nodesCreated;
    counters.relationshipsCreated += u.relationshipsCreated;
  }
}

export async function mergeSubgraphs(
  gateway: GraphGateway,
  batches: readonly MergeBatch[],
  opts: MergeOptions = {},
): Promise<MergeReport> {
  const empty: MergeReport = {
    batches: batches.length,
    skippedBatches: 0,
    nodesIn: 0,
    edgesIn: 0,
    nodesWritten: 0,
    edgesWritten: 0,
    aliasesApplied: 0,
    rowsDropped: 0,
    nodesCreated: 0,
    relationshipsCreated: 0,
    changedKeys: [],
  };
  if (batches.length === 0) return empty;
  if (opts.ensureSchema !== false) await ensureGraphSchemaOnce(gateway);
  const size = Math.max(1, opts.chunkSize ?? 5000);

  return gateway.write('merge.subgraphs', async (tx) => {
    // 1. Exactly once: claim the ids; only batches whose marker this attempt created are applied.
    const ids = [...new Set(batches.map((b) => b.id))];
    const claim = randomUUID();
    const claimed = await tx.run(CLAIM_BATCHES, { ids, now: neo4j.int(opts.now ?? Date.now()), claim });
    const fresh = new Set<string>();
    for (const r of claimed.records) if (r.get('fresh') === true) fresh.add(String(r.get('id')));
    const pending: MergeBatch[] = [];
    const taken = new Set<string>();
    for (const b of batches) {
      if (fresh.has(b.id) && !taken.has(b.id)) {
        taken.add(b.id);
        pending.push(b);
      }
    }
    const report: MergeReport = { ...empty, skippedBatches: batches.length - pending.length };
    if (batches.some((b) => b.events !== undefined)) {
      report.eventsIn = pending.reduce((a, b) => a + (b.events ?? 0), 0);
    }
    if (pending.length === 0) return report;

    // 2. Aliases: this update's, plus those applied before for keys that appear here.
    const batchAliases = pending.flatMap((b) => b.aliases);
    const lookup = new Set<string>();
    const consider = (k: string) => {
      if (isSessionProcessKey(k)) lookup.add(k);
    };
    for (const b of pending) {
      for (const n of b.subgraph.nodes) consider(n.key);
      for (const e of b.subgraph.edges) {
        consider(e.from);
        consider(e.to);
      }
    }
    for (const a of batchAliases) consider(a.to);
    if (lookup.size > 0 || batchAliases.length > 0)
      await tx.run(ALIAS_LOCK, { now: neo4j.int(opts.now ?? Date.now()) });
    const known: Alias[] = [];
    if (lookup.size > 0) {
      for (const part of chunks([...lookup], size)) {
        const res = await tx.run(LOOKUP_ALIASES, { keys: part });
        for (const r of res.records) known.push({ from: String(r.get('key')), to: String(r.get('to')) });
      }
    }
    const rewrite = resolveAliasMap([...known, ...batchAliases]);
    const folds = new Map<NodeKind, Alias[]>();
    const seenFrom = new Set<string>();
    for (const a of batchAliases) {
      const to = rewrite.get(a.from);
      const kind = kindOfKey(a.from);
      if (!to || !kind || seenFrom.has(a.from)) continue;
      seenFrom.add(a.from);
      let list = folds.get(kind);
      if (!list) folds.set(kind, (list = []));
      list.push({ from: a.from, to });
    }

    const c = coalesce(
      pending.map((b) => b.subgraph),
      rewrite,
    );
    const counters: Counters = { nodesCreated: 0, relationshipsCreated: 0 };

    // 3. Fold aliased nodes into their canonical node.
    const allFolds: Alias[] = [];
    // Lenses whose figures a fold changed (it moved risks or scope onto the canonical node).
    const lensesToRecompute = new Set<string>();
    for (const kind of NODE_KINDS) {
      const list = folds.get(kind);
      if (!list?.length) continue;
      allFolds.push(...list);
      const fold = foldCypher(kind);
      for (const part of chunks(list, size)) {
        // Only the statements the old nodes need: usually none (a replayed alias) or a few types.
        const probe = await tx.run(fold.probe, { aliases: part });
        if (probe.records.length === 0) continue;
        const present = new Set(probe.records.map((r) => `${String(r.get('type'))}:${String(r.get('out'))}`));
        await runChunked(tx, fold.props, 'aliases', part, size, counters);
        for (const rel of fold.rels) {
          if (present.has(`${rel.edge}:${String(rel.out)}`))
            await runChunked(tx, rel.cypher, 'aliases', part, size, counters);
        }
        // What the engage stage and analysts attached to the old node (risks, lens scope, exclusions,
        // notes) moves too: the delete below would drop it.
        // (Counted apart: the report's created nodes and relationships are the domain graph's.)
        const eng = foldEngagementCypher(kind);
        const engCounters: Counters = { nodesCreated: 0, relationshipsCreated: 0 };
        const risks = present.has('HAS_RISK:true');
        const scope = present.has('SCOPE:false');
        if (risks) await runChunked(tx, eng.risks, 'aliases', part, size, engCounters);
        if (scope) await runChunked(tx, eng.scope, 'aliases', part, size, engCounters);
        if (present.has('EXCLUDES:false'))
          await runChunked(tx, eng.excludes, 'aliases', part, size, engCounters);
        await runChunked(tx, eng.notes, 'aliases', part, size, engCounters);
        if (risks || scope) {
          const res = await tx.run(eng.lenses, { aliases: part });
          for (const r of res.records) lensesToRecompute.add(String(r.get('lens')));
        }
        await runChunked(tx, fold.remove, 'aliases', part, size, counters);
      }
    }
    if (allFolds.length > 0)
      await runChunked(tx, RECORD_ALIASES, 'aliases', allFolds, size, {
        nodesCreated: 0,
        relationshipsCreated: 0,
      });

    // 4. Nodes, then relationships. Sent without waiting for each result: the driver pipelines the
    // statements of a transaction on its connection and Neo4j runs them in order, so every node exists
    // before the relationship statements match it, and no statement waits a round trip for the previous.
    const changed = new Set<string>();
    const pending4: Array<Promise<QueryResult>> = [];
    const send = (cypher: string, rows: readonly unknown[]) => {
      for (const part of chunks(rows, size)) pending4.push(Promise.resolve(tx.run(cypher, { rows: part })));
    };
    for (const kind of NODE_KINDS) {
      const rows = c.nodes.get(kind);
      if (!rows?.length) continue;
      for (const n of rows) changed.add(n.key);
      send(nodeMergeCypher(kind), rows.map(nodeRow));
    }
    for (const kind of EDGE_KINDS) {
      const rows = c.edges.get(kind);
      if (!rows?.length) continue;
      send(edgeMergeCypher(kind), rows.map(edgeRow));
    }
    for (const res of await Promise.all(pending4)) {
      const u = res.summary.counters.updates();
      counters.nodesCreated += u.nodesCreated;
      counters.relationshipsCreated += u.relationshipsCreated;
    }
    for (const a of allFolds) changed.add(a.to);
    if (lensesToRecompute.size > 0)
      await recomputeLenses(tx, [...lensesToRecompute].sort(), opts.now ?? Date.now());

    report.nodesIn = c.nodesIn;
    report.edgesIn = c.edgesIn;
    report.nodesWritten = [...c.nodes.values()].reduce((a, l) => a + l.length, 0);
    report.edgesWritten = [...c.edges.values()].reduce((a, l) => a + l.length, 0);
    report.aliasesApplied = allFolds.length;
    report.rowsDropped = c.dropped;
    report.nodesCreated = counters.nodesCreated;
    report.relationshipsCreated = counters.relationshipsCreated;
    report.changedKeys = [...changed];
    return report;
  });
}
