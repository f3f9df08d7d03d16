/**
 * Helpers for the integration tests of graph, identity and merge: servers from the environment the
 * integration harness sets (NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD, REDIS_URL), per-test namespaces
 * (a random tag in host names and GUIDs, so runs never share a node they compare), and read-back of
 * everything a tagged run wrote.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { NormalizedEvent } from '../../domain/event';
import {
  NODE_KINDS,
  type GraphEdge,
  type GraphNode,
  type NodeKind,
  type PropValue,
} from '../../domain/model';
import { GraphGateway } from '../../lib/neo4j';
import { createRedis } from '../../lib/redis';
import { edgeId } from '../graph/rules';

export function env(name: string): string {
  const v = process.env[name];
  if (!v) throw new Error(`${name} must be set (the integration global setup provides it)`);
  return v;
}

export function gatewayFromEnv(): GraphGateway {
  return new GraphGateway({
    uri: env('NEO4J_URI'),
    user: process.env.NEO4J_USER ?? 'neo4j',
    password: env('NEO4J_PASSWORD'),
  });
}

export function redisFromEnv(name: string): Redis {
  return createRedis(env('REDIS_URL'), { connectionName: name });
}

/** 8 upper-case hex digits: fits the machine part of a Sysmon GUID. */
export function newTag(): string {
  return randomBytes(4).toString('hex').toUpperCase();
}

/**
 * The event moved into the namespace `tag`: host `T<tag>-<host>` (so every per-asset key carries the tag)
 * and the machine part of every GUID replaced by the tag (the start time in the GUID is kept).
 */
export function retag(e: NormalizedEvent, tag: string): NormalizedEvent {
  const fields: Record<string, string> = {};
  for (const [k, v] of Object.entries(e.fields)) {
    fields[k] =
      (k.endsWith('Guid') || k.endsWith('GUID')) && /^[0-9A-F]{8}-/i.test(v) && !/^0{8}-0{4}/.test(v)
        ? tag + v.slice(8)
        : v;
  }
  return { ...e, host: `T${tag}-${e.host}`, fields };
}

export interface GraphView {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

function plain(props: Record<string, unknown>, re: (s: string) => string): Record<string, PropValue> {
  const out: Record<string, PropValue> = {};
  for (const [k, v] of Object.entries(props)) {
    if (k === 'key') continue;
    if (Array.isArray(v)) out[k] = (v as string[]).map(re).sort();
    else out[k] = typeof v === 'string' ? re(v) : (v as PropValue);
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** Nodes whose key contains `tag` and every relationship touching them, as stored (the tag replaced everywhere). */
export async function readTagged(gateway: GraphGateway, tag: string, replaceWith = tag): Promise<GraphView> {
  const rows = await gateway.query<{ kind: string; key: string; props: Record<string, unknown> }>(
    'test.read-tagged-nodes',
    `UNWIND $labels AS label
     MATCH (n) WHERE label IN labels(n) AND n.key CONTAINS $tag
     RETURN label AS kind, n.key AS key, properties(n) AS props`,
    { labels: NODE_KINDS, tag },
  );
  const edges = await gateway.query<{
    kind: string;
    from: string;
    to: string;
    props: Record<string, unknown>;
  }>(
    'test.read-tagged-edges',
    `MATCH (a)-[r]->(b) WHERE a.key CONTAINS $tag OR b.key CONTAINS $tag
     RETURN type(r) AS kind, a.key AS from, b.key AS to, properties(r) AS props`,
    { tag },
  );
  const re = (k: string) => k.split(tag).join(replaceWith);
  return normalizeView({
    nodes: rows.map((r) => ({ kind: r.kind as NodeKind, key: re(r.key), props: plain(r.props, re) })),
    edges: edges.map((r) => ({
      kind: r.kind as GraphEdge['kind'],
      from: re(r.from),
      to: re(r.to),
      props: plain(r.props, re),
    })),
  });
}

/** The same view of an in-memory graph (MemoryGraph.snapshot()). */
export function tagged(view: GraphView, tag: string, replaceWith = tag): GraphView {
  const re = (k: string) => k.split(tag).join(replaceWith);
  return normalizeView({
    nodes: view.nodes
      .filter((n) => n.key.includes(tag))
      .map((n) => ({ ...n, key: re(n.key), props: plain(n.props, re) })),
    edges: view.edges
      .filter((e) => e.from.includes(tag) || e.to.includes(tag))
      .map((e) => ({ ...e, from: re(e.from), to: re(e.to), props: plain(e.props, re) })),
  });
}

function normalizeView(v: GraphView): GraphView {
  return {
    nodes: [...v.nodes].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0)),
    edges: [...v.edges].sort((a, b) => (edgeId(a) < edgeId(b) ? -1 : edgeId(a) > edgeId(b) ? 1 : 0)),
  };
}

/**
 * A transaction that takes the write lock of the nodes `lockCypher` writes to and holds it until
 * `release()`: for tests that stop another transaction at a chosen statement.
 */
export async function holdLock(
  gateway: GraphGateway,
  lockCypher: string,
  params: Record<string, unknown>,
): Promise<{ release: () => void; done: Promise<void> }> {
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const done = gateway.write('test.hold-lock', async (tx) => {
    await tx.run(lockCypher, params);
    locked();
    await released;
  });
  await Promise.race([isLocked, done]);
  return { release, done };
}

/** Waits (up to 10 s) until Neo4j lists a statement containing `fragment` as blocked on a lock. */
export async function waitUntilBlocked(gateway: GraphGateway, fragment: string): Promise<boolean> {
  for (let i = 0; i < 400; i++) {
    const rows = await gateway.query<{ n: number }>(
      'test.watch-blocked',
      `SHOW TRANSACTIONS YIELD currentQuery, status
       WHERE currentQuery CONTAINS $fragment AND status STARTS WITH 'Blocked' RETURN count(*) AS n`,
      { fragment },
    );
    if ((rows[0]?.n ?? 0) > 0) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return false;
}
