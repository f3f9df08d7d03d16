/**
 * Real telemetry through every stage, against real Redis and Neo4j: what lands in the graph is what the
 * events imply, malformed records cost only themselves, and the same file ingested twice changes nothing.
 * Each test replays its data under its own tag, so its hosts and GUIDs are its own namespace in the
 * shared Neo4j.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GraphGateway } from '../lib/neo4j';
import { createRedis } from '../lib/redis';
import { Ingester } from './ingest';
import { ensureGraphSchema } from './merge';
import { normalizeRecord, readRecords } from './parsers';
import { StageRunner, type StageDefinition } from './runner';
import { loadRules } from './sigma';
import { createAnalyzeStage } from './stages/analyze/handler';
import { createEngageStage } from './stages/engage/handler';
import { createIdentifyStage } from './stages/identify/handler';
import { createMergeStage } from './stages/merge/handler';
import { parseStage } from './stages/parse/handler';
import { replayGuid, replayHost } from './stages/parse/replay';

const DATA = path.resolve(import.meta.dirname, '../../shared/data');
const prefix = `it${randomBytes(4).toString('hex')}`;
let redis: Redis;
let connection: Redis;
let gateway: GraphGateway;
let runners: StageRunner<unknown, unknown>[] = [];
let ingester: Ingester;
let tmp: string;
const psRules: string[] = [];
const lsassRules: string[] = [];

beforeAll(async () => {
  redis = createRedis(process.env.REDIS_URL!);
  connection = createRedis(process.env.REDIS_URL!);
  gateway = new GraphGateway({
    uri: process.env.NEO4J_URI!,
    user: process.env.NEO4J_USER!,
    password: process.env.NEO4J_PASSWORD!,
  });
  await ensureGraphSchema(gateway);
  const { ruleset } = await loadRules(
    ['process_creation', 'powershell', 'builtin/security'].map((d) => path.join(DATA, 'sigma/rules/windows', d)),
  );
  // Rules of the PowerShell logs whose events carry their writer's pid (4103 module, 4104 script block).
  for (const r of ruleset.rules) {
    if (r.logsource === 'windows/ps_module' || r.logsource === 'windows/ps_script') psRules.push(r.match.ruleId);
    if (r.path.includes('lsass')) lsassRules.push(r.match.ruleId);
  }
  const defs = [
    parseStage,
    createIdentifyStage({ sigma: ruleset }),
    createMergeStage(gateway),
    createAnalyzeStage({ run: async () => [] }),
    createEngageStage(gateway),
  ] as StageDefinition<unknown, unknown>[];
  runners = defs.map((d) => new StageRunner(d, { redis, connection, prefix, payloadTtlSeconds: 3600 }));
  for (const r of runners) await r.start();
  ingester = new Ingester({ redis, prefix, payloadTtlSeconds: 3600, chunkRecords: 500 });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-pipe-'));
});

afterAll(async () => {
  for (const r of runners) await r.stop();
  await ingester?.close();
  await gateway?.close();
  redis?.disconnect();
  connection?.disconnect();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** What the file's events imply: the distinct ProcessGuids of Sysmon EventID 1, and the asset keys. */
async function expectedProcesses(file: string, tag: string): Promise<{ guids: Set<string>; hosts: Set<string> }> {
  const guids = new Set<string>();
  const hosts = new Set<string>();
  for await (const r of readRecords(file)) {
    if (!('text' in r)) continue;
    const res = normalizeRecord(JSON.parse(r.text));
    if (res.kind !== 'event') continue;
    hosts.add(`Asset:${replayHost(res.event.host, tag).split('.')[0]!.toUpperCase()}`);
    if (res.event.source === 'sysmon' && res.event.eventId === 1 && res.event.fields.ProcessGuid) {
      guids.add(replayGuid(res.event.fields.ProcessGuid, tag));
    }
  }
  return { guids, hosts };
}

async function graphOf(hosts: string[]) {
  const [row] = await gateway.query<{ procs: number; imaged: number; edges: number; nodes: number }>(
    'graph-of-hosts',
    `MATCH (a:Asset) WHERE a.key IN $hosts
     MATCH (p:Process)-[:RUNS_ON]->(a)
     WITH collect(DISTINCT p) AS ps
     UNWIND ps AS p
     OPTIONAL MATCH (p)-[r]-(x)
     RETURN size(ps) AS procs,
            size([q IN ps WHERE q.image IS NOT NULL AND q.create_time IS NOT NULL]) AS imaged,
            count(r) AS edges, count(DISTINCT x) AS nodes`,
    { hosts },
  );
  return row!;
}

async function processGuids(hosts: string[]): Promise<Set<string>> {
  const rows = await gateway.query<{ g: string }>(
    'guids-of-hosts',
    `MATCH (a:Asset)<-[:RUNS_ON]-(p:Process) WHERE a.key IN $hosts AND p.create_time IS NOT NULL
       AND p.process_guid IS NOT NULL
     RETURN DISTINCT p.process_guid AS g`,
    { hosts },
  );
  return new Set(rows.map((r) => r.g));
}

