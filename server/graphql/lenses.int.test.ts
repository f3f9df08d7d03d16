/**
 * The engagement and graph API end to end (yoga.fetch in-process, real Neo4j and Redis): a graph built
 * by the pipeline's own modules from real telemetry (cmd_psexec_lsa_secrets_dump replayed under a tag of
 * this file's own), lenses made by the real engage stage; then the lens list and page, node detail,
 * neighbours, paths, search (with injection payloads), every mutation under every role, the live lens
 * feed, the Sigma and analyzer reports, and error masking. Other files share the database, so every
 * assertion looks only at this file's tag.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { RecordShape } from 'neo4j-driver';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { GraphGateway, type Params } from '../../lib/neo4j';
import type { Logger } from '../../lib/log';
import {
  buildGraph,
  hit,
  hitsJob,
  hostOf,
  loadEvents,
  newReplayTag,
  processKey,
  runEngage,
} from '../../pipeline/engagement/test-support';
import { ensureGraphSchema } from '../../pipeline/merge';
import { createEngageStage } from '../../pipeline/stages/engage/handler';
import { createServices } from '../services';
import { errorCode, openHarness, unique, type GqlBody, type Harness } from './test-harness';
import { createYoga } from './yoga';

const FILE = 'cmd_psexec_lsa_secrets_dump.jsonl';
const PSEXEC = '39E4A257-40A6-5F8D-A005-000000000700';
const PSEXESVC = '39E4A257-40A6-5F8D-A105-000000000700';
const REG = '39E4A257-40A6-5F8D-A205-000000000700';
const CONHOST = '39E4A257-40A6-5F8D-A305-000000000700';
const SHARED = path.resolve(import.meta.dirname, '../../../shared/data');

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

const tag = newReplayTag();
const k = (g: string) => processKey(g, tag);
const host = hostOf('WORKSTATION5', tag);

let h: Harness;
let tmp: string;
let analyst: { username: string; cookie: string };
let analyst2: { username: string; cookie: string };
let viewer: { username: string; cookie: string };
let admin: { username: string; cookie: string };
let eng: string;
let readToken: string;
let ingestToken: string;

const data = <T>(body: GqlBody): T => {
  expect(body.errors).toBeUndefined();
  return body.data as T;
};

const LENS_FIELDS = `id type title status score hosts techniques tags assignee riskCount riskyCount nodeCount
  detectionCount hitCount resolution resolutionSummary duplicateOf mergedInto reopenedByPipeline reopenReason
  createdAt updatedAt statusChangedAt closedAt closedBy firstSeen lastSeen`;
const NODE_FIELDS = 'key kind host label riskScore props';

const LENSES = `query($f: LensFilter, $s: LensSort, $first: Int, $after: String) {
  lenses(filter: $f, sort: $s, first: $first, after: $after) { total nextCursor lenses { ${LENS_FIELDS} } }
}`;
const LENS = `query($id: ID!) { lens(id: $id) {
  lens { ${LENS_FIELDS} } redirectedFrom
  nodes { node { ${NODE_FIELDS} } role addedBy addedAt }
  edges { kind from to count firstSeen lastSeen }
  risks { key node detection source title summary score techniques count firstSeen lastSeen }
  timeline { time kind node target text }
  notes { id target targetKind text author createdAt updatedAt version editedBy movedFrom }
  audit { id target targetKind at actor action before after }
  truncated { nodes edges timeline audit }
} }`;
const NODE = `query($key: ID!) { node(key: $key) {
  node { ${NODE_FIELDS} }
  risks { key detection score firstSeen }
  notes { id text author }
  neighbourGroups { edgeKind direction total }
  lenses { id type }
} }`;
const NEIGHBOURS = `query($key: ID!, $kind: String, $dir: Direction, $limit: Int, $after: String) {
  neighbours(key: $key, edgeKind: $kind, direction: $dir, limit: $limit, after: $after) {
    total nextCursor nodes { ${NODE_FIELDS} } edges { kind from to count firstSeen lastSeen }
  }
}`;
const PATH = `query($from: ID!, $to: ID!, $hops: Int) {
  path(from: $from, to: $to, maxHops: $hops) { nodes { key label } edges { kind from to } }
}`;
const SEARCH = `query($text: String!, $kinds: [String!], $limit: Int) {
  search(text: $text, kinds: $kinds, limit: $limit) { ${NODE_FIELDS} }
}`;

interface LensOut {
  id: string;
  type: string;
  score: number;
  hosts: string[];
  tags: string[];
  assignee: string | null;
  status: string;
  createdAt: string;
  updatedAt: string;
}
interface NodeOut {
  key: string;
  kind: string;
  host: string | null;
  label: string;
  riskScore: number;
  props: Record<string, unknown>;
}
interface EdgeOut {
  kind: string;
  from: string;
  to: string;
  count: number | null;
  firstSeen: string | null;
}
interface NeighbourPageOut {
  total: number;
  nextCursor: string | null;
  nodes: NodeOut[];
  edges: EdgeOut[];
}

async function tokenFor(scope: 'read' | 'ingest'): Promise<string> {
  const { body } = await h.gql(
    'mutation($n: String!, $s: TokenScope!) { createApiToken(name: $n, scope: $s) { secret } }',
    { n: unique(scope), s: scope },
    { cookie: admin.cookie },
  );
  return data<{ createApiToken: { secret: string } }>(body).createApiToken.secret;
}

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-lenses-'));
  const rules = path.join(tmp, 'rules');
  fs.mkdirSync(path.join(rules, 'nested'), { recursive: true });
  fs.copyFileSync(
    path.join(SHARED, 'sigma/rules/windows/process_creation/proc_creation_win_7zip_password_compression.yml'),
    path.join(rules, 'good.yml'),
  );
  fs.writeFileSync(path.join(rules, 'nested/broken.yml'), 'title: broken\ndetection: [unclosed\n');
  const analyzers = path.join(tmp, 'analyzers');
  fs.mkdirSync(analyzers);
  fs.writeFileSync(path.join(analyzers, 'empty.ts'), 'export const nothing = 1;\n');

  h = await openHarness({ sigmaDirs: [rules], analyzersDir: analyzers });
  await ensureGraphSchema(h.gateway);
  [analyst, analyst2, viewer, admin] = await Promise.all([
    h.signedIn('analyst'),
    h.signedIn('analyst'),
    h.signedIn('viewer'),
    h.signedIn('admin'),
  ]);
  [readToken, ingestToken] = await Promise.all([tokenFor('read'), tokenFor('ingest')]);

  await buildGraph(h.gateway, tag, loadEvents(FILE), FILE);
  await runEngage(
    createEngageStage(h.gateway),
    hitsJob([
      hit({ detection: 'analyzer:psexec-tool', title: 'PsExec started', riskyNodes: [k(PSEXEC)], score: 45, techniques: ['T1569.002'] }),
      hit({ detection: 'analyzer:remote-execution', title: 'Service binary started', riskyNodes: [k(PSEXESVC)], score: 55, techniques: ['T1021.002'] }),
      hit({ detection: 'sigma:reg-save-lsa', source: 'sigma', title: 'LSA secrets saved', riskyNodes: [k(REG)], score: 70, techniques: ['T1003.004'] }),
    ]),
  );
  const [row] = await h.gateway.query<{ key: string }>(
    'test.eng',
    "MATCH (l:Lens {type: 'engagement'})-[:SCOPE {role: 'risky'}]->(:Process {key: $node}) RETURN l.key AS key",
    { node: k(REG) },
  );
  eng = row!.key;
});

afterAll(async () => {
  await h?.close();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('lenses', () => {
  it('lists, filters, sorts and pages', async () => {
    const all = data<{ lenses: { total: number; lenses: LensOut[]; nextCursor: string | null } }>(
      (await h.gql(LENSES, { f: { text: tag }, first: 100 }, { cookie: viewer.cookie })).body,
    ).lenses;
    expect(all.total).toBeGreaterThanOrEqual(2);
    expect(all.lenses.map((l) => l.id)).toContain(eng);
    expect(all.lenses.map((l) => l.id)).toContain(`asset:${host}`);
    const scores = all.lenses.map((l) => l.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    expect(all.lenses[0]!.createdAt).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);

    // One by one, the same lenses in the same order.
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 20; i++) {
      const page: { lenses: LensOut[]; nextCursor: string | null; total: number } = data<{
        lenses: { lenses: LensOut[]; nextCursor: string | null; total: number };
      }>((await h.gql(LENSES, { f: { text: tag }, first: 1, after }, { cookie: viewer.cookie })).body).lenses;
      expect(page.total).toBe(all.total);
      seen.push(...page.lenses.map((l) => l.id));
      after = page.nextCursor;
      if (!after) break;
    }
    expect(seen).toEqual(all.lenses.map((l) => l.id));

    const byType = data<{ lenses: { lenses: LensOut[] } }>(
      (await h.gql(LENSES, { f: { text: tag, type: 'engagement' } }, { cookie: viewer.cookie })).body,
    ).lenses.lenses;
    expect(byType.map((l) => l.id)).toEqual([eng]);
    const byHost = data<{ lenses: { lenses: LensOut[] } }>(
      (await h.gql(LENSES, { f: { host: host.toLowerCase(), minScore: 1 }, s: 'lastActivity' }, { cookie: viewer.cookie })).body,
    ).lenses.lenses;
    expect(byHost.map((l) => l.id)).toContain(eng);
    const unassigned = data<{ lenses: { total: number } }>(
      (await h.gql(LENSES, { f: { text: tag, assignee: '' } }, { cookie: viewer.cookie })).body,
    ).lenses;
    expect(unassigned.total).toBe(all.total);

    // A cursor of another sort order, a bad technique id and an oversized page are refused.
    const other = await h.gql(LENSES, { f: { text: tag }, first: 1, s: 'lastActivity', after: all.nextCursor ?? 'x' }, { cookie: viewer.cookie });
    expect(errorCode(other.body)).toBe('BAD_INPUT');
    expect(errorCode((await h.gql(LENSES, { f: { technique: 'nope' } }, { cookie: viewer.cookie })).body)).toBe('BAD_INPUT');
    expect(errorCode((await h.gql(LENSES, { first: 1000 }, { cookie: viewer.cookie })).body)).toBe('BAD_INPUT');
  });

  it('shows one lens with its scope, edges, risks, timeline and audit; null when unknown', async () => {
    const d = data<{
      lens: {
        lens: LensOut;
        redirectedFrom: string | null;
        nodes: Array<{ node: NodeOut; role: string; addedBy: string | null; addedAt: string | null }>;
        edges: EdgeOut[];
        risks: Array<{ node: string; score: number; firstSeen: string | null }>;
        timeline: Array<{ time: string; kind: string }>;
        audit: Array<{ action: string; at: string }>;
        truncated: { nodes: boolean; edges: boolean; timeline: boolean; audit: boolean };
      };
    }>((await h.gql(LENS, { id: eng }, { cookie: viewer.cookie })).body).lens;
    expect(d.lens.id).toBe(eng);
    expect(d.redirectedFrom).toBeNull();
    const reg = d.nodes.find((n) => n.node.key === k(REG));
    expect(reg).toMatchObject({ role: 'risky', node: { kind: 'Process', riskScore: 70 } });
    expect(reg!.node.label).toMatch(/^reg\.exe/i);
    expect(reg!.node.props).toHaveProperty('image');
    expect(d.risks.map((r) => r.node)).toContain(k(REG));
    expect(d.risks[0]!.firstSeen).toMatch(/Z$/);
    expect(d.edges.length).toBeGreaterThan(0);
    expect(d.timeline.length).toBeGreaterThan(0);
    expect(d.timeline[0]!.time).toMatch(/Z$/);
    expect(Object.keys(d.truncated).sort()).toEqual(['audit', 'edges', 'nodes', 'timeline']);
    expect(d.truncated).toMatchObject({ nodes: false, edges: false });

    const none = await h.gql(LENS, { id: 'eng:doesnotexist' }, { cookie: viewer.cookie });
    expect(none.body).toEqual({ data: { lens: null } });
    expect(errorCode((await h.gql(LENS, { id: 'MATCH (n) RETURN n' }, { cookie: viewer.cookie })).body)).toBe('BAD_INPUT');

    const report = await h.gql('query($id: ID!) { lensReport(id: $id) }', { id: eng }, { cookie: viewer.cookie });
    expect(data<{ lensReport: string }>(report.body).lensReport).toContain('LSA secrets saved');
  });
});

describe('graph', () => {
  it('shows a node with risks, neighbour counts and lenses; null when unknown', async () => {
    const n = data<{
      node: {
        node: NodeOut;
        risks: Array<{ detection: string; score: number }>;
        neighbourGroups: Array<{ edgeKind: string; direction: string; total: number }>;
        lenses: Array<{ id: string }>;
      };
    }>((await h.gql(NODE, { key: k(PSEXEC) }, { cookie: viewer.cookie })).body).node;
    expect(n.node).toMatchObject({ key: k(PSEXEC), kind: 'Process', riskScore: 45 });
    expect(n.node.label).toMatch(/psexec/i);
    expect(n.risks).toEqual([expect.objectContaining({ detection: 'analyzer:psexec-tool', score: 45 })]);
    expect(n.lenses.map((l) => l.id)).toContain(eng);
    expect(n.neighbourGroups).toContainEqual({ edgeKind: 'RUNS_ON', direction: 'out', total: 1 });
    expect(n.neighbourGroups.every((g) => g.total > 0)).toBe(true);

    // Every group's count is what neighbours answers for it.
    for (const g of n.neighbourGroups) {
      const p = data<{ neighbours: NeighbourPageOut }>(
        (await h.gql(NEIGHBOURS, { key: k(PSEXEC), kind: g.edgeKind, dir: g.direction, limit: 200 }, { cookie: viewer.cookie })).body,
      ).neighbours;
      expect(p.total).toBe(g.total);
      expect(p.nodes).toHaveLength(g.total);
      for (const e of p.edges) {
        expect(e.kind).toBe(g.edgeKind);
        expect(g.direction === 'out' ? e.from : e.to).toBe(k(PSEXEC));
      }
    }

    expect((await h.gql(NODE, { key: 'Process:nope' }, { cookie: viewer.cookie })).body).toEqual({ data: { node: null } });
    expect((await h.gql(NODE, { key: 'Lens:x' }, { cookie: viewer.cookie })).body).toEqual({ data: { node: null } });
  });

  it('batches the per-node lookups of one request (one service call for many nodes)', async () => {
    const spies = (['risks', 'notes', 'neighbourGroups', 'lenses'] as const).map((m) => vi.spyOn(h.services.graph, m));
    try {
      const q = `query($a: ID!, $b: ID!, $c: ID!) {
        a: node(key: $a) { risks { key } notes { id } neighbourGroups { total } lenses { id } }
        b: node(key: $b) { risks { key } notes { id } neighbourGroups { total } lenses { id } }
        c: node(key: $c) { risks { key } notes { id } neighbourGroups { total } lenses { id } }
      }`;
      const d = data<Record<string, { risks: unknown[] }>>((await h.gql(q, { a: k(PSEXEC), b: k(PSEXESVC), c: k(REG) }, { cookie: viewer.cookie })).body);
      expect(d.c!.risks).toHaveLength(1);
      for (const spy of spies) {
        expect(spy).toHaveBeenCalledTimes(1);
        expect(spy.mock.calls[0]![1]).toHaveLength(3);
      }
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });

  it('pages neighbours in a stable key order and refuses unknown edge kinds and foreign cursors', async () => {
    const asset = `Asset:${host}`;
    const first = data<{ neighbours: NeighbourPageOut }>(
      (await h.gql(NEIGHBOURS, { key: asset, limit: 200 }, { cookie: viewer.cookie })).body,
    ).neighbours;
    expect(first.total).toBeGreaterThan(3);
    expect(first.nodes).toHaveLength(first.total);
    const keys = first.nodes.map((x) => x.key);
    expect(keys).toEqual([...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)));
    expect(first.edges.every((e) => e.from === asset || e.to === asset)).toBe(true);
    expect(first.edges.filter((e) => e.kind === 'RUNS_ON').every((e) => e.to === asset && e.firstSeen)).toBe(true);

    const paged: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 100; i++) {
      const p: NeighbourPageOut = data<{ neighbours: NeighbourPageOut }>(
        (await h.gql(NEIGHBOURS, { key: asset, limit: 2, after }, { cookie: viewer.cookie })).body,
      ).neighbours;
      expect(p.nodes.length).toBeLessThanOrEqual(2);
      expect(p.total).toBe(first.total);
      paged.push(...p.nodes.map((x) => x.key));
      after = p.nextCursor;
      if (!after) break;
    }
    expect(paged).toEqual(keys);

    const cursor = data<{ neighbours: NeighbourPageOut }>(
      (await h.gql(NEIGHBOURS, { key: asset, limit: 1 }, { cookie: viewer.cookie })).body,
    ).neighbours.nextCursor;
    const foreign = await h.gql(NEIGHBOURS, { key: asset, kind: 'RUNS_ON', limit: 1, after: cursor }, { cookie: viewer.cookie });
    expect(errorCode(foreign.body)).toBe('BAD_INPUT');
    const bad = await h.gql(NEIGHBOURS, { key: asset, kind: 'RUNS_ON]->() DETACH DELETE n //' }, { cookie: viewer.cookie });
    expect(errorCode(bad.body)).toBe('BAD_INPUT');
    expect(bad.body.errors![0]!.message).toMatch(/unknown edge kind/);
    expect(bad.body.errors![0]!.message).not.toMatch(/DETACH|\]->|\/\//);
    const capped = data<{ neighbours: NeighbourPageOut }>(
      (await h.gql(NEIGHBOURS, { key: asset, limit: 100_000 }, { cookie: viewer.cookie })).body,
    ).neighbours;
    expect(capped.nodes.length).toBeLessThanOrEqual(200);
    expect(errorCode((await h.gql(NEIGHBOURS, { key: asset, limit: 0 }, { cookie: viewer.cookie })).body)).toBe('BAD_INPUT');
  });

  it('finds a shortest path within maxHops, and none when it is too short', async () => {
    const p = data<{ path: { nodes: Array<{ key: string }>; edges: EdgeOut[] } | null }>(
      (await h.gql(PATH, { from: k(PSEXEC), to: k(CONHOST), hops: 8 }, { cookie: viewer.cookie })).body,
    ).path;
    expect(p).not.toBeNull();
    expect(p!.nodes[0]!.key).toBe(k(PSEXEC));
    expect(p!.nodes[p!.nodes.length - 1]!.key).toBe(k(CONHOST));
    expect(p!.edges).toHaveLength(p!.nodes.length - 1);
    expect(p!.edges.length).toBeLessThanOrEqual(8);
    const hops = p!.edges.length;
    if (hops > 1) {
      const none = await h.gql(PATH, { from: k(PSEXEC), to: k(CONHOST), hops: hops - 1 }, { cookie: viewer.cookie });
      expect(none.body).toEqual({ data: { path: null } });
    }
    const self = data<{ path: { nodes: Array<{ key: string }>; edges: EdgeOut[] } }>(
      (await h.gql(PATH, { from: k(REG), to: k(REG) }, { cookie: viewer.cookie })).body,
    ).path;
    expect(self).toEqual({ nodes: [{ key: k(REG), label: expect.any(String) }], edges: [] });
    expect(errorCode((await h.gql(PATH, { from: k(REG), to: k(PSEXEC), hops: 50 }, { cookie: viewer.cookie })).body)).toBeUndefined();
    expect(errorCode((await h.gql(PATH, { from: 'nokind', to: k(PSEXEC) }, { cookie: viewer.cookie })).body)).toBe('BAD_INPUT');
  });

  it('searches the full-text index literally, whatever the text', async () => {
    const assets = data<{ search: NodeOut[] }>(
      (await h.gql(SEARCH, { text: tag, kinds: ['Asset'] }, { cookie: viewer.cookie })).body,
    ).search;
    expect(assets.map((a) => a.key)).toContain(`Asset:${host}`);
    expect(assets.every((a) => a.kind === 'Asset')).toBe(true);

    const procs = data<{ search: NodeOut[] }>(
      (await h.gql(SEARCH, { text: 'PsExec', kinds: ['Process'], limit: 100 }, { cookie: viewer.cookie })).body,
    ).search;
    expect(procs.length).toBeGreaterThan(0);
    for (const p of procs) expect(`${String(p.props.image)} ${String(p.props.command_line)}`.toLowerCase()).toContain('psexec');
    const prefix = data<{ search: NodeOut[] }>((await h.gql(SEARCH, { text: 'psex', kinds: ['Process'], limit: 5 }, { cookie: viewer.cookie })).body).search;
    expect(prefix.length).toBeGreaterThan(0);

    const payloads = [
      '*:*',
      '*',
      '?',
      'a OR b OR c',
      '") OR 1=1 //',
      "'}) MATCH (n) DETACH DELETE n //",
      'CALL db.index.fulltext.queryNodes("lg_search", "*:*")',
      '<script>alert(document.cookie)</script>',
      '<img src=x onerror=alert(1)>',
      '\\',
      '"',
      '/.*/',
      'image:* AND NOT x',
      'foo~ bar^99 [a TO z] {a TO z}',
      '%00 \u0000 \u202e',
      'x'.repeat(200),
    ];
    for (const text of payloads) {
      const r = await h.gql(SEARCH, { text, limit: 100 }, { cookie: viewer.cookie });
      expect(r.body.errors, text).toBeUndefined();
      const found = (r.body.data as { search: NodeOut[] }).search;
      // A literal search: a match-everything payload matches nothing special (never the whole graph).
      expect(found.length, text).toBeLessThan(100);
    }
    expect(data<{ search: NodeOut[] }>((await h.gql(SEARCH, { text: '*:*' }, { cookie: viewer.cookie })).body).search).toEqual([]);
    expect(errorCode((await h.gql(SEARCH, { text: 'x'.repeat(201) }, { cookie: viewer.cookie })).body)).toBe('BAD_INPUT');
    expect(errorCode((await h.gql(SEARCH, { text: 'x', kinds: ['Lens'] }, { cookie: viewer.cookie })).body)).toBe('BAD_INPUT');
    // The graph is still there.
    expect((await h.gql(NODE, { key: k(REG) }, { cookie: viewer.cookie })).body.data?.node).not.toBeNull();
  });
});

