/**
 * Parser -> builder -> identity (Redis) -> merge (Neo4j) on real and hand-built telemetry. Each run moves
 * its events into a namespace of its own (retag: host names and GUID machine parts carry a random tag)
 * and a Redis prefix of its own, and compares only what carries its tag.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NormalizedEvent } from '../../domain/event';
import type { GraphGateway } from '../../lib/neo4j';
import { buildEvent } from '../graph/build';
import { processProvisionalKey, processSessionKey } from '../graph/keys';
import { CMD_GUID, PSEXEC_GUID, T0, psexec4688, psexecCreate, security, sysmon } from '../graph/test-events';
import { RedisSessionStore } from '../identity/redis-store';
import { resolveIdentities } from '../identity/resolve';
import { normalizeRecord } from '../parsers';
import { MemoryGraph } from './memory-graph';
import { gatewayFromEnv, newTag, readTagged, redisFromEnv, retag, tagged } from './test-support';
import { ensureGraphSchema, mergeSubgraphs } from './write';
import { seededShuffle } from '../../test/seeded-shuffle';

const DATA = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/data/sysmon-json');

let gateway: GraphGateway;
let redis: Redis;

beforeAll(async () => {
  gateway = gatewayFromEnv();
  redis = redisFromEnv('pipeline-int');
  await ensureGraphSchema(gateway);
});

afterAll(async () => {
  await redis.quit();
  await gateway.close();
});

function loadDevSet(file: string): NormalizedEvent[] {
  const out: NormalizedEvent[] = [];
  for (const line of readFileSync(path.join(DATA, file), 'utf8').split('\n')) {
    if (!line.trim()) continue;
    const r = normalizeRecord(JSON.parse(line));
    if (r.kind === 'event') out.push(r.event);
  }
  return out;
}


/** Events through identity and merge in chunks, as the identify and merge stages do; returns the reference graph too. */
async function ingest(
  tag: string,
  events: readonly NormalizedEvent[],
  chunk: number,
  origin = 'dev.jsonl',
): Promise<MemoryGraph> {
  const store = new RedisSessionStore(redis, `t-${tag}-${randomBytes(3).toString('hex')}:id`);
  const mem = new MemoryGraph();
  for (let i = 0, n = 0; i < events.length; i += chunk, n++) {
    const facts = events.slice(i, i + chunk).map((e) => buildEvent(retag(e, tag), origin));
    const r = await resolveIdentities(facts, store);
    const batch = { id: `${tag}-${n}`, subgraph: r.subgraph, aliases: r.aliases, events: facts.length };
    await mergeSubgraphs(gateway, [batch]);
    mem.apply([batch]);
  }
  return mem;
}

describe('dev set through identity and merge', () => {
  it('cmd_psexec_lsa_secrets_dump in shuffled order gives the same graph as in order', async () => {
    const events = loadDevSet('cmd_psexec_lsa_secrets_dump.jsonl');
    expect(events.length).toBeGreaterThan(200);
    const ordered = newTag();
    const shuffled = newTag();
    const reshuffled = newTag();
    const memOrdered = await ingest(ordered, events, 50);
    await ingest(shuffled, seededShuffle(events, 42), 50);
    await ingest(reshuffled, seededShuffle(events, 7), 17);

    const a = await readTagged(gateway, ordered, 'TAG');
    const b = await readTagged(gateway, shuffled, 'TAG');
    const c = await readTagged(gateway, reshuffled, 'TAG');
    expect(a.nodes.length).toBeGreaterThan(50);
    expect(a.edges.length).toBeGreaterThan(100);
    expect(b).toEqual(a);
    expect(c).toEqual(a);
    // the database holds what the rules say it should
    expect(tagged(memOrdered.snapshot(), ordered, 'TAG')).toEqual(a);

    // the attack is there: PsExec -> PSEXESVC -> reg save of the LSA secrets, one node per process
    const procs = a.nodes.filter((n) => n.kind === 'Process');
    const reg = procs.find((p) => String(p.props.command_line ?? '').includes('reg" save HKLM\\security'))!;
    expect(reg.key).toMatch(/^Process:TAG-/);
    const parentOf = a.edges.filter((e) => e.kind === 'PARENT_OF');
    const svc = parentOf.find((e) => e.to === reg.key)!.from;
    expect(procs.find((p) => p.key === svc)!.props.image).toMatch(/PSEXESVC\.exe$/i);
    const psexec = procs.find(
      (p) => String(p.props.image ?? '').endsWith('PsExec.exe') && p.key.startsWith('Process:TAG-'),
    )!;
    expect(a.edges.some((e) => e.kind === 'CONNECTED_PIPE' || e.kind === 'CREATED_PIPE')).toBe(true);
    expect(psexec.props.sources).toEqual(['dev.jsonl']);
  });
});

