/**
 * Real events into a real graph, the way the pipeline does it (parse -> build -> identity -> merge), for the
 * analyzer integration tests and the evaluation script. Tests replay events under their own namespace
 * (host names, GUIDs and IP addresses remapped per tag) so they own what they write in a shared Neo4j.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { NormalizedEvent } from '../../domain/event';
import type { NodeKind } from '../../domain/model';
import type { GraphGateway } from '../../lib/neo4j';
import { buildEvent } from '../graph/build';
import { MemorySessionStore, resolveIdentities, type SessionStore } from '../identity';
import { mergeSubgraphs } from '../merge';
import { normalizeRecord, readRecords } from '../parsers';
import { replayEvent } from '../stages/parse/replay';
import { paramSets } from './runtime';
import type { Analyzer } from './sdk/define';

/** Every event of a telemetry file (records that do not parse are skipped). */
export async function readEvents(
  file: string,
  keep: (e: NormalizedEvent) => boolean = () => true,
): Promise<NormalizedEvent[]> {
  const out: NormalizedEvent[] = [];
  for await (const r of readRecords(file)) {
    if (!('text' in r)) continue;
    let obj: unknown;
    try {
      obj = JSON.parse(r.text);
    } catch {
      continue;
    }
    const res = normalizeRecord(obj);
    if (res.kind === 'event' && keep(res.event)) out.push(res.event);
  }
  return out;
}

export function newTag(): string {
  return `a${randomBytes(4).toString('hex')}`;
}

const IP_FIELDS = ['SourceIp', 'DestinationIp', 'IpAddress'];

/**
 * An address moved into the namespace `tag`, keeping its class: private stays private (10/8), public
 * stays public (100.64/10 is neither private nor local), local and multicast stay as they are.
 */
