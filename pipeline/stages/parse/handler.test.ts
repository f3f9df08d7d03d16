/**
 * parseChunk and shipper clock offsets, on hand-made records and on the shared dev set read in place: a
 * Security 4688 and the Sysmon 1 of the same process end as one node once the chunk's Sysmon records
 * have shown the shipper's offset, whatever the order of the records and however they are cut.
 */
import { createReadStream } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { NormalizedEvent } from '../../../domain/event';
import { chunkId } from '../../../domain/stages';
import { cutUpload } from '../../ingest';
import { buildEvent } from '../../graph/build';
import { isSessionProcessKey } from '../../graph/keys';
import { resolveIdentities } from '../../identity/resolve';
import { MemorySessionStore } from '../../identity/store';
import { MemoryGraph } from '../../merge/memory-graph';
import { readRecords } from '../../parsers';
import { SHARED_DATA } from '../../parsers/test-support';
import { EventsPayload, type RawChunk, type RawItem } from '../../payloads';
import { parseChunk } from './handler';
import { replayHost } from './replay';
import { seededShuffle } from '../../../test/seeded-shuffle';

const UPLOAD = '1700000000000-00000000-0000-4000-8000-000000000000';
const SYSMON = 'Microsoft-Windows-Sysmon/Operational';
const H = 3600_000;

function chunkOf(items: RawItem[], n = 0, replay?: string): RawChunk {
  return {
    chunk: chunkId(UPLOAD, n),
    source: 'test',
    items,
    digest: '0'.repeat(64),
    ...(replay ? { replay } : {}),
  };
}

const line = (n: number, record: Record<string, unknown>): RawItem => ({
  n,
  f: 'jsonl',
  t: JSON.stringify(record),
});

/** The records of issue #4: a 4688 ahead of the Sysmon records (as in the file), TimeCreated 19 h behind. */
function issueRecords(host = 'IT01.pandalab.com'): RawItem[] {
  const items: RawItem[] = [
    line(1, {
      Channel: 'Security',
      Hostname: host,
      EventID: 4688,
      TimeCreated: '2023-08-27T03:04:14.955Z',
      '@timestamp': '2023-08-27T03:04:14.955Z',
      NewProcessId: '0x49c',
      NewProcessName: 'C:\\Windows\\System32\\wermgr.exe',
      ProcessId: '0x1464',
      ParentProcessName: 'C:\\Windows\\System32\\SearchIndexer.exe',
    }),
    line(2, {
      Channel: 'Microsoft-Windows-PowerShell/Operational',
      Hostname: host,
      EventID: 4104,
      TimeCreated: '2023-08-27T03:05:00.000Z',
      ScriptBlockText: 'Get-Process',
    }),
    line(3, {
      Channel: SYSMON,
      Hostname: host,
      EventID: 1,
      TimeCreated: '2023-08-27T03:04:14.958Z',
      UtcTime: '2023-08-27 22:04:14.955',
      ProcessGuid: '{716d09e4-c85e-64eb-3503-000000000600}',
      ProcessId: '1180',
      Image: 'C:\\Windows\\System32\\wermgr.exe',
      ParentProcessId: '5220',
      ParentImage: 'C:\\Windows\\System32\\SearchIndexer.exe',
    }),
  ];
  for (let i = 0; i < 4; i++) {
    items.push(
      line(4 + i, {
        Channel: SYSMON,
        Hostname: host,
        EventID: 10,
        TimeCreated: `2023-08-27T03:04:2${i}.010Z`,
        UtcTime: `2023-08-27 22:04:2${i}.002`,
        SourceProcessGUID: '{716d09e4-c85e-64eb-3503-000000000600}',
        SourceProcessId: '1180',
        TargetProcessId: '4',
      }),
    );
  }
  return items;
}

const process4688 = (events: NormalizedEvent[]) => events.find((e) => e.eventId === 4688)!;

