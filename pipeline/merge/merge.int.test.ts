/**
 * The merge writer against the real Neo4j: rules applied in the database, exactly once per batch, alias
 * folding, and agreement with the in-memory reference (memory-graph.ts). Every test writes only keys that
 * carry its own random tag and reads back only those.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphEdge, GraphNode, Subgraph } from '../../domain/model';
import type { GraphGateway } from '../../lib/neo4j';
import { MemoryGraph } from './memory-graph';
import { gatewayFromEnv, holdLock, newTag, readTagged, tagged, waitUntilBlocked } from './test-support';
import { ensureGraphSchema, mergeSubgraphs, type MergeBatch } from './write';

let gateway: GraphGateway;

beforeAll(async () => {
  gateway = gatewayFromEnv();
  await ensureGraphSchema(gateway);
});

afterAll(async () => {
  await gateway.close();
});

const node = (kind: GraphNode['kind'], key: string, props: GraphNode['props']): GraphNode => ({
  kind,
  key,
  props,
});
const edge = (kind: GraphEdge['kind'], from: string, to: string, props: GraphEdge['props']): GraphEdge => ({
  kind,
  from,
  to,
  props,
});

/** Two subgraphs about the same process, file and access, disagreeing in every way the rules settle. */
function twoViews(tag: string): { a: Subgraph; b: Subgraph; p: string; q: string; f: string } {
  const p = `Process:${tag}-0000-0000-0000-000000000001`;
  const q = `Process:${tag}-0000-0000-0000-000000000002`;
  const f = `File:T${tag}:c:\\windows\\x.exe`;
  const a: Subgraph = {
    nodes: [
      node('Process', p, {
        image: 'C:\\windows\\x.exe',
        pid: 5,
        first_seen: 100,
        last_seen: 100,
        sources: ['a.jsonl'],
        provisional: 1,
      }),
      node('File', f, { path: 'C:\\windows\\x.exe', hashes: ['MD5=1'], first_seen: 100, last_seen: 100 }),
    ],
    edges: [
      edge('EXECUTED', p, f, { count: 1, first_seen: 100, last_seen: 100 }),
      edge('ACCESSED', p, q, {
        count: 1,
        first_seen: 100,
        last_seen: 100,
        granted_access: ['0x10'],
        call_trace: 'b|trace',
      }),
    ],
  };
  const b: Subgraph = {
    nodes: [
      node('Process', p, {
        image: 'C:\\Windows\\x.exe',
        command_line: 'x.exe /q',
        pid: 5,
        first_seen: 50,
        last_seen: 200,
        sources: ['b.jsonl', 'a.jsonl'],
        provisional: 0,
        create_time: 50,
      }),
      node('File', f, {
        path: 'C:\\Windows\\X.exe',
        hashes: ['SHA1=2', 'MD5=1'],
        first_seen: 40,
        last_seen: 90,
      }),
    ],
    edges: [
      edge('EXECUTED', p, f, { count: 2, first_seen: 50, last_seen: 300 }),
      edge('ACCESSED', p, q, {
        count: 3,
        first_seen: 120,
        last_seen: 130,
        granted_access: ['0x1410', '0x10'],
        call_trace: 'a|trace',
      }),
    ],
  };
  return { a, b, p, q, f };
}

