/**
 * The host against a real Neo4j: a pattern completed by a later update is found when that update
 * changes only part of it; keys of unrelated nodes find nothing; environment rarity counts what the
 * graph holds; every analyzer's query is valid Cypher for Neo4j; the row limit never hides a match; the
 * anchor prefilter finds what the analyzers find without it.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hit } from '../../domain/detection';
import type { NormalizedEvent } from '../../domain/event';
import { createLogger } from '../../lib/log';
import type { GraphGateway } from '../../lib/neo4j';
import { MemorySessionStore } from '../identity';
import { ensureGraphSchema } from '../merge';
import { gatewayFromEnv } from '../merge/test-support';
import { createAnalyzerHost, loadAnalyzers } from './host';
import { defineAnalyzer, match } from './sdk';
import { GraphRarity } from './sdk/rarity';
import { ingestEvents, keysOfGuids, namespaced, newTag, readEvents } from './test-support';

const DATA = path.resolve(import.meta.dirname, '../../../shared/data/sysmon-json');

let gateway: GraphGateway;
const log = createLogger({ test: 'analyzer-host-int' }, 'error');

beforeAll(async () => {
  gateway = gatewayFromEnv();
  await ensureGraphSchema(gateway);
});

afterAll(async () => {
  await gateway?.close();
});

let seq = 0;
/** A Sysmon process creation on `host` (fields as the parsers normalise them). */
function creation(
  host: string,
  t: number,
  guid: string,
  image: string,
  parentGuid: string,
  parentImage: string,
  commandLine = image,
): NormalizedEvent {
  return {
    source: 'sysmon',
    channel: 'Microsoft-Windows-Sysmon/Operational',
    eventId: 1,
    host,
    time: t,
    recordId: ++seq,
    fields: {
      ProcessGuid: guid,
      ProcessId: String(1000 + seq),
      Image: image,
      CommandLine: commandLine,
      ParentProcessGuid: parentGuid,
      ParentProcessId: String(500 + seq),
      ParentImage: parentImage,
      User: 'LAB\\alice',
      IntegrityLevel: 'Medium',
    },
  };
}

