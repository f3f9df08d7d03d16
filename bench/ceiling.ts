/**
 * The write ceiling of a Neo4j: the rows the pipeline writes for a file, built in memory with the
 * pipeline's own code (parseChunk -> buildEvent -> resolveIdentities with an in-memory session store,
 * chunk by chunk as identify does), then written
 *   - `bare`: coalesced once, by plain `UNWIND $rows AS r MERGE (n:Label {key: r.key}) SET n += r.props`
 *     and relationship MERGE statements, batches of 5,000 rows, one transaction per batch;
 *   - `mergeWriter`: the per-chunk subgraphs given to the merge writer itself (`mergeSubgraphs`, merge
 *     rules and exactly-once markers included) in batches of the merge stage's batchMax chunks, in
 *     process, sequentially: the merge stage's write path without Redis, queues or payloads.
 * Each goes to its own namespace (keys rewritten `Kind:<ns>~<rest>`), so neither meets the pipeline's nodes.
 */
import path from 'node:path';
import neo4j from 'neo4j-driver';
import { EDGE_KINDS, EdgeKinds, NODE_KINDS, type PropValue, type Subgraph } from '../domain/model';
import { StageRegistry } from '../domain/stages';
import type { GraphGateway } from '../lib/neo4j';
import { buildEvent } from '../pipeline/graph/build';
import { MemorySessionStore, resolveIdentities, type Alias } from '../pipeline/identity';
import { coalesce, mergeSubgraphs, resolveAliasMap } from '../pipeline/merge';
import { ident } from '../pipeline/merge/cypher';
import { parseChunk } from '../pipeline/stages/parse/handler';
import { cutChunks, readRawItems } from './lib/data';
import { perSecond, round, timedAsync } from './lib/stats';

export interface ChunkGraph {
  chunk: string;
  subgraph: Subgraph;
  aliases: Alias[];
  events: number;
}

/** What identify would hand the merge stage for this file, chunk by chunk (no Sigma). */
export async function buildChunkGraphs(file: string, chunkRecords: number, limit?: number) {
  const t = await timedAsync(async () => {
    const chunks = cutChunks(await readRawItems(file, limit), chunkRecords, path.basename(file));
    const store = new MemorySessionStore();
    const out: ChunkGraph[] = [];
    for (const c of chunks) {
      const { events } = parseChunk(c);
      const facts = events.map((e) => buildEvent(e, c.source));
      const resolved = await resolveIdentities(facts, store, {});
      out.push({ chunk: c.chunk, subgraph: resolved.subgraph, aliases: resolved.aliases, events: events.length });
    }
    return out;
  });
  return { graphs: t.value, ms: t.ms, cpuMs: t.cpuMs };
}

function param(v: PropValue): unknown {
  return typeof v === 'number' && Number.isSafeInteger(v) ? neo4j.int(v) : v;
}

function props(p: Record<string, PropValue>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in p) out[k] = param(p[k]!);
  return out;
}

/** `Process:ABC` -> `Process:<ns>~ABC`: same label and kind, a key no pipeline node has. */
export function namespaced(key: string, ns: string): string {
  const i = key.indexOf(':');
  return i < 0 ? key : `${key.slice(0, i + 1)}${ns}~${key.slice(i + 1)}`;
}

function batches<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

export async function bareCeiling(gateway: GraphGateway, graphs: readonly ChunkGraph[], ns: string, batchRows = 5000) {
  const c = coalesce(
    graphs.map((g) => g.subgraph),
    resolveAliasMap(graphs.flatMap((g) => g.aliases)),
  );
  const nodeRows = [...c.nodes.values()].reduce((a, l) => a + l.length, 0);
  const edgeRows = [...c.edges.values()].reduce((a, l) => a + l.length, 0);
  const byLabel: Record<string, number> = {};
  const byType: Record<string, number> = {};
  let statements = 0;

  const nodes = await timedAsync(async () => {
    for (const kind of NODE_KINDS) {
      const rows = c.nodes.get(kind);
      if (!rows?.length) continue;
      byLabel[kind] = rows.length;
      const cypher = `UNWIND $rows AS r MERGE (n:${ident(kind)} {key: r.key}) SET n += r.props`;
      for (const part of batches(rows, batchRows)) {
        const p = part.map((n) => ({ key: namespaced(n.key, ns), props: props(n.props) }));
        await gateway.write('bench.ceiling.nodes', (tx) => tx.run(cypher, { rows: p }));
        statements++;
      }
    }
  });
  const edges = await timedAsync(async () => {
    for (const kind of EDGE_KINDS) {
      const rows = c.edges.get(kind);
      if (!rows?.length) continue;
      byType[kind] = rows.length;
      const spec = EdgeKinds[kind];
      const cypher = [
        'UNWIND $rows AS r',
        `MATCH (a:${ident(spec.from)} {key: r.from})`,
        `MATCH (b:${ident(spec.to)} {key: r.to})`,
        `MERGE (a)-[e:${ident(kind)}]->(b)`,
        'SET e += r.props',
      ].join('\n');
      for (const part of batches(rows, batchRows)) {
        const p = part.map((e) => ({ from: namespaced(e.from, ns), to: namespaced(e.to, ns), props: props(e.props) }));
        await gateway.write('bench.ceiling.edges', (tx) => tx.run(cypher, { rows: p }));
        statements++;
      }
    }
  });
  const rows = nodeRows + edgeRows;
  const ms = nodes.ms + edges.ms;
  return {
    batchRows,
    statements,
    nodeRows,
    edgeRows,
    rows,
    byLabel,
    byType,
    nodesMs: round(nodes.ms),
    edgesMs: round(edges.ms),
    ms: round(ms),
    rowsPerSec: round(perSecond(rows, ms)),
    nodeRowsPerSec: round(perSecond(nodeRows, nodes.ms)),
    edgeRowsPerSec: round(perSecond(edgeRows, edges.ms)),
  };
}

export async function mergeWriterCeiling(gateway: GraphGateway, graphs: readonly ChunkGraph[], ns: string) {
  const perBatch = StageRegistry.merge.batchMax;
  let nodesWritten = 0;
  let edgesWritten = 0;
  let nodesIn = 0;
  let edgesIn = 0;
  let transactions = 0;
  const t = await timedAsync(async () => {
    for (const group of batches(graphs, perBatch)) {
      const report = await mergeSubgraphs(
        gateway,
        group.map((g) => ({
          id: `${ns}:${g.chunk}`,
          events: g.events,
          subgraph: {
            nodes: g.subgraph.nodes.map((n) => ({ ...n, key: namespaced(n.key, ns) })),
            edges: g.subgraph.edges.map((e) => ({ ...e, from: namespaced(e.from, ns), to: namespaced(e.to, ns) })),
          },
          aliases: g.aliases.map((a) => ({ from: namespaced(a.from, ns), to: namespaced(a.to, ns) })),
        })),
      );
      transactions++;
      nodesWritten += report.nodesWritten;
      edgesWritten += report.edgesWritten;
      nodesIn += report.nodesIn;
      edgesIn += report.edgesIn;
    }
  });
  const rows = nodesWritten + edgesWritten;
  return {
    chunksPerTransaction: perBatch,
    transactions,
    nodesIn,
    edgesIn,
    nodesWritten,
    edgesWritten,
    rows,
    ms: round(t.ms),
    rowsPerSec: round(perSecond(rows, t.ms)),
    events: graphs.reduce((a, g) => a + g.events, 0),
    eventsPerSec: round(perSecond(graphs.reduce((a, g) => a + g.events, 0), t.ms)),
  };
}