describe('mutations', () => {
  const M = {
    status: `mutation($id: ID!) { setLensStatus(id: $id, status: Investigating) { id status } }`,
    assign: `mutation($id: ID!, $a: String) { assignLens(id: $id, assignee: $a) { id assignee } }`,
    tags: `mutation($id: ID!) { setLensTags(id: $id, tags: ["lateral", " Lateral ", "creds"]) { id tags } }`,
    note: `mutation($id: ID!) { addNote(lens: $id, text: "**first** <script>x</script>") { id text author version } }`,
    nodeNote: `mutation($node: ID!) { addNote(node: $node, text: "node note") { id target targetKind } }`,
    add: `mutation($id: ID!, $node: ID!) { addToLens(lens: $id, node: $node) { id nodeCount } }`,
    remove: `mutation($id: ID!, $node: ID!) { removeFromLens(lens: $id, node: $node) { id nodeCount } }`,
  };

  it('refuses every change without a session (UNAUTHENTICATED), from viewers and read tokens (FORBIDDEN)', async () => {
    const vars = { id: eng, a: null, node: k(CONHOST) };
    const edit = `mutation { editNote(id: "00000000-0000-4000-8000-000000000000", text: "x") { id } }`;
    for (const q of [...Object.values(M), edit]) {
      expect(errorCode((await h.gql(q, vars)).body), q).toBe('UNAUTHENTICATED');
      expect(errorCode((await h.gql(q, vars, { cookie: viewer.cookie })).body), q).toBe('FORBIDDEN');
      expect(errorCode((await h.gql(q, vars, { bearer: readToken })).body), q).toBe('FORBIDDEN');
      expect(errorCode((await h.gql(q, vars, { bearer: ingestToken })).body), q).toBe('FORBIDDEN');
    }
  });

  it('lets analysts work a lens: status, assignment, tags, notes with history, scope', async () => {
    const me = { cookie: analyst.cookie };
    expect(data<{ setLensStatus: { status: string } }>((await h.gql(M.status, { id: eng }, me)).body).setLensStatus.status).toBe('Investigating');
    expect(data<{ assignLens: { assignee: string } }>((await h.gql(M.assign, { id: eng, a: analyst2.username }, me)).body).assignLens.assignee).toBe(analyst2.username);
    const mine = data<{ lenses: { lenses: LensOut[] } }>(
      (await h.gql(LENSES, { f: { text: tag, assignee: analyst2.username } }, me)).body,
    ).lenses.lenses;
    expect(mine.map((l) => l.id)).toEqual([eng]);
    const unassigned = data<{ lenses: { lenses: LensOut[] } }>((await h.gql(LENSES, { f: { text: tag, assignee: '' } }, me)).body).lenses.lenses;
    expect(unassigned.map((l) => l.id)).not.toContain(eng);
    expect(data<{ assignLens: { assignee: string | null } }>((await h.gql(M.assign, { id: eng, a: null }, me)).body).assignLens.assignee).toBeNull();
    expect(data<{ setLensTags: { tags: string[] } }>((await h.gql(M.tags, { id: eng }, me)).body).setLensTags.tags).toEqual(['lateral', 'creds']);
    const tagged = data<{ lenses: { lenses: LensOut[] } }>((await h.gql(LENSES, { f: { text: tag, tag: 'LATERAL' } }, me)).body).lenses.lenses;
    expect(tagged.map((l) => l.id)).toEqual([eng]);

    const note = data<{ addNote: { id: string; text: string; author: string; version: number } }>((await h.gql(M.note, { id: eng }, me)).body).addNote;
    expect(note).toMatchObject({ text: '**first** <script>x</script>', author: analyst.username, version: 1 });
    const EDIT = 'mutation($id: ID!, $t: String!) { editNote(id: $id, text: $t) { id text version editedBy } }';
    expect(errorCode((await h.gql(EDIT, { id: note.id, t: 'not mine' }, { cookie: analyst2.cookie })).body)).toBe('FORBIDDEN');
    const edited = data<{ editNote: { text: string; version: number } }>((await h.gql(EDIT, { id: note.id, t: 'second' }, me)).body).editNote;
    expect(edited).toMatchObject({ text: 'second', version: 2 });
    const history = data<{ noteHistory: Array<{ version: number; text: string; at: string }> }>(
      (await h.gql('query($id: ID!) { noteHistory(id: $id) { version text author at } }', { id: note.id }, { cookie: viewer.cookie })).body,
    ).noteHistory;
    expect(history.map((v) => [v.version, v.text])).toEqual([[1, '**first** <script>x</script>'], [2, 'second']]);

    const nodeNote = data<{ addNote: { target: string; targetKind: string } }>((await h.gql(M.nodeNote, { node: k(CONHOST) }, me)).body).addNote;
    expect(nodeNote).toEqual(expect.objectContaining({ target: k(CONHOST), targetKind: 'node' }));
    const notes = data<{ node: { notes: Array<{ text: string }> } }>((await h.gql(NODE, { key: k(CONHOST) }, me)).body).node.notes;
    expect(notes.map((n) => n.text)).toContain('node note');
    const both = await h.gql('mutation($id: ID!, $n: ID!) { addNote(lens: $id, node: $n, text: "x") { id } }', { id: eng, n: k(CONHOST) }, me);
    expect(errorCode(both.body)).toBe('BAD_INPUT');

    const before = data<{ addToLens: { nodeCount: number } }>((await h.gql(M.add, { id: eng, node: k(CONHOST) }, me)).body).addToLens;
    const inLens = data<{ node: { lenses: Array<{ id: string }> } }>((await h.gql(NODE, { key: k(CONHOST) }, me)).body).node.lenses;
    expect(inLens.map((l) => l.id)).toContain(eng);
    const after = data<{ removeFromLens: { nodeCount: number } }>((await h.gql(M.remove, { id: eng, node: k(CONHOST) }, { cookie: admin.cookie })).body).removeFromLens;
    expect(after.nodeCount).toBe(before.nodeCount - 1);
    expect(errorCode((await h.gql(M.remove, { id: eng, node: k(CONHOST) }, me)).body)).toBe('NOT_FOUND');

    const audit = data<{ lens: { audit: Array<{ actor: string; action: string }> } }>((await h.gql(LENS, { id: eng }, me)).body).lens.audit;
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['status.start', 'assign', 'tags.set', 'note.add', 'note.edit', 'scope.add', 'scope.remove']));
  });
});