/** Ingests a file under a fresh replay tag (its own hosts and GUIDs) and waits for every stage. */
async function ingestReplayed(file: string, name = path.basename(file)) {
  const tag = `a${randomBytes(3).toString('hex')}`;
  const { uploadId } = await ingester.ingestFile(file, { name, replay: tag });
  const [p] = await ingester.waitFor([uploadId], { timeoutMs: 120_000 });
  return { p: p!, tag };
}

describe('pipeline end to end', () => {
  it('lands a real dev set: one Process node per created ProcessGuid, findings from Sigma', async () => {
    const file = path.join(DATA, 'sysmon-json/psh_lsass_memory_dump_comsvcs.jsonl');
    const { p, tag } = await ingestReplayed(file);
    expect(p.failed).toBe(0);
    expect(Object.values(p.records.rejected).reduce((a, b) => a + b, 0)).toBe(0);
    expect(p.records.read).toBe(184);

    const expected = await expectedProcesses(file, tag);
    const hosts = [...expected.hosts];
    const guids = await processGuids(hosts);
    expect(guids).toEqual(expected.guids);
    // comsvcs.dll MiniDump against lsass is what SigmaHQ's process_creation rules exist for.
    expect(p.findings).toBeGreaterThan(0);
    const risks = await gateway.query<{ n: number }>(
      'risks-of-hosts',
      `MATCH (a:Asset)<-[:RUNS_ON]-(p:Process)-[:HAS_RISK]->(r:Risk) WHERE a.key IN $hosts RETURN count(r) AS n`,
      { hosts },
    );
    expect(risks[0]!.n).toBeGreaterThan(0);
  });

  it("puts the Sigma hits of PowerShell's own logs on the PowerShell process that wrote them", async () => {
    // Empire's UAC bypass: its PowerShell/Operational 4103 and 4104 events name their writer's pid (1376,
    // 3936, 7820), and Sysmon saw each of those pids as a powershell.exe process at the time.
    const { p, tag } = await ingestReplayed(path.join(DATA, 'sysmon-json/empire_uac_shellapi_fodhelper.jsonl'));
    expect(p.failed).toBe(0);
    const asset = `Asset:${replayHost('WORKSTATION5', tag).toUpperCase()}`;
    const rows = await gateway.query<{ kind: string; guid: string | null; image: string | null; n: number }>(
      'powershell-risks',
      `MATCH (a:Asset {key: $asset})
       MATCH (n)-[:HAS_RISK]->(r:Risk) WHERE (n = a OR (n:Process AND (n)-[:RUNS_ON]->(a))) AND r.detection IN $ids
       RETURN CASE WHEN n:Asset THEN 'Asset' ELSE 'Process' END AS kind, n.process_guid AS guid, n.image AS image,
              count(r) AS n`,
      { asset, ids: psRules.map((id) => `sigma:${id}`) },
    );
    // Every one of those hits is on a process, none on the host; among them the two launchers of the truth.
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.filter((r) => r.kind === 'Asset')).toEqual([]);
    for (const r of rows) expect(r.image, String(r.guid)).toMatch(/\\powershell\.exe$/i);
    const guids = new Set(rows.map((r) => r.guid));
    for (const g of ['3DDC5665-ED08-5F51-F302-000000000500', '3DDC5665-ED06-5F51-F102-000000000500'])
      expect(guids.has(replayGuid(g, tag)), g).toBe(true);
  });

  it('puts the Sigma hits of Security object access on the process that asked for the handle', async () => {
    // An analyst dumps lsass with Task Manager over RDP: Security 4656/4663 name Taskmgr.exe (pid 0x270),
    // which Sysmon saw start; SigmaHQ's LSASS-access rules match those events.
    const { p, tag } = await ingestReplayed(path.join(DATA, 'sysmon-json/rdp_interactive_taskmanager_lsass_dump.jsonl'));
    expect(p.failed).toBe(0);
    const assets = ['WORKSTATION5', 'WORKSTATION6', 'MORDORDC'].map((h) => `Asset:${replayHost(h, tag).toUpperCase()}`);
    const rows = await gateway.query<{ kind: string; guid: string | null }>(
      'lsass-access-risks',
      `MATCH (a:Asset) WHERE a.key IN $assets
       MATCH (n)-[:HAS_RISK]->(r:Risk) WHERE (n = a OR (n:Process AND (n)-[:RUNS_ON]->(a))) AND r.detection IN $ids
       RETURN DISTINCT CASE WHEN n:Asset THEN 'Asset' ELSE 'Process' END AS kind, n.process_guid AS guid`,
      { assets, ids: lsassRules.map((id) => `sigma:${id}`) },
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => `${r.kind} ${r.guid}`))).toEqual(
      new Set([`Process ${replayGuid('B34BC01C-B7F3-5F69-DF02-000000000900', tag)}`]),
    );

    // Its 4634 logoffs name the session that ended (TargetLogonId): SigmaHQ's "User Logoff Event" sits on
    // that logon session, on its host, and never on the host itself.
    const logoff = await gateway.query<{ kind: string; key: string; host: string | null; sources: string[] | null }>(
      'logoff-risks',
      `MATCH (n)-[:HAS_RISK]->(r:Risk {detection: 'sigma:0badd08f-c6a3-4630-90d3-6875cca440be'})
       WHERE (n:Asset AND n.key IN $assets) OR (n:LogonSession AND n.host IN $hosts)
       RETURN labels(n)[0] AS kind, n.key AS key, n.host AS host, n.sources AS sources`,
      { assets, hosts: assets.map((a) => a.slice('Asset:'.length)) },
    );
    expect(logoff.length).toBeGreaterThan(0);
    for (const r of logoff) {
      expect(r.kind).toBe('LogonSession');
      expect(r.key.startsWith(`LogonSession:${r.host}:0x`)).toBe(true);
      expect(r.sources).toEqual(['rdp_interactive_taskmanager_lsass_dump.jsonl']);
    }
  });

  it('keeps every good record when 1,000 malformed lines are mixed in, each rejected with its reason', async () => {
    const source = path.join(DATA, 'sysmon-json/cmd_lsass_memory_dumpert_syscalls.jsonl');
    const goodLines = fs.readFileSync(source, 'utf8').split('\n').filter(Boolean);
    const bads = [
      '{"EventID": 1, "Hostname": "TRUNC", "UtcTime": "2020-1',
      '\u0000\u0001\u0002\u00ff binary',
      '{"EventID": "one", "Hostname": "X", "UtcTime": "2020-10-18 19:50:22.123"}',
      '[1,2,3',
      '{"EventID": 1}',
    ];
    const mixed: string[] = [];
    let b = 0;
    for (let i = 0; i < goodLines.length; i++) {
      mixed.push(goodLines[i]!);
      const n = i === goodLines.length - 1 ? 1000 - b : Math.floor(1000 / goodLines.length);
      for (let j = 0; j < n && b < 1000; j++, b++) mixed.push(bads[b % bads.length]!);
    }
    const file = path.join(tmp, 'mixed.jsonl');
    fs.writeFileSync(file, `${mixed.join('\n')}\n`);
    const tag = `m${randomBytes(3).toString('hex')}`;
    const { uploadId } = await ingester.ingestFile(file, { name: 'mixed.jsonl', replay: tag });
    const [p] = await ingester.waitFor([uploadId], { timeoutMs: 120_000 });
    const rejectedTotal = Object.values(p!.records.rejected).reduce((a, c) => a + c, 0);
    expect(rejectedTotal).toBe(1000);
    expect(p!.records.read).toBe(goodLines.length + 1000);
    const rejected = await ingester.uploads.rejected(uploadId, 2000);
    expect(rejected.length).toBeGreaterThan(0);
    for (const r of rejected) expect(r.reason).not.toBe('');

    const expected = await expectedProcesses(source, tag);
    expect(await processGuids([...expected.hosts])).toEqual(expected.guids);
  });

  it('yields an identical graph when the same file is ingested twice', async () => {
    const file = path.join(DATA, 'sysmon-json/cmd_psexec_lsa_secrets_dump.jsonl');
    const tag = `t${randomBytes(3).toString('hex')}`;
    const first = await ingester.ingestFile(file, { name: 'once', replay: tag });
    await ingester.waitFor([first.uploadId], { timeoutMs: 120_000 });
    const { hosts } = await expectedProcesses(file, tag);
    const before = await graphOf([...hosts]);
    const counts1 = await gateway.query<{ s: number }>(
      'edge-count-sum',
      'MATCH (a:Asset)<-[:RUNS_ON]-(p:Process)-[r]->() WHERE a.key IN $hosts RETURN sum(r.count) AS s',
      { hosts: [...hosts] },
    );
    const second = await ingester.ingestFile(file, { name: 'twice', replay: tag });
    await ingester.waitFor([second.uploadId], { timeoutMs: 120_000 });
    const after = await graphOf([...hosts]);
    const counts2 = await gateway.query<{ s: number }>(
      'edge-count-sum',
      'MATCH (a:Asset)<-[:RUNS_ON]-(p:Process)-[r]->() WHERE a.key IN $hosts RETURN sum(r.count) AS s',
      { hosts: [...hosts] },
    );
    expect(before.procs).toBeGreaterThan(0);
    expect(after).toEqual(before);
    expect(counts2[0]!.s).toBe(counts1[0]!.s);
  });
});