function guid(tag: string, n: number): string {
  const hex = Buffer.from(`${tag}${n}`).toString('hex').toUpperCase().padEnd(32, '0').slice(0, 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

const WORD = 'C:\\Program Files\\Microsoft Office\\root\\Office16\\WINWORD.EXE';
const CMD = 'C:\\Windows\\System32\\cmd.exe';

/** A host running only the built-in analyzer `id`. */
async function builtinHost(id: string) {
  const { analyzers } = await loadAnalyzers(undefined);
  return createAnalyzerHost(
    gateway,
    analyzers.filter((a) => a.id === id),
    log,
  );
}

describe('analyzer host on a real graph', () => {
  it('finds a pattern completed by a later update that changes only the new child', async () => {
    const host = await builtinHost('office-child');
    const tag = newTag();
    const hostName = `WS-${tag}`;
    const word = guid(tag, 1);
    const shell = guid(tag, 2);
    const store = new MemorySessionStore();
    const t0 = Date.UTC(2024, 0, 1);
    // Update 1: Word starts. Nothing to find yet.
    const first = await ingestEvents(
      gateway,
      [creation(hostName, t0, word, WORD, guid(tag, 0), 'C:\\Windows\\explorer.exe')],
      { store },
    );
    expect(await host.run(first)).toEqual([]);
    // Update 2: Word starts cmd. Only the new process (and its parent reference) is in this update.
    const second = await ingestEvents(
      gateway,
      [creation(hostName, t0 + 60_000, shell, CMD, word, WORD, 'cmd.exe /c calc')],
      { store },
    );
    const keys = await keysOfGuids(gateway, [word, shell]);
    const hits = await host.run(second);
    expect(hits).toHaveLength(1);
    expect(hits[0]).toMatchObject({
      detection: 'analyzer:office-child',
      source: 'analyzer',
      riskyNodes: [keys.get(shell), keys.get(word)],
      time: t0 + 60_000,
    });
    expect(hits[0]!.summary).toContain('calc');
    // Cost follows the update: keys of other nodes find nothing.
    expect(await host.run([`Process:${guid(tag, 99)}`, `File:${hostName}:c:\\nothing`])).toEqual([]);
    // Anchored on the child alone: re-running with only Word's key does not rediscover the pair.
    expect(await host.run([keys.get(word)!])).toEqual([]);
  });

  it('counts parent/child pairs and image -> destination across the graph', async () => {
    const tag = newTag();
    const parentImage = `C:\\Tools\\${tag}-launcher.exe`;
    const t0 = Date.UTC(2024, 0, 2);
    const events: NormalizedEvent[] = [];
    for (const [i, h] of [
      ['A', 1],
      ['B', 2],
      ['C', 3],
    ] as const) {
      events.push(
        creation(
          `WS${h}-${tag}`,
          t0 + i.charCodeAt(0),
          guid(tag, 10 + h),
          CMD,
          guid(tag, 20 + h),
          parentImage,
        ),
      );
    }
    events.push(creation(`WS1-${tag}`, t0 + 5, guid(tag, 30), CMD, guid(tag, 21), parentImage));
    // A connection from a uniquely named tool to a unique address.
    const ip = `100.${64 + (tag.charCodeAt(1) % 60)}.${tag.charCodeAt(2)}.${tag.charCodeAt(3)}`;
    events.push({
      source: 'sysmon',
      channel: 'Microsoft-Windows-Sysmon/Operational',
      eventId: 3,
      host: `WS1-${tag}`,
      time: t0 + 10,
      fields: {
        ProcessGuid: guid(tag, 40),
        ProcessId: '4444',
        Image: `C:\\Tools\\${tag}-beacon.exe`,
        DestinationIp: ip,
        DestinationPort: '8443',
        Protocol: 'tcp',
        Initiated: 'true',
        SourceIp: '10.1.1.1',
        SourcePort: '50000',
      },
    });
    await ingestEvents(gateway, events);
    const rarity = new GraphRarity(gateway, { ttlMs: 0 });
    expect(await rarity.parentChild(parentImage, 'C:\\Windows\\System32\\CMD.EXE')).toEqual({
      count: 4,
      hosts: 3,
    });
    expect(await rarity.parentChild(parentImage, 'never.exe')).toEqual({ count: 0, hosts: 0 });
    const [ipRow] = await gateway.query<{ key: string }>(
      'test.ip-key',
      'MATCH (i:IpAddress {ip: $ip}) RETURN i.key AS key',
      { ip },
    );
    const [beacon, other] = await Promise.all([
      rarity.imageToIp(`${tag}-beacon.exe`, ipRow!.key),
      rarity.imageToIp('notepad.exe', ipRow!.key),
    ]);
    expect(beacon).toEqual({ count: 1, hosts: 1 });
    expect(other).toEqual({ count: 0, hosts: 0 });
  });

  it('does not let the row limit hide a match: a cut query is run again in halves', async () => {
    const tag = newTag();
    const hostName = `WS-${tag}`;
    const store = new MemorySessionStore();
    const t0 = Date.UTC(2024, 0, 2);
    // 40 children of one parent in one update; the one that matters is created last. With a limit of 5 a
    // single query returns 5 of the 40 rows, and which 5 is up to Neo4j.
    const parent = guid(tag, 0);
    const events = Array.from({ length: 40 }, (_, i) =>
      creation(
        hostName,
        t0 + i,
        guid(tag, i + 1),
        i === 39 ? 'C:\\Users\\bob\\needle.exe' : CMD,
        parent,
        'C:\\Windows\\explorer.exe',
      ),
    );
    const changed = await ingestEvents(gateway, events, { store });
    const seen: string[] = [];
    const needle = defineAnalyzer({
      id: 'needle-child',
      title: 'needle',
      techniques: [],
      score: 50,
      limit: 5,
      query: match('Process', 'child').parent('child', 'parent').anchor('child'),
      hits(m) {
        seen.push(m.child.key);
        return /needle\.exe$/.test(String(m.child.image)) ? { risky: [m.child], summary: 'needle' } : null;
      },
    });
    const host = createAnalyzerHost(gateway, [needle], log);
    const hits = await host.run(changed);
    const keys = await keysOfGuids(gateway, [guid(tag, 40)]);
    expect(hits.map((h) => h.riskyNodes)).toEqual([[keys.get(guid(tag, 40))]]);
    // Every child was evaluated once, none twice, and nothing was reported cut.
    expect(new Set(seen).size).toBe(40);
    expect(seen).toHaveLength(40);
    const stats = host.lastRun.stats[0]!;
    expect(stats.truncated).toBe(0);
    expect(stats.queries).toBeGreaterThan(8);

    // One anchor node whose own matches reach the limit is run again with a larger one: the parent's 40
    // children are all seen with a limit of 5 (50 for one node) ...
    const childrenOf = (limit: number) =>
      defineAnalyzer({
        id: `children-of-${limit}`,
        title: 'children',
        techniques: [],
        score: 10,
        limit,
        query: match('Process', 'parent').child('parent', 'child').anchor('parent'),
        hits: () => null,
      });
    const parentKey = (await keysOfGuids(gateway, [parent])).get(parent)!;
    const five = createAnalyzerHost(gateway, [childrenOf(5)], log);
    await five.run([parentKey]);
    expect(five.lastRun.stats[0]).toMatchObject({ truncated: 0, rows: 40, queries: 2 });
    // ... and stay cut beyond that, which is counted and names the node: 20 of 40 with a limit of 2.
    const two = createAnalyzerHost(gateway, [childrenOf(2)], log);
    await two.run([parentKey]);
    expect(two.lastRun.stats[0]).toMatchObject({
      truncated: 1,
      firstTruncated: parentKey,
      rows: 20,
      queries: 2,
    });
  });

  it('ctx.expand runs only the follow-up queries an analyzer declared (so the plan check sees them all)', async () => {
    const tag = newTag();
    const host = `WS-${tag}`;
    const t0 = Date.UTC(2024, 0, 4, 10);
    const changed = await ingestEvents(gateway, [creation(host, t0, guid(tag, 1), CMD, guid(tag, 0), WORD)], {
      store: new MemorySessionStore(),
    });
    const parentOf = match('Process', 'child').parent('child', 'parent').anchor('child');
    const withExpansion = (declared: boolean) =>
      defineAnalyzer({
        id: declared ? 'expands-declared' : 'expands-undeclared',
        title: 'expands',
        techniques: [],
        score: 20,
        query: match('Process', 'proc', { image: CMD }),
        ...(declared ? { expansions: [parentOf] } : {}),
        async hits(m, ctx) {
          const rows = await ctx.expand(parentOf, [m.proc.key]);
          return { risky: [m.proc], context: rows.map((r) => r.parent), summary: `parents: ${rows.length}` };
        },
      });
    const ok = createAnalyzerHost(gateway, [withExpansion(true)], log);
    const hits = await ok.run(changed);
    expect(hits.map((h) => h.summary)).toEqual(['parents: 1']);
    expect(ok.lastRun.stats[0]).toMatchObject({ rowErrors: 0, queries: 2 });

    const refused = createAnalyzerHost(gateway, [withExpansion(false)], log);
    expect(await refused.run(changed)).toEqual([]);
    expect(refused.lastRun.stats[0]).toMatchObject({ rowErrors: 1, queries: 1 });
    expect(refused.lastRun.stats[0]!.firstError).toMatch(
      /not one of analyzer expands-undeclared's declared expansions/,
    );
    // a declared expansion is compiled with the analyzer
    expect(withExpansion(true).expansions.map((e) => e.compiled.anchors.map((a) => a.kind))).toEqual([
      ['Process'],
    ]);
  });

  it('process-tampering-access: the same verdict whether an access to a new process comes before its creation or after', async () => {
    const host = await builtinHost('process-tampering-access');
    const tag = newTag();
    const hostName = `WS-${tag}`;
    const store = new MemorySessionStore();
    const t0 = Date.UTC(2024, 0, 3, 10);
    /** A Sysmon GUID whose start-time field says `ms`. */
    const born = (n: number, ms: number) => {
      const secs = Math.floor(ms / 1000)
        .toString(16)
        .toUpperCase()
        .padStart(8, '0');
      return `${guid(tag, n).slice(0, 8)}-${secs.slice(4)}-${secs.slice(0, 4)}-${guid(tag, n).slice(19)}`;
    };
    const PS = 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe';
    const WHOAMI = 'C:\\Windows\\System32\\whoami.exe';
    const access = (src: string, srcImage: string, target: string, t: number): NormalizedEvent => ({
      source: 'sysmon',
      channel: 'Microsoft-Windows-Sysmon/Operational',
      eventId: 10,
      host: hostName,
      time: t,
      recordId: ++seq,
      fields: {
        SourceProcessGuid: src,
        SourceProcessId: '4000',
        SourceImage: srcImage,
        TargetProcessGuid: target,
        TargetProcessId: String(5000 + seq),
        TargetImage: WHOAMI,
        GrantedAccess: '0x1FFFFF',
        // PowerShell's own JIT code shows as UNKNOWN frames.
        CallTrace:
          'C:\\Windows\\SYSTEM32\\ntdll.dll+9d8e4|C:\\Windows\\System32\\KERNELBASE.dll+5f2ea|UNKNOWN(00007FF8A1B2C3D4)',
      },
    });
    const ps = born(1, t0);
    const child = born(2, t0 + 60_000);
    const stranger = born(3, t0);
    const other = born(4, t0 + 90_000);
    await ingestEvents(gateway, [creation(hostName, t0, ps, PS, guid(tag, 0), 'C:\\Windows\\explorer.exe')], {
      store,
    });
    await ingestEvents(
      gateway,
      [
        creation(
          hostName,
          t0,
          stranger,
          'C:\\Users\\bob\\AppData\\Local\\Temp\\x.exe',
          guid(tag, 0),
          'C:\\Windows\\explorer.exe',
        ),
      ],
      { store },
    );
    const run = async (events: NormalizedEvent[]) => {
      const hits = await host.run(await ingestEvents(gateway, events, { store }));
      expect(host.lastRun.failed).toEqual([]);
      return hits;
    };
    // PowerShell opens the child it is starting, logged before the child's creation: nothing yet ...
    expect(await run([access(ps, PS, child, t0 + 60_400)])).toEqual([]);
    // ... and nothing once the creation shows it is PowerShell's own child (as when both come together).
    expect(await run([creation(hostName, t0 + 60_000, child, WHOAMI, ps, PS)])).toEqual([]);
    // A process from a user folder opening someone else's new process from memory: found when the
    // target's creation arrives, though its own access came first.
    expect(
      await run([access(stranger, 'C:\\Users\\bob\\AppData\\Local\\Temp\\x.exe', other, t0 + 90_300)]),
    ).toEqual([]);
    const hits = await run([
      creation(hostName, t0 + 90_000, other, WHOAMI, guid(tag, 0), 'C:\\Windows\\explorer.exe'),
    ]);
    const keys = await keysOfGuids(gateway, [stranger]);
    expect(hits.map((h) => [h.detection, h.riskyNodes[0]])).toEqual([
      ['analyzer:process-tampering-access', keys.get(stranger)],
    ]);
  });

  it('runs every built-in query on Neo4j without error', async () => {
    const { analyzers } = await loadAnalyzers(undefined);
    const host = createAnalyzerHost(gateway, analyzers, log);
    const kinds = ['Process', 'File', 'RegistryKey', 'NetworkEndpoint', 'Asset'];
    await host.run(kinds.map((k) => `${k}:no-such-node-${newTag()}`));
    expect(host.lastRun.failed).toEqual([]);
    expect(host.lastRun.stats.length).toBe(analyzers.length);
  });

  it('the anchor prefilter changes which queries run, never what they find (real recordings, batch by batch)', async () => {
    const { analyzers } = await loadAnalyzers(undefined);
    const rarity = new GraphRarity(gateway, { ttlMs: 0 });
    const on = createAnalyzerHost(gateway, analyzers, log, { rarity });
    const off = createAnalyzerHost(gateway, analyzers, log, { rarity, prefilter: false });
    const tag = newTag();
    const events = (
      await Promise.all(
        ['cmd_psexec_lsa_secrets_dump.jsonl', 'empire_uac_shellapi_fodhelper.jsonl'].map((f) =>
          readEvents(path.join(DATA, f)),
        ),
      )
    )
      .flat()
      .map((e) => namespaced(e, tag));
    const shape = (hits: readonly Hit[]) =>
      hits.map((h) => JSON.stringify([h.detection, h.riskyNodes, h.contextNodes, h.summary, h.score])).sort();
    let found = 0;
    let skipped = 0;
    let queriesOn = 0;
    let queriesOff = 0;
    await ingestEvents(gateway, events, {
      batchSize: 1000,
      onBatch: async (keys) => {
        const withPrefilter = shape(await on.run(keys));
        const without = shape(await off.run(keys));
        expect(withPrefilter).toEqual(without);
        expect(on.lastRun.failed).toEqual([]);
        found += without.length;
        skipped += on.lastRun.skipped.length;
        queriesOn += on.lastRun.stats.reduce((n, st) => n + st.queries, 0);
        queriesOff += off.lastRun.stats.reduce((n, st) => n + st.queries, 0);
      },
    });
    expect(found).toBeGreaterThan(5);
    expect(skipped).toBeGreaterThan(0);
    expect(queriesOn).toBeLessThan(queriesOff);
  });
});