describe('who may read', () => {
  const READS: Array<[string, Record<string, unknown>]> = [
    [LENSES, {}],
    [LENS, { id: 'eng:x' }],
    ['query($id: ID!) { lensReport(id: $id) }', { id: 'eng:x' }],
    [NODE, { key: 'Process:x' }],
    [NEIGHBOURS, { key: 'Process:x' }],
    [PATH, { from: 'Process:x', to: 'Process:y' }],
    [SEARCH, { text: 'x' }],
    ['query($id: ID!) { noteHistory(id: $id) { version } }', { id: '00000000-0000-4000-8000-000000000000' }],
    ['{ sigmaReport { loaded } }', {}],
    ['{ analyzerReport { loadedAt } }', {}],
  ];

  it('needs a session or a read token; an ingest token reads nothing', async () => {
    for (const [q, v] of READS) {
      expect(errorCode((await h.gql(q, v)).body), q).toBe('UNAUTHENTICATED');
      expect(errorCode((await h.gql(q, v, { bearer: ingestToken })).body), q).toBe('FORBIDDEN');
    }
    expect(data<{ lenses: { total: number } }>((await h.gql(LENSES, { f: { text: tag } }, { bearer: readToken })).body).lenses.total).toBeGreaterThan(0);
    expect(data<{ node: unknown }>((await h.gql(NODE, { key: k(REG) }, { bearer: readToken })).body).node).not.toBeNull();
  });

  it('keeps the depth and alias limits on the new fields', async () => {
    const aliases = Array.from({ length: 16 }, (_, i) => `s${i}: search(text: "x") { key }`).join(' ');
    const many = await h.gql(`{ ${aliases} }`, {}, { cookie: viewer.cookie });
    expect(errorCode(many.body)).toBe('BAD_INPUT');
    let deep = 'name';
    for (let i = 0; i < 12; i++) deep = `ofType { ${deep} }`;
    const tooDeep = await h.gql(`{ node(key: "Process:x") { node { key } } __type(name: "Node") { fields { type { ${deep} } } } }`, {}, { cookie: viewer.cookie });
    expect(tooDeep.body.errors?.some((e) => /depth/i.test(e.message))).toBe(true);
  });
});

