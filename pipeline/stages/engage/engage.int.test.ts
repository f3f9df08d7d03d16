/**
 * The engage stage against the real Neo4j, over graphs built from real development-set events by the
 * pipeline's own modules, each replayed under a tag of its own (hosts and GUIDs are the test's namespace):
 * risks exactly once, asset and engagement lenses, stories joined across hosts, two stories merged when a
 * later event links them, concurrency, and closed lenses reopened by new hits.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphGateway } from '../../../lib/neo4j';
import { scoreRisks } from '../../engagement/score';
import { MemorySessionStore } from '../../identity';
import { ensureGraphSchema } from '../../merge';
import { gatewayFromEnv } from '../../merge/test-support';
import {
  buildGraph,
  digestOf,
  hit,
  hitsJob,
  hostOf,
  loadEvents,
  newReplayTag,
  processKey,
  quietContext,
  runEngage,
} from '../../engagement/test-support';
import { EngagementService } from '../../../server/engagements/service';
import type { Hit } from '../../../domain/detection';
import type { UpdatePayload } from '../../payloads';
import type { StageInput } from '../../runner';
import { createAnalyzeStage } from '../analyze/handler';
import { createEngageStage } from './handler';

let gateway: GraphGateway;
let service: EngagementService;
const analyst = { username: 'it-analyst', role: 'analyst' as const };

beforeAll(async () => {
  gateway = gatewayFromEnv();
  await ensureGraphSchema(gateway);
  service = new EngagementService({ gateway });
});

afterAll(async () => {
  await gateway.close();
});

const PSEXEC = '39E4A257-40A6-5F8D-A005-000000000700';
const PSEXESVC = '39E4A257-40A6-5F8D-A105-000000000700';
const REG = '39E4A257-40A6-5F8D-A205-000000000700';
const CONHOST = '39E4A257-40A6-5F8D-A305-000000000700';
const SVCHOST = '39E4A257-F133-5F8B-1A00-000000000700';
const PSEXEC_FILE = 'cmd_psexec_lsa_secrets_dump.jsonl';

interface LensRow {
  key: string;
  type: string;
  status: string;
  score: number;
  merged_into: string | null;
  reopened_by_pipeline: boolean | null;
  reopen_reason: string | null;
  created_at: number;
}

async function lensesOf(node: string): Promise<Array<LensRow & { role: string }>> {
  const rows = await gateway.query<{ l: LensRow; role: string }>(
    'test.lenses-of',
    'MATCH (l:Lens)-[s:SCOPE]->(n:Process {key: $node}) RETURN properties(l) AS l, s.role AS role ORDER BY l.key',
    { node },
  );
  return rows.map((r) => ({ ...r.l, role: r.role }));
}

async function lens(key: string): Promise<LensRow> {
  const [r] = await gateway.query<{ l: LensRow }>(
    'test.lens',
    'MATCH (l:Lens {key: $key}) RETURN properties(l) AS l',
    { key },
  );
  return r!.l;
}

async function scope(key: string): Promise<Record<string, string>> {
  const rows = await gateway.query<{ node: string; role: string }>(
    'test.scope',
    'MATCH (:Lens {key: $key})-[s:SCOPE]->(n) RETURN n.key AS node, s.role AS role',
    { key },
  );
  return Object.fromEntries(rows.map((r) => [r.node, r.role]));
}

async function engagementOf(node: string): Promise<string> {
  const l = (await lensesOf(node)).filter(
    (x) => x.type === 'engagement' && x.role === 'risky' && !x.merged_into,
  );
  expect(l).toHaveLength(1);
  return l[0]!.key;
}

describe('engage stage on a real graph', () => {
  const psexecEvents = loadEvents(PSEXEC_FILE);

  it('keeps risks exactly once and groups one story into one engagement lens, apart from unrelated hits', async () => {
    const tag = newReplayTag();
    await buildGraph(gateway, tag, psexecEvents, PSEXEC_FILE);
    const k = (g: string) => processKey(g, tag);
    const host = hostOf('WORKSTATION5', tag);
    const stage = createEngageStage(gateway);

    const story = [
      hit({
        detection: 'analyzer:psexec-tool',
        title: 'PsExec started',
        riskyNodes: [k(PSEXEC)],
        score: 45,
        techniques: ['T1569.002'],
      }),
      hit({
        detection: 'analyzer:remote-execution',
        title: 'Service binary started remotely',
        riskyNodes: [k(PSEXESVC)],
        score: 55,
        techniques: ['T1021.002'],
      }),
      hit({
        detection: 'sigma:reg-save-lsa',
        source: 'sigma',
        title: 'LSA secrets saved with reg.exe',
        riskyNodes: [k(REG)],
        contextNodes: [k(PSEXESVC)],
        score: 70,
        techniques: ['T1003.004'],
      }),
    ];
    const weak = hit({
      detection: 'sigma:weak',
      source: 'sigma',
      title: 'Weak signal',
      riskyNodes: [k(SVCHOST)],
      score: 20,
    });
    const job = hitsJob([...story, weak]);
    await runEngage(stage, job);
    // the same chunk again (a retry, a replay) changes nothing
    await runEngage(stage, job);

    const [risk] = await gateway.query<{ count: number }>(
      'test.risk',
      'MATCH (r:Risk {key: $key}) RETURN r.count AS count',
      { key: `sigma:reg-save-lsa|${k(REG)}` },
    );
    expect(risk!.count).toBe(1);

    const eng = await engagementOf(k(REG));
    expect(await engagementOf(k(PSEXEC))).toBe(eng);
    expect(await engagementOf(k(PSEXESVC))).toBe(eng);
    const sc = await scope(eng);
    expect(sc[k(PSEXEC)]).toBe('risky');
    expect(sc[k(REG)]).toBe('risky');
    // the pipe PsExec talked to PSEXESVC through is context; benign neighbours on the host are not in scope
    expect(Object.entries(sc).some(([n, r]) => n.startsWith('Pipe:') && r === 'context')).toBe(true);
    expect(sc[k(SVCHOST)]).toBeUndefined();
    expect(sc[k(CONHOST)]).toBeUndefined();
    // a lone weak hit opens no engagement; it is in its asset lens
    expect((await lensesOf(k(SVCHOST))).map((l) => l.key)).toEqual([`asset:${host}`]);

    const l = await lens(eng);
    expect(l.status).toBe('New');
    expect(l.score).toBe(
      scoreRisks(
        story.map((h) => ({
          node: h.riskyNodes[0]!,
          detection: h.detection,
          score: h.score,
          techniques: h.techniques,
        })),
      ).score,
    );
    const asset = await lens(`asset:${host}`);
    expect(asset.type).toBe('asset');
    expect(Object.keys(await scope(`asset:${host}`)).sort()).toEqual(
      [k(PSEXEC), k(PSEXESVC), k(REG), k(SVCHOST)].sort(),
    );

    // the same occurrence found again (an analyzer re-run, another batch) counts nothing; new occurrences
    // of the same detection on the same node count, in the same lens, with the same score
    const regSave = story[2]!;
    await runEngage(stage, hitsJob([regSave]));
    const [same] = await gateway.query<{ count: number }>(
      'test.risk',
      'MATCH (r:Risk {key: $key}) RETURN r.count AS count',
      { key: `sigma:reg-save-lsa|${k(REG)}` },
    );
    expect(same!.count).toBe(1);
    await runEngage(
      stage,
      hitsJob([
        { ...regSave, time: regSave.time + 1000 },
        { ...regSave, time: regSave.time + 2000 },
      ]),
    );
    const [again] = await gateway.query<{ count: number }>(
      'test.risk',
      'MATCH (r:Risk {key: $key}) RETURN r.count AS count',
      { key: `sigma:reg-save-lsa|${k(REG)}` },
    );
    expect(again!.count).toBe(3);
    expect(await engagementOf(k(REG))).toBe(eng);
    expect((await lens(eng)).score).toBe(l.score);

    // an unrelated strong hit on the same host opens its own lens
    await runEngage(
      stage,
      hitsJob([hit({ detection: 'analyzer:other', riskyNodes: [k(SVCHOST)], score: 80 })]),
    );
    const other = await engagementOf(k(SVCHOST));
    expect(other).not.toBe(eng);
  });

  it('keeps a host with risks of its own out of a story that names it as context', async () => {
    const tag = newReplayTag();
    await buildGraph(gateway, tag, psexecEvents, PSEXEC_FILE);
    const k = (g: string) => processKey(g, tag);
    const host = hostOf('WORKSTATION5', tag);
    const stage = createEngageStage(gateway);
    // A host-level detection first (a cleared log names no process): the host's own lens.
    await runEngage(
      stage,
      hitsJob([
        hit({ detection: 'sigma:log-cleared', source: 'sigma', riskyNodes: [`Asset:${host}`], score: 70 }),
      ]),
    );
    const hostLevel = await gateway.query<{ key: string }>(
      'test.host-lens',
      `MATCH (l:Lens {type: 'engagement'})-[:SCOPE {role: 'risky'}]->(:Asset {key: $asset}) RETURN l.key AS key`,
      { asset: `Asset:${host}` },
    );
    expect(hostLevel).toHaveLength(1);
    // Then an attack on that host whose analyzer names the host as context (as lsass-access names the host
    // an RDP user reached): its own story, with the host as context, and the host-level lens untouched.
    await runEngage(
      stage,
      hitsJob([
        hit({
          detection: 'analyzer:reg-save',
          riskyNodes: [k(REG)],
          contextNodes: [k(PSEXESVC), `Asset:${host}`],
          score: 70,
        }),
      ]),
    );
    const eng = await engagementOf(k(REG));
    expect(eng).not.toBe(hostLevel[0]!.key);
    const sc = await scope(eng);
    expect(sc[`Asset:${host}`]).toBe('context');
    expect(Object.keys(await scope(hostLevel[0]!.key))).toEqual([`Asset:${host}`]);
  });

  it('merges two stories into the older lens when a later event links them', async () => {
    const tag = newReplayTag();
    const k = (g: string) => processKey(g, tag);
    const store = new MemorySessionStore();
    // The links between PsExec and what PSEXESVC started: the service binary PsExec wrote (EventID 11),
    // which PSEXESVC ran, and the named pipes they talked through (17/18).
    const isLink = (e: { source: string; eventId: number }) =>
      e.source === 'sysmon' && [11, 17, 18].includes(e.eventId);
    // first everything but those: PsExec and what PSEXESVC started are not linked yet
    await buildGraph(
      gateway,
      tag,
      psexecEvents.filter((e) => !isLink(e)),
      PSEXEC_FILE,
      store,
    );
    let clock = Date.UTC(2024, 0, 1);
    const stage = createEngageStage(gateway, { now: () => (clock += 1000) });
    await runEngage(
      stage,
      hitsJob([
        hit({
          detection: 'analyzer:psexec-tool',
          title: 'PsExec started',
          riskyNodes: [k(PSEXEC)],
          score: 70,
        }),
      ]),
    );
    await runEngage(
      stage,
      hitsJob([
        hit({ detection: 'sigma:reg-save-lsa', title: 'LSA secrets saved', riskyNodes: [k(REG)], score: 70 }),
      ]),
    );
    const a = await engagementOf(k(PSEXEC));
    const b = await engagementOf(k(REG));
    expect(a).not.toBe(b);
    await service.addNote(analyst, { target: { lens: b }, text: 'looked at reg save' });
    await service.setTags(analyst, { lens: b, tags: ['lsa'] });

    // the linking events arrive; then a detection on PSEXESVC, which sits between both stories
    await buildGraph(gateway, tag, psexecEvents.filter(isLink), PSEXEC_FILE, store);
    await runEngage(
      stage,
      hitsJob([
        hit({
          detection: 'analyzer:remote-execution',
          title: 'Service started remotely',
          riskyNodes: [k(PSEXESVC)],
          score: 55,
        }),
      ]),
    );

    expect(await engagementOf(k(PSEXEC))).toBe(a);
    expect(await engagementOf(k(REG))).toBe(a);
    expect(await engagementOf(k(PSEXESVC))).toBe(a);
    const absorbed = await lens(b);
    expect(absorbed).toMatchObject({
      merged_into: a,
      status: 'Closed',
      resolution: 'Duplicate',
      duplicate_of: a,
    });
    expect(await scope(b)).toEqual({});

    // links to the absorbed lens keep working; its notes and tags moved along
    const detail = await service.getLens(analyst, b);
    expect(detail.lens.id).toBe(a);
    expect(detail.redirectedFrom).toBe(b);
    expect(detail.lens.tags).toEqual(['lsa']);
    expect(detail.notes.map((n) => n.text)).toContain('looked at reg save');
    const merges = detail.audit.filter((e) => e.action === 'lens.merge');
    expect(merges, JSON.stringify(detail.audit, null, 1)).toHaveLength(1);
    expect(merges[0]).toMatchObject({ actor: 'pipeline', target: a, after: { absorbed: b } });
    const [mergedEntry] = await gateway.query<{ n: number }>(
      'test.audit',
      "MATCH (e:AuditEntry {target: $b, action: 'lens.merged'}) RETURN count(e) AS n",
      { b },
    );
    expect(mergedEntry!.n).toBe(1);
  });

  it('joins a remote execution across hosts into one story, and leaves benign hosts out', async () => {
    const file = 'empire_psexec_dcerpc_tcp_svcctl.jsonl';
    const tag = newReplayTag();
    await buildGraph(gateway, tag, loadEvents(file), file);
    const k = (g: string) => processKey(g, tag);
    const WS5_PS = 'B34BC01C-7DFC-5F67-DE11-000000000400';
    const WS6_CMD = 'D273D0F0-8078-5F67-CB06-000000000800';
    const WS6_PS = 'D273D0F0-8078-5F67-CC06-000000000800';
    const WS6_WHOAMI = 'D273D0F0-808E-5F67-CF06-000000000800';
    const stage = createEngageStage(gateway);
    const t = Date.UTC(2020, 8, 20, 16, 16, 57);
    // the remote side first: cmd started by services.exe, and the encoded PowerShell it ran
    await runEngage(
      stage,
      hitsJob([
        hit({ detection: 'analyzer:remote-execution', riskyNodes: [k(WS6_CMD)], score: 75, time: t }),
        hit({ detection: 'analyzer:encoded-powershell', riskyNodes: [k(WS6_PS)], score: 70, time: t }),
      ]),
    );
    const eng = await engagementOf(k(WS6_CMD));
    expect(await engagementOf(k(WS6_PS))).toBe(eng);
    // then the source on the other host, and discovery on the target
    await runEngage(
      stage,
      hitsJob([
        hit({ detection: 'analyzer:lateral-source', riskyNodes: [k(WS5_PS)], score: 60, time: t }),
        hit({ detection: 'analyzer:discovery', riskyNodes: [k(WS6_WHOAMI)], score: 30, time: t + 20_000 }),
      ]),
    );
    expect(await engagementOf(k(WS5_PS))).toBe(eng);
    expect(await engagementOf(k(WS6_WHOAMI))).toBe(eng);
    const l = await service.getLens(analyst, eng);
    expect(l.lens.hosts.sort()).toEqual([hostOf('WORKSTATION5', tag), hostOf('WORKSTATION6', tag)].sort());
    // the endpoint both ends of the connection share explains the link
    expect(l.nodes.some((n) => n.kind === 'NetworkEndpoint' && n.role === 'context')).toBe(true);
    // only processes on the attack path are in scope: no other process of either host
    const procs = l.nodes.filter((n) => n.kind === 'Process').map((n) => n.key);
    expect(procs.sort()).toEqual([k(WS5_PS), k(WS6_CMD), k(WS6_PS), k(WS6_WHOAMI)].sort());
    expect(l.timeline.length).toBeGreaterThan(3);
  });

  it('stays one lens per story under concurrent workers', async () => {
    const tag = newReplayTag();
    await buildGraph(gateway, tag, psexecEvents, PSEXEC_FILE);
    const k = (g: string) => processKey(g, tag);
    const stages = [createEngageStage(gateway), createEngageStage(gateway), createEngageStage(gateway)];
    const jobs = [
      hitsJob([hit({ detection: 'a:1', riskyNodes: [k(PSEXEC)], score: 60 })]),
      hitsJob([hit({ detection: 'a:2', riskyNodes: [k(PSEXESVC)], score: 60 })]),
      hitsJob([hit({ detection: 'a:3', riskyNodes: [k(REG)], score: 60 })]),
    ];
    const dup = jobs[0]!;
    await Promise.all([
      ...stages.map((s, i) => runEngage(s, jobs[i]!)),
      runEngage(stages[1]!, { ...dup, jobId: 'x' }),
    ]);
    const eng = await engagementOf(k(PSEXEC));
    expect(await engagementOf(k(PSEXESVC))).toBe(eng);
    expect(await engagementOf(k(REG))).toBe(eng);
    const [r] = await gateway.query<{ count: number }>(
      'test.risk',
      'MATCH (r:Risk {key: $key}) RETURN r.count AS count',
      { key: `a:1|${k(PSEXEC)}` },
    );
    expect(r!.count).toBe(1);
  });

  it('reopens a closed lens visibly when new hits arrive, by the pipeline', async () => {
    const tag = newReplayTag();
    await buildGraph(gateway, tag, psexecEvents, PSEXEC_FILE);
    const k = (g: string) => processKey(g, tag);
    const stage = createEngageStage(gateway);
    await runEngage(
      stage,
      hitsJob([
        hit({ detection: 'sigma:reg-save-lsa', title: 'LSA secrets saved', riskyNodes: [k(REG)], score: 70 }),
      ]),
    );
    const eng = await engagementOf(k(REG));
    await service.setStatus(analyst, { lens: eng, status: 'Investigating' });
    await service.setStatus(analyst, {
      lens: eng,
      status: 'Closed',
      resolution: 'FalsePositive',
      summary: 'Admin backup.',
    });
    expect((await lens(eng)).status).toBe('Closed');

    await runEngage(
      stage,
      hitsJob(
        [
          hit({
            detection: 'analyzer:credential-dump',
            title: 'Credential dump command line',
            riskyNodes: [k(REG)],
            score: 80,
          }),
        ],
        digestOf(`${tag}-reopen`),
      ),
    );
    const l = await service.getLens(analyst, eng);
    expect(l.lens).toMatchObject({ status: 'Investigating', reopenedByPipeline: true, resolution: null });
    expect(l.lens.reopenReason).toContain('Credential dump command line');
    const reopen = l.audit.find((e) => e.action === 'status.reopen' && e.actor === 'pipeline');
    expect(reopen).toMatchObject({
      before: { status: 'Closed', resolution: 'FalsePositive', summary: 'Admin backup.' },
      after: { status: 'Investigating', reopenedByPipeline: true },
    });
    expect(reopen!.at).toBeGreaterThan(0);
    // the analyst's close is in the trail too, before the reopen
    const actions = l.audit.map((e) => `${e.actor}:${e.action}`);
    expect(actions.indexOf('pipeline:status.reopen')).toBeLessThan(
      actions.indexOf('it-analyst:status.close'),
    );
  });

  it('joins two processes of one implant that reached the same C2 endpoint (SHARED_DEST), in separate batches', async () => {
    const file = 'empire_enable_rdp.jsonl';
    // Both beacon to one ip:port: the notepad Empire injected into and the PowerShell agent.
    const NOTEPAD = '03BA39F5-652C-5CE0-0000-0010760BFF01';
    const AGENT = '03BA39F5-4CFE-5CE0-0000-00103600C001';
    const tag = newReplayTag();
    const events = loadEvents(file).filter(
      (e) => e.eventId === 3 && [NOTEPAD, AGENT].includes(e.fields.ProcessGuid ?? ''),
    );
    expect(events.length).toBeGreaterThan(1);
    await buildGraph(gateway, tag, events, file);
    const k = (g: string) => processKey(g, tag);
    const stage = createEngageStage(gateway);
    const time = events[0]!.time;
    await runEngage(
      stage,
      hitsJob([
        hit({
          detection: 'analyzer:unexpected-network-program',
          title: 'Notepad connected out',
          riskyNodes: [k(NOTEPAD)],
          score: 70,
          time,
        }),
      ]),
    );
    await runEngage(
      stage,
      hitsJob([
        hit({
          detection: 'analyzer:script-host-network',
          title: 'PowerShell connected out',
          riskyNodes: [k(AGENT)],
          score: 50,
          time,
        }),
      ]),
    );
    expect(await engagementOf(k(AGENT))).toBe(await engagementOf(k(NOTEPAD)));
  });
  it('applies the analyzer hits of a batch regrouped after a crash, even when its first chunk was applied before', async () => {
    const tag = newReplayTag();
    await buildGraph(gateway, tag, psexecEvents, PSEXEC_FILE);
    const k = (g: string) => processKey(g, tag);
    const engage = createEngageStage(gateway);
    // The analyzers find what the batch's changed nodes show: first chunk A alone, then A again with B
    // (a worker died after engage applied A, and the retry grouped A with B).
    let found: Hit[] = [hit({ detection: 'analyzer:psexec-tool', riskyNodes: [k(PSEXEC)], score: 45 })];
    const analyze = createAnalyzeStage({ run: async () => found });
    const [a, b] = [digestOf(randomUUID()), digestOf(randomUUID())];
    const update = (digests: string[]): StageInput<UpdatePayload> => {
      const job = hitsJob([]);
      const upload = job.envelope.chunks[0]!.split('/')[0]!;
      return {
        ...job,
        payload: {
          parts: digests.map((digest, i) => ({ chunk: `${upload}/${i}`, digest, hits: [] })),
          changedKeys: [k(PSEXEC)],
        },
      };
    };
    const throughAnalyze = async (digests: string[]) => {
      const out = await analyze.handle([update(digests)], quietContext());
      await runEngage(engage, { ...hitsJob([]), payload: out! });
    };
    await throughAnalyze([a]);
    found = [hit({ detection: 'analyzer:remote-execution', riskyNodes: [k(PSEXESVC)], score: 55 })];
    await throughAnalyze([a, b]);
    const risks = await gateway.query<{ key: string; count: number }>(
      'test.risks',
      'MATCH (r:Risk) WHERE r.key IN $keys RETURN r.key AS key, r.count AS count ORDER BY key',
      { keys: [`analyzer:psexec-tool|${k(PSEXEC)}`, `analyzer:remote-execution|${k(PSEXESVC)}`] },
    );
    // Each once: the second batch's hit rode on chunk B too, and was not applied twice through A and B.
    expect(risks.map((r) => [r.key, r.count])).toEqual([
      [`analyzer:psexec-tool|${k(PSEXEC)}`, 1],
      [`analyzer:remote-execution|${k(PSEXESVC)}`, 1],
    ]);
  });
});
