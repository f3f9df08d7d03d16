/**
 * The engagement service against the real Neo4j, on lenses the engage stage built from real telemetry
 * (cmd_psexec_lsa_secrets_dump replayed under a tag of this file's own): lifecycle and its audit trail,
 * assignment, tags, scope edits, notes with their versions, the lens list, and the findings export.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../domain/errors';
import type { GraphGateway } from '../../lib/neo4j';
import { buildGraph, hit, hitsJob, hostOf, loadEvents, newReplayTag, processKey, runEngage } from '../../pipeline/engagement/test-support';
import { ensureGraphSchema } from '../../pipeline/merge';
import { gatewayFromEnv } from '../../pipeline/merge/test-support';
import { createEngageStage } from '../../pipeline/stages/engage/handler';
import { AccountRepository } from '../auth/account-repository';
import { DETAIL_LIMITS, EngagementService } from './service';
import type { Actor } from './types';

const FILE = 'cmd_psexec_lsa_secrets_dump.jsonl';
const PSEXEC = '39E4A257-40A6-5F8D-A005-000000000700';
const PSEXESVC = '39E4A257-40A6-5F8D-A105-000000000700';
const REG = '39E4A257-40A6-5F8D-A205-000000000700';
const CONHOST = '39E4A257-40A6-5F8D-A305-000000000700';
const SVCHOST = '39E4A257-F133-5F8B-1A00-000000000700';

let gateway: GraphGateway;
// Ahead of the engage stage's wall clock, so the service's audit entries sort after the pipeline's.
let clock = Date.now() + 30 * 86_400_000;
let service: EngagementService;
const tag = newReplayTag();
const k = (g: string) => processKey(g, tag);
const host = hostOf('WORKSTATION5', tag);
const alice: Actor = { username: `alice-${tag}`, role: 'analyst' };
const bob: Actor = { username: `bob-${tag}`, role: 'analyst' };
const admin: Actor = { username: `root-${tag}`, role: 'admin' };
const viewer: Actor = { username: `vera-${tag}`, role: 'viewer' };
let eng: string;

async function refused(p: Promise<unknown>): Promise<AppError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

beforeAll(async () => {
  gateway = gatewayFromEnv();
  await ensureGraphSchema(gateway);
  service = new EngagementService({ gateway, now: () => (clock += 1000) });
  const accounts = new AccountRepository(gateway);
  for (const a of [alice, bob, admin]) await accounts.create({ username: a.username, role: a.role, passwordHash: 'unused' });
  await buildGraph(gateway, tag, loadEvents(FILE), FILE);
  const stage = createEngageStage(gateway);
  await runEngage(
    stage,
    hitsJob([
      hit({ detection: 'analyzer:psexec-tool', title: 'PsExec | started `x`', riskyNodes: [k(PSEXEC)], score: 45, techniques: ['T1569.002'] }),
      hit({ detection: 'analyzer:remote-execution', title: 'Service binary started', riskyNodes: [k(PSEXESVC)], score: 55, techniques: ['T1021.002'] }),
      hit({ detection: 'sigma:reg-save-lsa', source: 'sigma', title: 'LSA secrets saved', riskyNodes: [k(REG)], score: 70, techniques: ['T1003.004'] }),
      hit({ detection: 'sigma:weak', source: 'sigma', title: 'Weak signal', riskyNodes: [k(SVCHOST)], score: 20 }),
    ]),
  );
  const [row] = await gateway.query<{ key: string }>(
    'test.eng',
    "MATCH (l:Lens {type: 'engagement'})-[:SCOPE {role: 'risky'}]->(:Process {key: $node}) RETURN l.key AS key",
    { node: k(REG) },
  );
  eng = row!.key;
});

afterAll(async () => {
  await gateway.close();
});

describe('lifecycle and audit trail', () => {
  it('moves New -> Investigating -> Closed -> Investigating, refuses the rest, and records who/when/before/after', async () => {
    expect((await refused(service.setStatus(viewer, { lens: eng, status: 'Investigating' }))).code).toBe('FORBIDDEN');
    const early = await refused(service.setStatus(alice, { lens: eng, status: 'Closed', resolution: 'TruePositive', summary: 'x' }));
    expect(early.code).toBe('INVALID_TRANSITION');
    expect(early.message).toMatch(/New lens cannot become Closed/);

    const t0 = clock;
    const started = await service.setStatus(alice, { lens: eng, status: 'Investigating' });
    expect(started.status).toBe('Investigating');
    expect((await refused(service.setStatus(alice, { lens: eng, status: 'Investigating' }))).message).toMatch(/already Investigating/);

    await service.assign(alice, { lens: eng, assignee: bob.username });
    expect((await refused(service.assign(alice, { lens: eng, assignee: 'nobody-here' }))).code).toBe('NOT_FOUND');
    await service.setTags(bob, { lens: eng, tags: ['lateral', ' Lateral ', 'creds'] });
    expect((await refused(service.setTags(bob, { lens: eng, tags: ['<script>'] }))).code).toBe('BAD_INPUT');

    expect((await refused(service.setStatus(bob, { lens: eng, status: 'Closed', resolution: 'TruePositive' }))).code).toBe('BAD_INPUT');
    expect((await refused(service.setStatus(bob, { lens: eng, status: 'Closed', resolution: 'Duplicate', summary: 'dup', duplicateOf: 'eng:doesnotexist' }))).code).toBe('NOT_FOUND');
    const closed = await service.setStatus(bob, { lens: eng, status: 'Closed', resolution: 'TruePositive', summary: 'PsExec used to dump LSA secrets.' });
    expect(closed).toMatchObject({ status: 'Closed', resolution: 'TruePositive', resolutionSummary: 'PsExec used to dump LSA secrets.', closedBy: bob.username, assignee: bob.username, tags: ['lateral', 'creds'] });
    const reopened = await service.setStatus(alice, { lens: eng, status: 'Investigating' });
    expect(reopened).toMatchObject({ status: 'Investigating', resolution: null, reopenedByPipeline: false });

    const { audit } = await service.getLens(viewer, eng);
    const mine = audit.filter((e) => e.at > t0).reverse();
    expect(mine.map((e) => [e.actor, e.action])).toEqual([
      [alice.username, 'status.start'],
      [alice.username, 'assign'],
      [bob.username, 'tags.set'],
      [bob.username, 'status.close'],
      [alice.username, 'status.reopen'],
    ]);
    for (let i = 1; i < mine.length; i++) expect(mine[i]!.at).toBeGreaterThan(mine[i - 1]!.at);
    expect(mine[0]).toMatchObject({ before: { status: 'New' }, after: { status: 'Investigating' } });
    expect(mine[1]).toMatchObject({ before: { assignee: null }, after: { assignee: bob.username } });
    expect(mine[2]).toMatchObject({ before: { tags: [] }, after: { tags: ['lateral', 'creds'] } });
    expect(mine[3]).toMatchObject({ before: { status: 'Investigating', resolution: null }, after: { status: 'Closed', resolution: 'TruePositive', summary: 'PsExec used to dump LSA secrets.' } });
    expect(mine[4]).toMatchObject({ before: { status: 'Closed', resolution: 'TruePositive' }, after: { status: 'Investigating', resolution: null } });
  });
});

describe('scope edits', () => {
  it('adds and removes nodes, recomputes the score, and the pipeline respects a removal', async () => {
    const before = await service.getLens(alice, eng);
    expect(before.nodes.find((n) => n.key === k(CONHOST))).toBeUndefined();

    await service.addToScope(alice, { lens: eng, node: k(CONHOST) });
    const added = await service.getLens(alice, eng);
    expect(added.nodes.find((n) => n.key === k(CONHOST))).toMatchObject({ role: 'context', addedBy: alice.username, label: expect.stringMatching(/^conhost\.exe/) });
    expect(added.audit[0]).toMatchObject({ actor: alice.username, action: 'scope.add', before: { node: k(CONHOST), role: null }, after: { node: k(CONHOST), role: 'context' } });

    const removed = await service.removeFromScope(bob, { lens: eng, node: k(REG) });
    expect(removed.score).toBeLessThan(before.lens.score);
    expect(removed.riskyCount).toBe(before.lens.riskyCount - 1);
    const after = await service.getLens(alice, eng);
    expect(after.nodes.find((n) => n.key === k(REG))).toBeUndefined();
    expect(after.audit[0]).toMatchObject({ actor: bob.username, action: 'scope.remove', before: { node: k(REG), role: 'risky', addedBy: 'pipeline' }, after: { role: null } });
    expect((await refused(service.removeFromScope(bob, { lens: eng, node: k(REG) }))).code).toBe('NOT_FOUND');
    expect((await refused(service.addToScope(alice, { lens: eng, node: `Process:${tag}-missing` }))).code).toBe('NOT_FOUND');
    expect((await refused(service.addToScope(viewer, { lens: eng, node: k(REG) }))).code).toBe('FORBIDDEN');

    // a new detection on the removed node does not put it back into this lens
    await runEngage(createEngageStage(gateway), hitsJob([hit({ detection: 'analyzer:credential-dump', riskyNodes: [k(REG)], score: 80 })]));
    expect((await service.getLens(alice, eng)).nodes.find((n) => n.key === k(REG))).toBeUndefined();
    // an analyst can
    await service.addToScope(bob, { lens: eng, node: k(REG), role: 'risky' });
    const back = await service.getLens(alice, eng);
    expect(back.nodes.find((n) => n.key === k(REG))).toMatchObject({ role: 'risky', addedBy: bob.username });
    expect(back.lens.riskyCount).toBe(before.lens.riskyCount);
    // Adding it again without a role (search, neighbours) keeps it risky and changes nothing ...
    await service.addToScope(alice, { lens: eng, node: k(REG) });
    const kept = await service.getLens(alice, eng);
    expect(kept.nodes.find((n) => n.key === k(REG))).toMatchObject({ role: 'risky', addedBy: bob.username });
    expect(kept.audit[0]).toEqual(back.audit[0]);
    // ... only an explicit role changes it, and that is audited.
    await service.addToScope(alice, { lens: eng, node: k(REG), role: 'context' });
    const demoted = await service.getLens(alice, eng);
    expect(demoted.nodes.find((n) => n.key === k(REG))).toMatchObject({ role: 'context' });
    expect(demoted.audit[0]).toMatchObject({ action: 'scope.role', before: { role: 'risky' }, after: { role: 'context' } });
    await service.addToScope(bob, { lens: eng, node: k(REG), role: 'risky' });
  });
});

describe('lens page limits', () => {
  it('cuts the scope at the node limit, risky nodes first, says so, and leaves room for a 2,000-node lens', async () => {
    expect(DETAIL_LIMITS.nodes).toBeGreaterThanOrEqual(2000);
    const full = await service.getLens(viewer, eng);
    expect(full.truncated.nodes).toBe(false);
    const risky = full.nodes.filter((n) => n.role === 'risky');
    expect(risky.length).toBeGreaterThanOrEqual(2);
    expect(full.nodes.length).toBeGreaterThan(risky.length);
    // Risky first, then by key.
    expect(full.nodes.slice(0, risky.length)).toEqual(risky);
    const byKey = (list: typeof full.nodes) => list.map((n) => n.key);
    expect(byKey(full.nodes.slice(risky.length))).toEqual(byKey(full.nodes.slice(risky.length)).sort());

    const cut = await new EngagementService({ gateway, limits: { nodes: risky.length } }).getLens(viewer, eng);
    expect(cut.truncated.nodes).toBe(true);
    expect(byKey(cut.nodes)).toEqual(byKey(risky));
    // Only edges among the nodes shown take a place under the edge cap, in the same order as uncut.
    const shown = new Set(byKey(cut.nodes));
    expect(cut.edges).toEqual(full.edges.filter((e) => shown.has(e.from) && shown.has(e.to)));
    expect(cut.edges.length).toBeGreaterThan(0);
    expect(cut.truncated.edges).toBe(false);
    // The timeline covers the nodes shown, not an arbitrary part of the scope.
    expect(full.timeline.some((e) => !shown.has(e.node))).toBe(true);
    expect(cut.timeline.length).toBeGreaterThan(0);
    expect(cut.timeline.filter((e) => !shown.has(e.node))).toEqual([]);
    const exact = await new EngagementService({ gateway, limits: { nodes: full.nodes.length } }).getLens(viewer, eng);
    expect(exact.truncated.nodes).toBe(false);
    expect(exact.nodes).toHaveLength(full.nodes.length);
  });

  it('cuts the edges at the edge limit, keeping more risky ends, then the process tree, then by kind and keys, and says so', async () => {
    // Widen the scope so that every step of the order decides something: a context child process of a
    // risky one (a process-tree edge with one risky end) and the file it executed (a context-context edge).
    const [child] = await gateway.query<{ key: string; file: string }>(
      'test.context-child',
      // Not a risky child: adding it as context would demote it (keys change with every run's replay tag,
      // so "the first by key" is sometimes the risky reg.exe).
      `MATCH (l:Lens {key: $eng})-[:SCOPE {role: 'risky'}]->(:Process)-[:PARENT_OF]->(c:Process)-[:EXECUTED]->(f:File)
       WHERE NOT (l)-[:SCOPE {role: 'risky'}]->(c)
       RETURN c.key AS key, f.key AS file ORDER BY c.key LIMIT 1`,
      { eng },
    );
    expect(child).toBeDefined();
    await service.addToScope(alice, { lens: eng, node: child!.key });
    await service.addToScope(alice, { lens: eng, node: child!.file });

    const full = await service.getLens(viewer, eng);
    expect(full.truncated.edges).toBe(false);
    const n = full.edges.length;

    // The documented order (EngagementRepository.scopeEdges), restated: the uncut lens comes in it.
    type Edge = (typeof full.edges)[number];
    const role = new Map(full.nodes.map((x) => [x.key, x.role] as const));
    const riskyEnds = (e: Edge) => (role.get(e.from) === 'risky' ? 1 : 0) + (role.get(e.to) === 'risky' ? 1 : 0);
    const rank = (e: Edge): Array<number | string> => [-riskyEnds(e), e.kind === 'PARENT_OF' ? 0 : 1, e.kind, e.from, e.to];
    const cmp = (a: Edge, b: Edge) => {
      const [x, y] = [rank(a), rank(b)];
      for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return x[i]! < y[i]! ? -1 : 1;
      return 0;
    };
    expect(full.edges).toEqual([...full.edges].sort(cmp));
    for (let i = 1; i < n; i++) expect(cmp(full.edges[i - 1]!, full.edges[i]!)).toBe(-1); // a total order
    // The lens exercises every step: edges with 2, 1 and 0 risky ends, and among those with as many risky
    // ends a process-tree edge ahead of edges of kinds that sort before PARENT_OF by name.
    expect(new Set(full.edges.map(riskyEnds))).toEqual(new Set([0, 1, 2]));
    for (const ends of [2, 1]) {
      const same = full.edges.filter((e) => riskyEnds(e) === ends);
      expect(same[0]!.kind).toBe('PARENT_OF');
      expect(same.some((e) => e.kind < 'PARENT_OF')).toBe(true);
    }
    expect(full.edges).toContainEqual(expect.objectContaining({ kind: 'PARENT_OF', to: child!.key }));
    expect(full.edges).toContainEqual(expect.objectContaining({ kind: 'EXECUTED', from: child!.key, to: child!.file }));

    const withCap = (edges: number) => new EngagementService({ gateway, limits: { edges } }).getLens(viewer, eng);
    const exact = await withCap(n);
    expect(exact.truncated.edges).toBe(false);
    expect(exact.edges).toEqual(full.edges);

    const oneShort = await withCap(n - 1);
    expect(oneShort.truncated.edges).toBe(true);
    expect(oneShort.edges).toEqual(full.edges.slice(0, n - 1));
    expect(oneShort.truncated.nodes).toBe(false);
    expect(oneShort.nodes).toEqual(full.nodes);

    // A cap the size of the risky-risky edges keeps exactly those; a cap of 1 the first of them, every time.
    const both = full.edges.filter((e) => riskyEnds(e) === 2);
    const riskyOnly = await withCap(both.length);
    expect(riskyOnly.truncated.edges).toBe(true);
    expect(riskyOnly.edges).toEqual(both);
    const one = await withCap(1);
    expect(one.edges).toEqual([both[0]]);
    expect((await withCap(1)).edges).toEqual(one.edges);
  });
});

describe('notes', () => {
  it('keeps every version, only the author or an admin edits, lens and node notes show on the lens', async () => {
    expect((await refused(service.addNote(alice, { target: { lens: eng }, text: '   ' }))).code).toBe('BAD_INPUT');
    expect((await refused(service.addNote(alice, { target: { node: `Process:${tag}-nope` }, text: 'x' }))).code).toBe('NOT_FOUND');
    expect((await refused(service.addNote(viewer, { target: { lens: eng }, text: 'x' }))).code).toBe('FORBIDDEN');

    const text1 = 'First look: `reg save` of **HKLM\\security** <b>raw</b>';
    const lensNote = await service.addNote(alice, { target: { lens: eng }, text: text1 });
    expect(lensNote).toMatchObject({ target: eng, targetKind: 'lens', text: text1, author: alice.username, version: 1 });
    const nodeNote = await service.addNote(bob, { target: { node: k(PSEXEC) }, text: 'Tool dropped by the operator.' });

    const v2 = await service.editNote(alice, { note: lensNote.id, text: 'Second look: confirmed.' });
    expect(v2).toMatchObject({ version: 2, text: 'Second look: confirmed.', editedBy: alice.username, author: alice.username });
    expect((await refused(service.editNote(bob, { note: lensNote.id, text: 'hijack' }))).code).toBe('FORBIDDEN');
    const v3 = await service.editNote(admin, { note: lensNote.id, text: 'Admin fixed a typo.' });
    expect(v3).toMatchObject({ version: 3, editedBy: admin.username, author: alice.username });

    const history = await service.noteHistory(viewer, lensNote.id);
    expect(history.map((h) => [h.version, h.text, h.author])).toEqual([
      [1, text1, alice.username],
      [2, 'Second look: confirmed.', alice.username],
      [3, 'Admin fixed a typo.', admin.username],
    ]);

    const d = await service.getLens(viewer, eng);
    expect(d.notes.map((n) => n.id)).toEqual(expect.arrayContaining([lensNote.id, nodeNote.id]));
    expect(await service.nodeNotes(viewer, k(PSEXEC))).toEqual([expect.objectContaining({ id: nodeNote.id, targetKind: 'node' })]);
    const edits = d.audit.filter((e) => e.action === 'note.edit');
    expect(edits[0]).toMatchObject({ actor: admin.username, before: { version: 2, text: 'Second look: confirmed.' }, after: { version: 3, text: 'Admin fixed a typo.' } });
    expect(d.audit.some((e) => e.action === 'note.add' && e.target === k(PSEXEC) && e.actor === bob.username)).toBe(true);
  });
});

describe('lens list', () => {
  it('filters, sorts by score, and pages with a cursor', async () => {
    const all = await service.listLenses(viewer, { host, first: 10 });
    expect(all.lenses.map((l) => l.id).sort()).toEqual([`asset:${host}`, eng].sort());
    expect(all.total).toBe(2);
    expect(all.lenses[0]!.score).toBeGreaterThanOrEqual(all.lenses[1]!.score);

    const p1 = await service.listLenses(viewer, { host, first: 1 });
    expect(p1.lenses).toHaveLength(1);
    expect(p1.nextCursor).not.toBeNull();
    const p2 = await service.listLenses(viewer, { host, first: 1, after: p1.nextCursor! });
    expect(p2.lenses).toHaveLength(1);
    expect(p2.lenses[0]!.id).not.toBe(p1.lenses[0]!.id);
    expect(p2.nextCursor).toBeNull();

    expect((await service.listLenses(viewer, { host, type: 'engagement' })).lenses.map((l) => l.id)).toEqual([eng]);
    expect((await service.listLenses(viewer, { host, technique: 'T1003' })).lenses.map((l) => l.id)).toContain(eng);
    expect((await service.listLenses(viewer, { host, assignee: bob.username })).lenses.map((l) => l.id)).toEqual([eng]);
    expect((await service.listLenses(viewer, { host, tag: 'LATERAL' })).lenses.map((l) => l.id)).toEqual([eng]);
    expect((await service.listLenses(viewer, { host, minScore: 101 - 1, maxScore: 100 })).lenses.every((l) => l.score >= 100)).toBe(true);
    expect((await service.listLenses(viewer, { text: host.toLowerCase(), type: 'asset' })).lenses.map((l) => l.id)).toEqual([`asset:${host}`]);
    expect((await service.listLenses(viewer, { host, sort: 'lastActivity' })).lenses).toHaveLength(2);

    expect((await refused(service.listLenses(viewer, { host, first: 1000 }))).code).toBe('BAD_INPUT');
    expect((await refused(service.listLenses(viewer, { host, sort: 'lastActivity', after: p1.nextCursor! }))).code).toBe('BAD_INPUT');
    expect((await refused(service.listLenses(viewer, { host, minScore: 50, maxScore: 10 }))).code).toBe('BAD_INPUT');
  });
});

describe('lens list order', () => {
  it('puts the lens active most recently first among equal scores, on one page and across pages', async () => {
    // Lenses of the same detections score the same: give both lenses of this host one score, the asset lens the later activity.
    const keys = [`asset:${host}`, eng];
    const saved = await gateway.query<{ k: string; s: number; u: number }>(
      'test.lens-order-read',
      'UNWIND $keys AS k MATCH (l:Lens {key: k}) RETURN l.key AS k, l.score AS s, l.updated_at AS u',
      { keys },
    );
    const set = (rows: Array<{ k: string; s: number; u: number }>) =>
      gateway.write('test.lens-order', (tx) =>
        tx.run('UNWIND $rows AS r MATCH (l:Lens {key: r.k}) SET l.score = r.s, l.updated_at = r.u', { rows }),
      );
    const base = Math.max(...saved.map((r) => Number(r.u)));
    try {
      await set([
        { k: keys[0]!, s: 100, u: base + 2000 },
        { k: keys[1]!, s: 100, u: base + 1000 },
      ]);
      expect((await service.listLenses(viewer, { host })).lenses.map((l) => l.id)).toEqual(keys);
      const p1 = await service.listLenses(viewer, { host, first: 1 });
      const p2 = await service.listLenses(viewer, { host, first: 1, after: p1.nextCursor! });
      expect([...p1.lenses, ...p2.lenses].map((l) => l.id)).toEqual(keys);
      // The other way round when the engagement is the more recent.
      await set([{ k: keys[1]!, s: 100, u: base + 3000 }]);
      expect((await service.listLenses(viewer, { host })).lenses.map((l) => l.id)).toEqual([eng, `asset:${host}`]);
    } finally {
      await set(saved.map((r) => ({ k: r.k, s: Number(r.s), u: Number(r.u) })));
    }
  });
});

describe('export', () => {
  it('exports every risk on a risky node with its lens, dataset and times; a ticket in markdown', async () => {
    const rows = [];
    for await (const r of service.exportFindings(viewer)) if (r.host === host) rows.push(r);
    const reg = rows.find((r) => r.node_key === k(REG) && r.detection === 'sigma:reg-save-lsa')!;
    expect(reg).toMatchObject({
      lens: eng,
      lens_type: 'engagement',
      detection: 'sigma:reg-save-lsa',
      risk_score: 70,
      techniques: ['T1003.004'],
      node_kind: 'Process',
      host,
      process_guid: k(REG).slice('Process:'.length),
      dataset: 'cmd_psexec_lsa_secrets_dump',
    });
    expect(reg.image).toMatch(/reg\.exe$/i);
    expect(reg.first_seen).toMatch(/^\d{4}-\d\d-\d\dT/);
    // a node in no engagement lens goes with its asset lens
    expect(rows.find((r) => r.node_key === k(SVCHOST))).toMatchObject({ lens: `asset:${host}`, lens_type: 'asset' });

    const only = [];
    for await (const r of service.exportFindings(viewer, { lens: eng })) only.push(r);
    expect(new Set(only.map((r) => r.lens))).toEqual(new Set([eng]));
    expect(only.length).toBeGreaterThanOrEqual(3);

    const md = await service.lensReport(viewer, eng);
    expect(md).toContain('## Timeline');
    expect(md).toContain('PsExec \\| started \\`x\\`');
    expect(md).toContain('Admin fixed a typo.');
  });
});

describe('bulk triage', () => {
  it('changes several lenses each on its own: a refused one stops none of the others, each keeps its audit entry', async () => {
    const asset = `asset:${host}`;
    const missing = 'eng:00000000000000000000';
    const one = { lenses: [asset], status: 'Investigating' as const };
    expect((await refused(service.setStatusMany(viewer, one))).code).toBe('FORBIDDEN');
    expect((await refused(service.assignMany(viewer, { lenses: [asset], assignee: alice.username }))).code).toBe('FORBIDDEN');
    expect((await refused(service.setStatusMany(alice, { ...one, lenses: [] }))).code).toBe('BAD_INPUT');
    const tooMany = Array.from({ length: 101 }, (_, i) => `eng:${String(i).padStart(20, '0')}`);
    expect((await refused(service.setStatusMany(alice, { ...one, lenses: tooMany }))).code).toBe('BAD_INPUT');
    const dup = await refused(service.setStatusMany(alice, { lenses: [asset, eng], status: 'Closed', resolution: 'Duplicate', summary: 'x' }));
    expect(dup).toMatchObject({ code: 'BAD_INPUT', message: expect.stringMatching(/one at a time/) });
    expect((await refused(service.assignMany(alice, { lenses: [asset], assignee: 'nobody-of-this-name' }))).code).toBe('NOT_FOUND');

    // Bring both to Investigating one by one (the tests above leave eng there), then move them together.
    for (const id of [asset, eng]) {
      const { lens } = await service.getLens(viewer, id);
      if (lens.status === 'Closed' || lens.status === 'New') await service.setStatus(alice, { lens: id, status: 'Investigating' });
    }
    await service.setStatus(alice, { lens: asset, status: 'Closed', resolution: 'Benign', summary: 'Reset for the bulk test.' });
    const t0 = clock;

    // Asset lens Closed -> Investigating (a reopen); eng already Investigating: refused; the unknown id: not
    // found; the repeated id counts once.
    const started = await service.setStatusMany(alice, { lenses: [asset, eng, missing, asset], status: 'Investigating' });
    expect(started.map((o) => [o.id, o.lens?.status ?? o.error?.code])).toEqual([
      [asset, 'Investigating'],
      [eng, 'INVALID_TRANSITION'],
      [missing, 'NOT_FOUND'],
    ]);
    expect(started[1]!.error!.message).toMatch(/already Investigating/);

    // eng is bob's (the lifecycle test); both go to alice.
    const assigned = await service.assignMany(alice, { lenses: [asset, eng, missing], assignee: alice.username });
    expect(assigned.map((o) => o.lens?.assignee ?? o.error?.code)).toEqual([alice.username, alice.username, 'NOT_FOUND']);

    const closed = await service.setStatusMany(bob, {
      lenses: [eng, asset],
      status: 'Closed',
      resolution: 'FalsePositive',
      summary: 'Administrators testing PsExec.',
    });
    expect(closed.map((o) => o.id)).toEqual([eng, asset]);
    for (const o of closed) {
      expect(o.error).toBeUndefined();
      expect(o.lens).toMatchObject({ status: 'Closed', resolution: 'FalsePositive', resolutionSummary: 'Administrators testing PsExec.', closedBy: bob.username });
    }

    const trail = async (id: string) => (await service.getLens(viewer, id)).audit.filter((e) => e.at > t0).reverse().map((e) => [e.actor, e.action]);
    expect(await trail(asset)).toEqual([
      [alice.username, 'status.reopen'],
      [alice.username, 'assign'],
      [bob.username, 'status.close'],
    ]);
    expect(await trail(eng)).toEqual([
      [alice.username, 'assign'],
      [bob.username, 'status.close'],
    ]);
  });
});