describe('mergeSubgraphs', () => {
  it('writes a subgraph and reads it back with every merge rule applied, in either order', async () => {
    const t1 = newTag();
    const t2 = newTag();
    const v1 = twoViews(t1);
    const v2 = twoViews(t2);
    await mergeSubgraphs(gateway, [{ id: `${t1}-a`, subgraph: v1.a, aliases: [] }]);
    const report = await mergeSubgraphs(gateway, [{ id: `${t1}-b`, subgraph: v1.b, aliases: [] }]);
    expect(report).toMatchObject({ batches: 1, skippedBatches: 0, nodesWritten: 3, edgesWritten: 2 });
    expect(report.changedKeys.sort()).toEqual([v1.p, v1.q, v1.f].sort());
    // the other order, separately
    await mergeSubgraphs(gateway, [{ id: `${t2}-b`, subgraph: v2.b, aliases: [] }]);
    await mergeSubgraphs(gateway, [{ id: `${t2}-a`, subgraph: v2.a, aliases: [] }]);

    const got = await readTagged(gateway, t1, 'TAG');
    expect(got.nodes.find((n) => n.kind === 'Process')!.props).toEqual({
      command_line: 'x.exe /q',
      create_time: 50,
      first_seen: 50,
      image: 'C:\\Windows\\x.exe', // case variants converge to the smallest spelling
      last_seen: 200,
      pid: 5,
      provisional: 0,
      sources: ['a.jsonl', 'b.jsonl'],
    });
    expect(got.nodes.find((n) => n.kind === 'File')!.props).toEqual({
      first_seen: 40,
      hashes: ['MD5=1', 'SHA1=2'],
      last_seen: 100,
      path: 'C:\\Windows\\X.exe',
    });
    expect(got.edges.find((e) => e.kind === 'EXECUTED')!.props).toEqual({
      count: 3,
      first_seen: 50,
      last_seen: 300,
    });
    expect(got.edges.find((e) => e.kind === 'ACCESSED')!.props).toEqual({
      call_trace: 'a|trace',
      count: 4,
      first_seen: 100,
      granted_access: ['0x10', '0x1410'],
      last_seen: 130,
    });
    // an edge endpoint without a row of its own exists as a node
    expect(got.nodes.find((n) => n.key === `Process:TAG-0000-0000-0000-000000000002`)!.props).toEqual({
      first_seen: 100,
      last_seen: 130,
    });

    expect(await readTagged(gateway, t2, 'TAG')).toEqual(got);
    // and the database agrees with the in-memory reference of the rules
    const mem = new MemoryGraph();
    mem.apply([{ id: 'a', subgraph: v1.a, aliases: [] }]);
    mem.apply([{ id: 'b', subgraph: v1.b, aliases: [] }]);
    expect(tagged(mem.snapshot(), t1, 'TAG')).toEqual(got);
  });

  it('writes integers as integers', async () => {
    const t = newTag();
    const { a } = twoViews(t);
    await mergeSubgraphs(gateway, [{ id: `${t}-a`, subgraph: a, aliases: [] }]);
    const rows = await gateway.query<{ int: boolean }>(
      'test.types',
      'MATCH (n:Process {key: $key}) RETURN valueType(n.pid) STARTS WITH "INTEGER" AS int',
      { key: `Process:${t}-0000-0000-0000-000000000001` },
    );
    expect(rows[0]!.int).toBe(true);
  });

  it('applies a batch exactly once: a retry leaves counters unchanged', async () => {
    const t = newTag();
    const { a } = twoViews(t);
    const batch: MergeBatch = { id: `${t}-once`, subgraph: a, aliases: [], events: 7 };
    const first = await mergeSubgraphs(gateway, [batch]);
    expect(first).toMatchObject({ skippedBatches: 0, eventsIn: 7 });
    const before = await readTagged(gateway, t);
    const again = await mergeSubgraphs(gateway, [batch]);
    expect(again).toMatchObject({
      batches: 1,
      skippedBatches: 1,
      nodesWritten: 0,
      edgesWritten: 0,
      changedKeys: [],
    });
    // the same id twice in one call, and together with a new batch
    const mixed = await mergeSubgraphs(gateway, [
      batch,
      batch,
      { id: `${t}-new`, subgraph: { nodes: [], edges: [] }, aliases: [] },
    ]);
    expect(mixed.skippedBatches).toBe(2);
    expect(await readTagged(gateway, t)).toEqual(before);
    expect(before.edges.find((e) => e.kind === 'EXECUTED')!.props.count).toBe(1);
  });

  it('applies a batch exactly once under concurrent delivery', async () => {
    const t = newTag();
    const { a } = twoViews(t);
    const batch: MergeBatch = { id: `${t}-race`, subgraph: a, aliases: [] };
    const results = await Promise.allSettled([1, 2, 3, 4].map(() => mergeSubgraphs(gateway, [batch])));
    const reports = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    expect(reports.filter((r) => r.skippedBatches === 0)).toHaveLength(1);
    const got = await readTagged(gateway, t);
    expect(got.edges.find((e) => e.kind === 'EXECUTED')!.props.count).toBe(1);
    expect(got.edges.find((e) => e.kind === 'ACCESSED')!.props.count).toBe(1);
  });

  it('concurrent writers of the same node and edge lose no update', async () => {
    const t = newTag();
    const p = `Process:${t}-0000-0000-0000-000000000001`;
    const f = `File:T${t}:c:\\x`;
    const batch = (i: number): MergeBatch => ({
      id: `${t}-c${i}`,
      subgraph: {
        nodes: [node('Process', p, { first_seen: 100 + i, last_seen: 100 + i, sources: [`s${i}`] })],
        edges: [edge('CREATED', p, f, { count: 1, first_seen: 100 + i, last_seen: 100 + i })],
      },
      aliases: [],
    });
    // first create them, so that every writer below MERGEs onto existing entities
    await mergeSubgraphs(gateway, [batch(0)]);
    await Promise.all([1, 2, 3, 4, 5, 6, 7, 8].map((i) => mergeSubgraphs(gateway, [batch(i)])));
    const got = await readTagged(gateway, t);
    expect(got.edges[0]!.props).toEqual({ count: 9, first_seen: 100, last_seen: 108 });
    expect(got.nodes.find((n) => n.key === p)!.props).toEqual({
      first_seen: 100,
      last_seen: 108,
      sources: ['s0', 's1', 's2', 's3', 's4', 's5', 's6', 's7', 's8'],
    });
  });

  it('folds an aliased node into its canonical node: properties, relationships, old node gone', async () => {
    const t = newTag();
    const asset = `Asset:T${t}`;
    const provisional = `Process:T${t}:7256:~1000`;
    const created = `Process:T${t}:7256:900`;
    const parent = `Process:T${t}:2128:~500`;
    const domain = `DomainName:${t.toLowerCase()}.example`;
    const first: Subgraph = {
      nodes: [
        node('Process', provisional, { pid: 7256, provisional: 1, first_seen: 1000, last_seen: 1500 }),
        node('Process', created, {
          pid: 7256,
          image: 'C:\\x.exe',
          provisional: 0,
          create_time: 900,
          first_seen: 900,
          last_seen: 900,
        }),
      ],
      edges: [
        edge('RESOLVED', provisional, domain, { count: 2, first_seen: 1000, last_seen: 1500 }),
        edge('RESOLVED', created, domain, { count: 1, first_seen: 950, last_seen: 950 }),
        edge('RUNS_ON', provisional, asset, { count: 1, first_seen: 1000, last_seen: 1000 }),
        edge('PARENT_OF', parent, provisional, { count: 1, first_seen: 1000, last_seen: 1000 }),
        edge('ACCESSED', provisional, provisional, {
          count: 1,
          first_seen: 1000,
          last_seen: 1000,
          granted_access: ['0x40'],
        }),
      ],
    };
    await mergeSubgraphs(gateway, [{ id: `${t}-1`, subgraph: first, aliases: [] }]);
    const fold = await mergeSubgraphs(gateway, [
      { id: `${t}-2`, subgraph: { nodes: [], edges: [] }, aliases: [{ from: provisional, to: created }] },
    ]);
    expect(fold.aliasesApplied).toBe(1);
    expect(fold.changedKeys).toContain(created);

    const got = await readTagged(gateway, t);
    expect(got.nodes.map((n) => n.key)).not.toContain(provisional);
    expect(got.nodes.find((n) => n.key === created)!.props).toMatchObject({
      image: 'C:\\x.exe',
      provisional: 0,
      create_time: 900,
      first_seen: 900,
      last_seen: 1500,
    });
    const byKind = (k: string) => got.edges.filter((e) => e.kind === k);
    expect(byKind('RESOLVED')).toEqual([
      expect.objectContaining({
        from: created,
        to: domain,
        props: { count: 3, first_seen: 950, last_seen: 1500 },
      }),
    ]);
    expect(byKind('PARENT_OF')).toEqual([expect.objectContaining({ from: parent, to: created })]);
    expect(byKind('RUNS_ON')).toEqual([expect.objectContaining({ from: created, to: asset })]);
    expect(byKind('ACCESSED')).toEqual([expect.objectContaining({ from: created, to: created })]);

    // idempotent: the same alias again (a replay) changes nothing
    await mergeSubgraphs(gateway, [
      { id: `${t}-3`, subgraph: { nodes: [], edges: [] }, aliases: [{ from: provisional, to: created }] },
    ]);
    expect(await readTagged(gateway, t)).toEqual(got);

    // a late payload still carrying the old key is rewritten to the canonical one
    await mergeSubgraphs(gateway, [
      {
        id: `${t}-4`,
        subgraph: {
          nodes: [node('Process', provisional, { last_seen: 2000 })],
          edges: [edge('RESOLVED', provisional, domain, { count: 1, first_seen: 2000, last_seen: 2000 })],
        },
        aliases: [],
      },
    ]);
    const late = await readTagged(gateway, t);
    expect(late.nodes.map((n) => n.key)).not.toContain(provisional);
    expect(late.edges.find((e) => e.kind === 'RESOLVED')!.props).toEqual({
      count: 4,
      first_seen: 950,
      last_seen: 2000,
    });

    // an alias onto a retired key goes to where that key went
    const another = `Process:T${t}:7256:~1200`;
    await mergeSubgraphs(gateway, [
      {
        id: `${t}-5`,
        subgraph: { nodes: [node('Process', another, { first_seen: 1200, last_seen: 1200 })], edges: [] },
        aliases: [],
      },
    ]);
    await mergeSubgraphs(gateway, [
      { id: `${t}-6`, subgraph: { nodes: [], edges: [] }, aliases: [{ from: another, to: provisional }] },
    ]);
    const chained = await readTagged(gateway, t);
    expect(
      chained.nodes
        .filter((n) => n.kind === 'Process')
        .map((n) => n.key)
        .sort(),
    ).toEqual([created, parent].sort());
  });

  it('a batch with rows and the alias that retires them writes only the canonical node', async () => {
    const t = newTag();
    const old = `Process:T${t}:1:~10`;
    const canon = `Process:T${t}:1:5`;
    await mergeSubgraphs(gateway, [
      {
        id: `${t}-a`,
        subgraph: { nodes: [node('Process', old, { pid: 1, first_seen: 10, last_seen: 10 })], edges: [] },
        aliases: [],
      },
      {
        id: `${t}-b`,
        subgraph: { nodes: [node('Process', canon, { pid: 1, first_seen: 5, last_seen: 5 })], edges: [] },
        aliases: [{ from: old, to: canon }],
      },
    ]);
    const got = await readTagged(gateway, t);
    expect(got.nodes.map((n) => n.key)).toEqual([canon]);
    expect(got.nodes[0]!.props).toMatchObject({ first_seen: 5, last_seen: 10 });
  });

  it('two merge workers: a batch that looked up a session key before another folded it does not bring it back', async () => {
    const t = newTag();
    const asset = `Asset:T${t}`;
    const provisional = `Process:T${t}:7256:~1000`;
    const created = `Process:T${t}:7256:900`;
    await mergeSubgraphs(gateway, [
      {
        id: `${t}-1`,
        subgraph: {
          nodes: [
            node('Asset', asset, { hostname: `T${t}`, first_seen: 900, last_seen: 900 }),
            node('Process', provisional, { pid: 7256, provisional: 1, first_seen: 1000, last_seen: 1500 }),
            node('Process', created, {
              pid: 7256,
              provisional: 0,
              create_time: 900,
              first_seen: 900,
              last_seen: 900,
            }),
          ],
          edges: [],
        },
        aliases: [],
      },
    ]);
    // Another transaction holds the asset's lock, so that `late` (a batch still carrying the provisional key)
    // stops at its first node statement (assets are written first): after it looked the key's alias up.
    const holder = await holdLock(gateway, 'MATCH (a:Asset {key: $asset}) SET a.held = true', { asset });
    const late = mergeSubgraphs(gateway, [
      {
        id: `${t}-late`,
        subgraph: {
          nodes: [
            node('Asset', asset, { last_seen: 3000 }),
            node('Process', provisional, { pid: 7256, first_seen: 3000, last_seen: 3000 }),
          ],
          edges: [],
        },
        aliases: [],
      },
    ]);
    expect(await waitUntilBlocked(gateway, 'MERGE (n:`Asset`')).toBe(true);
    // Meanwhile the creation's alias arrives in another worker's batch. Without the alias lock it folds the
    // provisional node and commits, and `late` then writes the provisional key back as a node. With it, it
    // waits for `late`'s lock. Release `late` only once the fold has done one or the other (a fixed pause
    // raced the fold's first planning: released early, `late` took the provisional node's lock first and the
    // fold then folded its update in, lock or not).
    const fold = mergeSubgraphs(gateway, [
      { id: `${t}-fold`, subgraph: { nodes: [], edges: [] }, aliases: [{ from: provisional, to: created }] },
    ]);
    const foldState = await Promise.race([
      fold.then(() => 'committed'),
      waitUntilBlocked(gateway, 'MergeLock').then((b) => (b ? 'waiting' : 'neither')),
    ]);
    expect(foldState).not.toBe('neither');
    holder.release();
    await holder.done;
    await late;
    expect((await fold).aliasesApplied).toBe(1);

    const got = await readTagged(gateway, t);
    expect(got.nodes.map((n) => n.key).sort()).toEqual([asset, created].sort());
    expect(got.nodes.find((n) => n.key === created)!.props).toMatchObject({
      create_time: 900,
      last_seen: 3000,
    });
  });

  it('drops rows that do not fit the model', async () => {
    const t = newTag();
    const r = await mergeSubgraphs(gateway, [
      {
        id: `${t}-bad`,
        subgraph: {
          nodes: [
            node('File', `Process:${t}-0000-0000-0000-000000000009`, {}),
            node('Asset', `Asset:T${t}`, { hostname: 'x', bogus: 'y' }),
          ],
          edges: [edge('EXECUTED', `File:T${t}:a`, `Process:${t}-0000-0000-0000-000000000009`, { count: 1 })],
        },
        aliases: [],
      },
    ]);
    expect(r.rowsDropped).toBe(2);
    const got = await readTagged(gateway, t);
    expect(got.nodes).toEqual([{ kind: 'Asset', key: `Asset:T${t}`, props: { hostname: 'x' } }]);
  });
});