describe('detection reports', () => {
  it('reports the Sigma rules and analyzers as loaded, with what was skipped and why', async () => {
    const sigma = data<{ sigmaReport: { dirs: string[]; loaded: number; correlations: number; skipped: Array<{ path: string; reason: string }>; loadedAt: string } }>(
      (await h.gql('{ sigmaReport { dirs loaded correlations skipped { path title reason } loadedAt } }', {}, { cookie: viewer.cookie })).body,
    ).sigmaReport;
    expect(sigma.loaded).toBe(1);
    expect(sigma.correlations).toBe(0);
    expect(sigma.skipped).toEqual([expect.objectContaining({ path: 'nested/broken.yml', reason: expect.stringMatching(/YAML/) })]);
    expect(sigma.loadedAt).toMatch(/Z$/);
    // Loaded once and kept.
    const again = data<{ sigmaReport: { loadedAt: string } }>((await h.gql('{ sigmaReport { loadedAt } }', {}, { bearer: readToken })).body).sigmaReport;
    expect(again.loadedAt).toBe(sigma.loadedAt);

    const an = data<{ analyzerReport: { loaded: Array<{ id: string; source: string; techniques: string[] }>; failed: Array<{ name: string; error: string }> } }>(
      (await h.gql('{ analyzerReport { loaded { id title techniques source } failed { name error } loadedAt } }', {}, { cookie: viewer.cookie })).body,
    ).analyzerReport;
    expect(an.loaded.length).toBeGreaterThan(10);
    expect(an.loaded.every((a) => a.source === 'builtin')).toBe(true);
    expect(an.loaded.map((a) => a.id)).toContain('remote-execution');
    expect(an.failed).toEqual([{ name: 'extra/empty.ts', error: expect.stringMatching(/exports no analyzer/) }]);
  });
});