export function replayIp(ip: string, tag: string): string {
  const m = /^(?:::ffff:)?(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/i.exec(ip.trim());
  if (!m) return ip;
  const [a, b] = [Number(m[1]), Number(m[2])];
  if (a === 127 || a === 0 || a >= 224 || (a === 169 && b === 254) || ip.endsWith('.255')) return ip;
  const h = createHash('sha1').update(`${tag}\0${ip}`).digest();
  const priv = a === 10 || (a === 192 && b === 168) || (a === 172 && b >= 16 && b <= 31);
  return priv
    ? `10.${h[0]}.${h[1]}.${(h[2]! % 254) + 1}`
    : `100.${64 + (h[0]! % 64)}.${h[1]}.${(h[2]! % 254) + 1}`;
}

/** The event as if from other hosts: host names, GUIDs and IPv4 addresses remapped per tag. */
export function namespaced(e: NormalizedEvent, tag: string): NormalizedEvent {
  const r = replayEvent(e, tag);
  const fields = { ...r.fields };
  for (const f of IP_FIELDS) if (fields[f]) fields[f] = replayIp(fields[f], tag);
  return { ...r, fields };
}

export interface IngestOptions {
  /** Upload/file name recorded on processes (Process.sources). */
  origin?: string;
  store?: SessionStore;
  /** Events per merged batch (the pipeline's chunk). Default: all at once. */
  batchSize?: number;
  /** Prefix of the exactly-once batch ids; must be unique per ingest. */
  batchPrefix?: string;
  /** Called after each merged batch with its changed keys (to run analyzers the way the pipeline does). */
  onBatch?: (changedKeys: string[]) => Promise<void>;
}

/** Builds, resolves and merges events; returns every key the merges reported changed. */
export async function ingestEvents(
  gateway: GraphGateway,
  events: readonly NormalizedEvent[],
  opts: IngestOptions = {},
): Promise<string[]> {
  const store = opts.store ?? new MemorySessionStore();
  const size = opts.batchSize ?? Math.max(1, events.length);
  const prefix = opts.batchPrefix ?? `analyzer-test:${randomBytes(6).toString('hex')}`;
  const changed = new Set<string>();
  for (let i = 0; i < events.length; i += size) {
    const chunk = events.slice(i, i + size);
    const facts = chunk.map((e) => buildEvent(e, opts.origin));
    const res = await resolveIdentities(facts, store, {});
    const report = await mergeSubgraphs(gateway, [
      { id: `${prefix}:${i}`, subgraph: res.subgraph, aliases: res.aliases, events: chunk.length },
    ]);
    for (const k of report.changedKeys) changed.add(k);
    if (opts.onBatch) await opts.onBatch(report.changedKeys);
  }
  return [...changed];
}

/** Graph keys of the processes with these Sysmon ProcessGuids (looked up by property, not by key format). */
export async function keysOfGuids(
  gateway: GraphGateway,
  guids: readonly string[],
): Promise<Map<string, string>> {
  const norm = guids.map((g) => g.replace(/[{}]/g, '').toUpperCase());
  const rows = await gateway.query<{ guid: string; key: string }>(
    'analyzer-test.keys-of-guids',
    'UNWIND $guids AS g MATCH (p:Process {process_guid: g}) RETURN g AS guid, p.key AS key',
    { guids: norm },
  );
  return new Map(rows.map((r) => [r.guid, r.key]));
}

export interface PlanNode {
  operatorType: string;
  arguments: Record<string, unknown>;
  children: PlanNode[];
}

/** Operators of a plan, depth first, with the details Neo4j gives for each. */
export function operators(plan: PlanNode): string[] {
  const details = typeof plan.arguments.Details === 'string' ? plan.arguments.Details : '';
  return [`${plan.operatorType.replace(/@.*$/, '')} ${details}`, ...plan.children.flatMap(operators)];
}

/**
 * The operators of the analyzers' plans (EXPLAIN, every anchor branch) that find nodes other than by a seek
 * of an anchor key: index lookups elsewhere, index and label scans. Two reasons to have none:
 *   - a reader sees a committing transaction's new nodes and relationships in the store before their index
 *     entries, so a lookup past the anchors (whose keys belong to an update already committed) can miss a
 *     node that is in the graph, and a NOT EXISTS or an empty collection then gives a verdict on a graph
 *     that never existed;
 *   - Neo4j keeps a plan for minutes while the graph grows, so a scan planned on a small graph reads every
 *     node of the label for every batch later.
 * Also lists a plan that seeks no anchor at all. Covers each analyzer's declared expansions (ctx.expand) too.
 */
export async function planOffenders(
  gateway: GraphGateway,
  analyzers: readonly Analyzer[],
): Promise<string[]> {
  const offenders: string[] = [];
  for (const a of analyzers) {
    // the analyzer's own query and every follow-up query it declared for ctx.expand
    const queries = [
      { id: a.id, compiled: a.compiled },
      ...a.expansions.map((e, i) => ({ id: `${a.id} expansions[${i}]`, compiled: e.compiled })),
    ];
    for (const { id, compiled } of queries) {
      const byKind = new Map<NodeKind, string[]>(
        compiled.anchors.map((x) => [x.kind, [`${x.kind}:plan-check`]]),
      );
      for (const params of paramSets(compiled, byKind, a.limit, 2000)) {
        const plan = await gateway.read('test.analyzers.explain', async (tx) => {
          // Planned now, for this graph: not a plan cached when the graph was smaller.
          const res = await tx.run(`CYPHER replan=force EXPLAIN ${compiled.cypher}`, params);
          return res.summary.plan;
        });
        if (!plan) throw new Error(`${id}: no plan`);
        const ops = operators(plan as unknown as PlanNode);
        if (!ops.some((o) => /^NodeUniqueIndexSeek .*WHERE key = anchor_key\b/.test(o)))
          offenders.push(`${id}: no anchor seek`);
        for (const o of ops)
          if (
            /Index|LabelScan|AllNodesScan/.test(o) &&
            !/^NodeUniqueIndexSeek .*WHERE key = anchor_key\b/.test(o)
          )
            offenders.push(`${id}: ${o}`);
      }
    }
  }
  return offenders;
}