describe('identity cases end correct in Neo4j', () => {
  const S = 1000;
  const proc4688 = (pid: number, time: number, image: string) =>
    security(
      4688,
      { ProcessId: String(pid), ParentProcessId: '4', Image: image, CommandLine: image },
      { time },
    );
  const dns = (pid: number, time: number, name: string) =>
    sysmon(22, { ProcessId: String(pid), Image: '<unknown process>', QueryName: name }, { time });

  it('pid reuse, late creation, Sysmon + 4688, parent by pid: one call per event', async () => {
    const tag = newTag();
    const host = `T${tag}-WORKSTATION5`;
    const events = [
      dns(300, T0 + 5 * S, 'early.example'), // before its creation
      proc4688(300, T0 + 2 * S, 'C:\\late.exe'), // the creation, 3 s earlier
      proc4688(100, T0, 'C:\\a.exe'),
      security(4689, { ProcessId: '0x64' }, { time: T0 + 10 * S }),
      proc4688(100, T0 + 60 * S, 'C:\\b.exe'), // pid 100 reused
      dns(100, T0 + 70 * S, 'second.example'),
      psexec4688({ time: T0 + 3 * S }), // Security first ...
      psexecCreate({ time: T0 }), // ... then Sysmon, 3 s apart
      sysmon(
        7,
        { ProcessGuid: CMD_GUID, ProcessId: '2128', ImageLoaded: 'C:\\x.dll' },
        { time: T0 - 60 * S },
      ),
    ];
    await ingest(tag, events, 1, 'cases');
    const g = await readTagged(gateway, tag);
    const procs = g.nodes
      .filter((n) => n.kind === 'Process')
      .map((n) => n.key)
      .sort();
    const guid = (x: string) => `Process:${tag}${x.slice(8)}`;
    expect(procs).toEqual(
      [
        processSessionKey(host.toUpperCase(), 300, T0 + 2 * S),
        processSessionKey(host.toUpperCase(), 100, T0),
        processSessionKey(host.toUpperCase(), 100, T0 + 60 * S),
        processProvisionalKey(host.toUpperCase(), 4, T0), // the parent of the 4688s, pid 4 only
        guid(PSEXEC_GUID),
        guid(CMD_GUID),
      ].sort(),
    );
    const edgesOf = (kind: string) => g.edges.filter((e) => e.kind === kind);
    expect(
      edgesOf('RESOLVED')
        .map((e) => [e.from, e.to])
        .sort(),
    ).toEqual(
      [
        [processSessionKey(host.toUpperCase(), 300, T0 + 2 * S), 'DomainName:early.example'],
        [processSessionKey(host.toUpperCase(), 100, T0 + 60 * S), 'DomainName:second.example'],
      ].sort(),
    );
    const ps = g.nodes.find((n) => n.key === guid(PSEXEC_GUID))!;
    expect(ps.props).toMatchObject({
      create_time: T0,
      first_seen: T0,
      last_seen: T0 + 3 * S,
      provisional: 0,
      pid: 7256,
      process_guid: `${tag}${PSEXEC_GUID.slice(8)}`,
    });
    expect(edgesOf('PARENT_OF').filter((e) => e.to === guid(PSEXEC_GUID))).toEqual([
      expect.objectContaining({
        from: guid(CMD_GUID),
        props: { count: 2, first_seen: T0, last_seen: T0 + 3 * S },
      }),
    ]);
    expect(
      g.nodes.find((n) => n.key === processSessionKey(host.toUpperCase(), 100, T0))!.props,
    ).toMatchObject({ image: 'C:\\a.exe', terminate_time: T0 + 10 * S });
    // nothing provisional survived where a creation came later
    expect(procs.filter((k) => k.includes(':300:~'))).toEqual([]);
  });
});