describe('lensChanged', () => {
  const SUB = `subscription { lensChanged { kind lens { id status tags updatedAt } } }`;

  it('streams lens changes made through the API and by the engage stage', async () => {
    const tag2 = newReplayTag();
    const origin = `dumpert-${tag2}.jsonl`;
    await buildGraph(h.gateway, tag2, loadEvents('cmd_lsass_memory_dumpert_syscalls.jsonl'), origin);
    const [proc] = await h.gateway.query<{ key: string }>(
      'test.proc',
      'MATCH (p:Process) WHERE $origin IN p.sources AND p.image IS NOT NULL RETURN p.key AS key ORDER BY p.key LIMIT 1',
      { origin },
    );
    type Change = { kind: string; lens: { id: string; tags: string[] } };
    const changes = (events: GqlBody[]) => events.map((e) => (e.data as { lensChanged: Change } | null)?.lensChanged);
    const made = { key: '' };
    const done = (events: GqlBody[]) => {
      const c = changes(events);
      return (
        c.some((e) => e?.kind === 'updated' && e.lens.id === eng && e.lens.tags.includes('live')) &&
        c.some((e) => e?.kind === 'created' && e.lens.id === made.key)
      );
    };
    const stream = h.subscribe(SUB, {}, { cookie: viewer.cookie }, 90_000, done);
    // The feed learns the current state first; changes after that are streamed.
    await new Promise((r) => setTimeout(r, 1500));
    await h.gql('mutation($id: ID!) { setLensTags(id: $id, tags: ["live"]) { id } }', { id: eng }, { cookie: analyst.cookie });
    await runEngage(
      createEngageStage(h.gateway),
      hitsJob([hit({ detection: 'analyzer:live-test', title: 'Live test', riskyNodes: [proc!.key], score: 80 })]),
    );
    const [row] = await h.gateway.query<{ key: string }>(
      'test.made',
      "MATCH (l:Lens {type: 'engagement'})-[:SCOPE]->(:Process {key: $key}) RETURN l.key AS key",
      { key: proc!.key },
    );
    made.key = row!.key;
    const { events, status } = await stream;
    expect(status).toBe(200);
    expect(changes(events)).toContainEqual({ kind: 'updated', lens: expect.objectContaining({ id: eng, tags: ['live'] }) });
    expect(changes(events)).toContainEqual({ kind: 'created', lens: expect.objectContaining({ id: made.key }) });
  });

  it('needs a reader', async () => {
    const r = await h.subscribe(SUB, {}, {}, 3000);
    expect(errorCode(r.events[0]!)).toBe('UNAUTHENTICATED');
    const t = await h.subscribe(SUB, {}, { bearer: ingestToken }, 3000);
    expect(errorCode(t.events[0]!)).toBe('FORBIDDEN');
  });
});