describe('parseChunk: shipper clock offsets', () => {
  it("corrects a 4688 by the offset the chunk's Sysmon records show, keeping the raw time", () => {
    const { events, sigmaOnly, stats } = parseChunk(chunkOf(issueRecords()));
    const e = process4688(events);
    expect(e.time).toBe(Date.parse('2023-08-27T22:04:14.955Z'));
    expect(e.timeCorrection).toEqual({
      by: 'sysmon-utc',
      scope: 'chunk',
      rawTime: Date.parse('2023-08-27T03:04:14.955Z'),
      offsetMs: -19 * H,
    });
    // Sigma-only records of the host too; Sysmon records keep their UtcTime, unmarked
    expect(sigmaOnly[0]!.time).toBe(Date.parse('2023-08-27T22:05:00.000Z'));
    for (const s of events.filter((x) => x.source === 'sysmon'))
      expect(s).not.toHaveProperty('timeCorrection');
    expect(stats).toEqual({
      read: 7,
      accepted: 6,
      skipped: { 'Microsoft-Windows-PowerShell/Operational:4104': 1 },
      rejected: {},
    });
  });

  it('gives the same events whatever the order of the records', () => {
    const items = issueRecords();
    const byRecord = (events: NormalizedEvent[]) =>
      [...events].sort(
        (a, b) => (a.recordId ?? 0) - (b.recordId ?? 0) || a.time - b.time || a.eventId - b.eventId,
      );
    const expected = parseChunk(chunkOf(items));
    for (const seed of [1, 2, 3, 4, 5]) {
      const got = parseChunk(chunkOf(seededShuffle(items, seed)));
      expect(byRecord(got.events)).toEqual(byRecord(expected.events));
      expect(got.sigmaOnly).toEqual(expected.sigmaOnly);
    }
  });

  it('leaves a host alone when the chunk holds none of its Sysmon records, or too few', () => {
    const items = issueRecords();
    const securityOnly = parseChunk(chunkOf(items.slice(0, 2)));
    expect(process4688(securityOnly.events).time).toBe(Date.parse('2023-08-27T03:04:14.955Z'));
    expect(process4688(securityOnly.events)).not.toHaveProperty('timeCorrection');
    const twoSamples = parseChunk(chunkOf(items.slice(0, 4)));
    expect(process4688(twoSamples.events)).not.toHaveProperty('timeCorrection');
    // another host's Sysmon records say nothing about this one
    const other = parseChunk(chunkOf([...items.slice(0, 1), ...issueRecords('IT02.pandalab.com').slice(2)]));
    expect(process4688(other.events)).not.toHaveProperty('timeCorrection');
  });

  it('the correction survives the payload to identify (schema-checked between stages)', () => {
    const { events, sigmaOnly } = parseChunk(chunkOf(issueRecords()));
    const payload = EventsPayload.parse(
      JSON.parse(
        JSON.stringify({
          parts: [{ chunk: chunkId(UPLOAD, 0), digest: '0'.repeat(64), source: 'test', events, sigmaOnly }],
        }),
      ),
    );
    expect(process4688(payload.parts[0]!.events)).toEqual(process4688(events));
    expect(process4688(payload.parts[0]!.events).timeCorrection?.offsetMs).toBe(-19 * H);
  });

  it('corrects before a replay renames the host', () => {
    const { events } = parseChunk(chunkOf(issueRecords(), 0, 'r1'));
    const e = process4688(events);
    expect(e.host).toBe(replayHost('IT01.pandalab.com', 'r1'));
    expect(e.time).toBe(Date.parse('2023-08-27T22:04:14.955Z'));
  });
});

// ---- the shared dev set, read in place ---------------------------------------------------------------

async function rawItems(file: string): Promise<RawItem[]> {
  const input = createReadStream(file);
  const lines = createInterface({
    input: file.endsWith('.gz') ? input.pipe(createGunzip()) : input,
    crlfDelay: Infinity,
  });
  const out: RawItem[] = [];
  let n = 0;
  for await (const l of lines) if (l.trim()) out.push({ n: ++n, f: 'jsonl', t: l });
  return out;
}

/** Records cut into chunks of `size` (without upload offsets), through parse, build, identity and merge rules. */
async function ingest(
  items: readonly RawItem[],
  size: number,
): Promise<{ graph: MemoryGraph; corrected: number }> {
  const chunks: RawChunk[] = [];
  for (let i = 0, n = 0; i < items.length; i += size, n++) chunks.push(chunkOf(items.slice(i, i + size), n));
  return ingestChunks(chunks);
}