describe('error masking', () => {
  it('answers INTERNAL without the query text when the database fails', async () => {
    class Failing extends GraphGateway {
      override query<T extends RecordShape = RecordShape>(op: string, cypher: string, params?: Params): Promise<T[]> {
        if (op.startsWith('graph.') || op.startsWith('engagement.list'))
          return Promise.reject(new Error(`Neo.ClientError.Statement.SyntaxError: Invalid input near ${cypher}`));
        return super.query<T>(op, cypher, params);
      }
    }
    const gateway = new Failing({ uri: process.env.NEO4J_URI!, user: process.env.NEO4J_USER ?? 'neo4j', password: process.env.NEO4J_PASSWORD! });
    const services = createServices({
      gateway,
      redis: h.redis,
      prefix: h.prefix,
      sessionTtlHours: 1,
      secureCookies: false,
      log: silent,
    });
    try {
      const yoga = createYoga({ services });
      for (const [q, v] of [
        [NODE, { key: k(REG) }],
        [SEARCH, { text: 'x' }],
        [LENSES, {}],
      ] as const) {
        const res = await yoga.fetch('http://localhost/api/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-lensgraph-csrf': '1', cookie: viewer.cookie },
          body: JSON.stringify({ query: q, variables: v }),
        });
        const text = await res.text();
        expect(JSON.parse(text)).toMatchObject({ errors: [{ message: 'Internal error.', extensions: { code: 'INTERNAL' } }] });
        expect(text).not.toMatch(/MATCH|Neo\.|Cypher|SyntaxError/);
      }
    } finally {
      await services.close();
      await gateway.close();
    }
  });
});