async function ingestChunks(chunks: readonly RawChunk[]): Promise<{ graph: MemoryGraph; corrected: number }> {
  const store = new MemorySessionStore();
  const graph = new MemoryGraph();
  let corrected = 0;
  for (const [n, chunk] of chunks.entries()) {
    const { events, sigmaOnly } = parseChunk(chunk);
    corrected += [...events, ...sigmaOnly].filter((e) => e.timeCorrection !== undefined).length;
    const r = await resolveIdentities(
      events.map((e) => buildEvent(e, 'dev')),
      store,
      { now: n + 1 },
    );
    graph.apply([{ id: `b${n}`, subgraph: r.subgraph, aliases: r.aliases }]);
  }
  return { graph, corrected };
}

/** The file cut by the ingester (pre-pass, upload offsets in every chunk). */
async function ingesterChunks(file: string, chunkRecords: number): Promise<RawChunk[]> {
  const chunks: RawChunk[] = [];
  for await (const c of cutUpload(() => readRecords(file), { uploadId: UPLOAD, source: 'dev', chunkRecords }))
    chunks.push(c);
  return chunks;
}

/** Created processes known only by (host, pid, time): 4688s that found no Sysmon twin. */
const createdWithoutGuid = (g: MemoryGraph) =>
  [...g.nodes.values()].filter(
    (n) => n.kind === 'Process' && isSessionProcessKey(n.key) && n.props.create_time !== undefined,
  );

describe('shared dev set: 4688 processes join their Sysmon twins', () => {
  it('cmd_psexec_lsa_secrets_dump (TimeCreated 4 h behind): one node per process, in any order and cut', async () => {
    const items = await rawItems(path.join(SHARED_DATA, 'sysmon-json/cmd_psexec_lsa_secrets_dump.jsonl'));
    const inOrder = await ingest(items, 2000);
    // its 43 Security and 2 System records, every one moved by 4 h
    expect(inOrder.corrected).toBe(45);
    expect(createdWithoutGuid(inOrder.graph)).toEqual([]);
    const procs = [...inOrder.graph.nodes.values()].filter((n) => n.kind === 'Process');
    expect(procs.filter((p) => String(p.props.image ?? '').endsWith('reg.exe')).length).toBeGreaterThan(0);
    for (const [seed, size] of [
      [42, 50],
      [7, 17],
    ] as const) {
      const other = await ingest(seededShuffle(items, seed), size);
      expect(other.graph.snapshot()).toEqual(inOrder.graph.snapshot());
    }
  });

  it('metasploit_out-minidump (19 h behind, 103 4688s): all join when Sysmon and Security records share chunks', async () => {
    const items = await rawItems(
      path.join(SHARED_DATA, 'sysmon-json/metasploit_out-minidump_lsass_memory_dump.jsonl.gz'),
    );
    expect(items).toHaveLength(40_568);
    // Records interleaved as a live shipper sends them are corrected by each chunk's own Sysmon records.
    const { graph, corrected } = await ingest(seededShuffle(items, 42), 2000);
    expect(corrected).toBe(40_568 - 34_741);
    expect(createdWithoutGuid(graph)).toEqual([]);
  });

  it('metasploit_out-minidump as shipped, Security block first: the upload offset joins all 103 (issue #4)', async () => {
    const file = path.join(SHARED_DATA, 'sysmon-json/metasploit_out-minidump_lsass_memory_dump.jsonl.gz');
    const chunks = await ingesterChunks(file, 2000);
    // The file holds its 2,043 Security records in one block ahead of the Sysmon records: chunks of the
    // block see no Sysmon record of the host, so the chunk rule alone leaves every 4688 on its own node ...
    const chunkRule = await ingestChunks(chunks.map(({ clockOffsets: _, ...c }) => c));
    expect(createdWithoutGuid(chunkRule.graph)).toHaveLength(103);
    // ... and the offset the ingester learned over the whole upload joins each with its Sysmon process.
    const { graph, corrected } = await ingestChunks(chunks);
    expect(corrected).toBe(40_568 - 34_741);
    expect(createdWithoutGuid(graph)).toEqual([]);
  });
});
