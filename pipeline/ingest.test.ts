/**
 * The ingester without Redis: the upload-wide clock offsets (pre-pass, carried in every chunk and its
 * digest), cutting, and the spool of byte streams. A file that holds its channels in blocks (all Security
 * records first, the Sysmon records that show the shipper's offset chunks later) gets its Security records
 * corrected after parse; the shared metasploit set, read in place, is the real case (issue #4).
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NormalizedEvent } from '../domain/event';
import { parseHost } from './graph/keys';
import { chunkDigest, cutUpload, withSpooledStream, type RecordSource } from './ingest';
import { readRecords, readRecordsFromStream, type ReadItem } from './parsers';
import { SHARED_DATA } from './parsers/test-support';
import type { RawChunk } from './payloads';
import { parseChunk } from './stages/parse/handler';

const UPLOAD = '1700000000000-00000000-0000-4000-8000-000000000000';
const OTHER_UPLOAD = '1700000000001-00000000-0000-4000-8000-000000000001';
const SYSMON = 'Microsoft-Windows-Sysmon/Operational';
const H = 3600_000;
const T = Date.parse('2023-08-27T22:04:14.955Z');
const SHIFT = -4 * H;

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'lensgraph-ingest-test-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const iso = (ms: number) => new Date(ms).toISOString();
const utcTime = (ms: number) => iso(ms).replace('T', ' ').replace('Z', '');

/**
 * `n` processes of one host seen twice, by Security 4688 and by Sysmon 1, TimeCreated written 4 h behind:
 * every 4688 first, then `gap` PowerShell records, then the Sysmon records (plus a few Sysmon 10).
 */
function blockOrdered(host: string, n: number, gap: number): string {
  const lines: unknown[] = [];
  const start = (i: number) => T + i * 10_000;
  for (let i = 0; i < n; i++) {
    lines.push({
      Channel: 'Security',
      Hostname: host,
      EventID: 4688,
      TimeCreated: iso(start(i) + SHIFT),
      NewProcessId: `0x${(4000 + i).toString(16)}`,
      NewProcessName: `C:\\Tools\\tool${i}.exe`,
      ProcessId: '0x1464',
      ParentProcessName: 'C:\\Windows\\explorer.exe',
    });
  }
  for (let i = 0; i < gap; i++) {
    lines.push({
      Channel: 'Microsoft-Windows-PowerShell/Operational',
      Hostname: host,
      EventID: 4104,
      TimeCreated: iso(T + i + SHIFT),
      ScriptBlockText: `Get-Process # ${i}`,
    });
  }
  for (let i = 0; i < n; i++) {
    lines.push({
      Channel: SYSMON,
      Hostname: host,
      EventID: 1,
      TimeCreated: iso(start(i) + SHIFT + 3),
      UtcTime: utcTime(start(i)),
      ProcessGuid: `{716d09e4-c85e-64eb-3503-${String(i).padStart(12, '0')}}`,
      ProcessId: String(4000 + i),
      Image: `C:\\Tools\\tool${i}.exe`,
      ParentProcessId: '5220',
      ParentImage: 'C:\\Windows\\explorer.exe',
    });
  }
  for (let i = 0; i < 3; i++) {
    lines.push({
      Channel: SYSMON,
      Hostname: host,
      EventID: 10,
      TimeCreated: iso(start(n + i) + SHIFT + 12),
      UtcTime: utcTime(start(n + i)),
      SourceProcessId: '4000',
      TargetProcessId: '4',
    });
  }
  return lines.map((l) => JSON.stringify(l)).join('\n') + '\n';
}

async function collect<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

const cut = (source: RecordSource, chunkRecords: number, uploadId = UPLOAD, replay?: string) =>
  collect(cutUpload(source, { uploadId, source: 'test', chunkRecords, replay }));

const withoutOffsets = ({ clockOffsets: _, ...chunk }: RawChunk): RawChunk => chunk;

const parsed = (chunks: RawChunk[]) => chunks.flatMap((c) => parseChunk(c).events);

/** 4688 process creations without a Sysmon 1 of the same host, pid and image within 5 s. */
function withoutTwin(events: NormalizedEvent[]): NormalizedEvent[] {
  const key = (e: NormalizedEvent) =>
    `${parseHost(e.host).short}|${e.fields.ProcessId}|${(e.fields.Image ?? '').toLowerCase()}`;
  const sysmon1 = new Map<string, number[]>();
  for (const e of events) {
    if (e.source === 'sysmon' && e.eventId === 1)
      sysmon1.set(key(e), [...(sysmon1.get(key(e)) ?? []), e.time]);
  }
  return events.filter(
    (e) =>
      e.source === 'security' &&
      e.eventId === 4688 &&
      !(sysmon1.get(key(e)) ?? []).some((t) => Math.abs(t - e.time) <= 5000),
  );
}

describe('upload-wide clock offsets: a file holding its channels in blocks', () => {
  it('every chunk carries the offset, so the 4688s of chunks without any Sysmon record are corrected', async () => {
    const file = path.join(tmp, 'blocks.jsonl');
    await writeFile(file, blockOrdered('BLOCK-PC.corp.local', 6, 5));
    const chunks = await cut(() => readRecords(file), 4);
    expect(chunks).toHaveLength(5);
    for (const c of chunks) expect(c.clockOffsets).toEqual({ 'BLOCK-PC': SHIFT });
    // the 4688s sit in chunks 0 and 1, the Sysmon records in chunks 2 to 4
    for (const c of chunks.slice(0, 2))
      expect(c.items.some((i) => 't' in i && i.t.includes(SYSMON))).toBe(false);

    const events = parsed(chunks);
    const created = events.filter((e) => e.eventId === 4688);
    expect(created).toHaveLength(6);
    for (const e of created) {
      expect(e.timeCorrection).toEqual({
        by: 'sysmon-utc',
        scope: 'upload',
        rawTime: e.time + SHIFT,
        offsetMs: SHIFT,
      });
    }
    expect(withoutTwin(events)).toEqual([]);
    // PowerShell records (Sigma only) of the host are corrected too
    const ps = chunks.flatMap((c) => parseChunk(c).sigmaOnly);
    expect(ps.every((e) => e.timeCorrection?.scope === 'upload')).toBe(true);

    // the same chunks without the field (an older ingester): the chunk rule alone cannot see the offset
    const old = parsed(chunks.map(withoutOffsets));
    expect(old.filter((e) => e.eventId === 4688 && e.timeCorrection)).toEqual([]);
    expect(withoutTwin(old)).toHaveLength(6);
  });

  it('carries nothing when no host shows a shifted clock: chunks and digests as before offsets existed', async () => {
    const text = blockOrdered('FINE-PC', 3, 0).replaceAll(/"TimeCreated":"([^"]+)"/g, (_, t: string) => {
      return `"TimeCreated":"${iso(Date.parse(t) - SHIFT)}"`;
    });
    const chunks = await cut(
      () => readRecordsFromStream(Readable.from([Buffer.from(text)])),
      4,
      UPLOAD,
      'r1',
    );
    expect(chunks.length).toBeGreaterThan(1);
    for (const c of chunks) {
      expect(c).not.toHaveProperty('clockOffsets');
      expect(c.digest).toBe(chunkDigest(c.items, 'r1'));
    }
  });
});

describe('chunkDigest', () => {
  const items: RawChunk['items'] = [
    { n: 1, f: 'jsonl', t: '{"EventID":1}' },
    { n: 2, rejected: 'invalid JSON', firstBytes: '{' },
  ];

  it('covers the offsets, in a stable order, and nothing when there are none', () => {
    const plain = chunkDigest(items);
    const a = chunkDigest(items, undefined, { A: H, B: -H });
    expect(a).not.toBe(plain);
    expect(chunkDigest(items, undefined, { B: -H, A: H })).toBe(a);
    expect(chunkDigest(items, undefined, { A: H, B: H })).not.toBe(a);
    expect(chunkDigest(items, undefined, { A: H })).not.toBe(a);
    expect(chunkDigest(items, undefined, {})).toBe(plain);
    expect(chunkDigest(items, 'r1', { A: H })).not.toBe(chunkDigest(items, undefined, { A: H }));
  });

  it('the same input ingested twice gives the same chunks and digests (merge applies each once)', async () => {
    const file = path.join(tmp, 'twice.jsonl');
    await writeFile(file, blockOrdered('TWICE-PC', 5, 3));
    const first = await cut(() => readRecords(file), 3);
    const second = await cut(() => readRecords(file), 3, OTHER_UPLOAD);
    expect(second.map((c) => c.digest)).toEqual(first.map((c) => c.digest));
    expect(new Set(first.map((c) => c.digest)).size).toBe(first.length);
    expect(JSON.stringify(second.map((c) => c.clockOffsets))).toBe(
      JSON.stringify(first.map((c) => c.clockOffsets)),
    );
    // the digest is not the offset-free one: a re-ingest by an older ingester is a different chunk
    expect(first[0]!.digest).not.toBe(chunkDigest(first[0]!.items));
  });
});

describe('cutUpload', () => {
  it('an input failing part way: the records read so far go as a last chunk, then the error', async () => {
    const lines = blockOrdered('FAIL-PC', 4, 0).trim().split('\n');
    let passes = 0;
    const source: RecordSource = () => {
      const pass = ++passes;
      return (async function* (): AsyncGenerator<ReadItem> {
        for (let i = 0; i < lines.length; i++) {
          if (pass === 2 && i === 5) throw new Error('disk went away');
          yield { recordNo: i + 1, format: 'jsonl', text: lines[i]! };
        }
      })();
    };
    const read = { records: 0 };
    const got: RawChunk[] = [];
    await expect(
      (async () => {
        for await (const c of cutUpload(source, { uploadId: UPLOAD, source: 't', chunkRecords: 4 }, read))
          got.push(c);
      })(),
    ).rejects.toThrow('disk went away');
    expect(got.map((c) => c.items.length)).toEqual([4, 1]);
    expect(read.records).toBe(5);
    expect(got[0]!.clockOffsets).toEqual({ 'FAIL-PC': SHIFT });
  });
});

describe('cutUpload progress', () => {
  it('reports the pre-pass as it reads, before the first chunk, then the total', async () => {
    const lines = Array.from({ length: 12_001 }, (_, i) =>
      JSON.stringify({ EventID: 4688, Computer: 'PC1', TimeCreated: iso(T + i * 1000), NewProcessId: '0x10' }),
    );
    const source: RecordSource = () =>
      (async function* (): AsyncGenerator<ReadItem> {
        for (let i = 0; i < lines.length; i++) yield { recordNo: i + 1, format: 'jsonl', text: lines[i]! };
      })();
    const seen: Array<{ scanned: number; chunksSoFar: number }> = [];
    let chunks = 0;
    const it = cutUpload(source, {
      uploadId: UPLOAD,
      source: 't',
      chunkRecords: 5000,
      onScan: (scanned) => seen.push({ scanned, chunksSoFar: chunks }),
    });
    for await (const _ of it) chunks++;
    expect(chunks).toBe(3);
    expect(seen).toEqual([
      { scanned: 5000, chunksSoFar: 0 },
      { scanned: 10_000, chunksSoFar: 0 },
      { scanned: 12_001, chunksSoFar: 0 },
    ]);
  });
});

// ---- the shared dev set, read in place --------------------------------------------------------------

describe('metasploit_out-minidump_lsass_memory_dump: Security records in one block ahead of Sysmon', () => {
  it('4688s without a Sysmon 1 twin: 103 with per-chunk offsets, only the 2 Sysmon never saw with the upload offset', async () => {
    const file = path.join(SHARED_DATA, 'sysmon-json/metasploit_out-minidump_lsass_memory_dump.jsonl.gz');
    const chunks = await cut(() => readRecords(file), 2000);
    expect(chunks).toHaveLength(21);
    expect(chunks[0]!.items.some((i) => 't' in i && i.t.includes(SYSMON))).toBe(false);
    for (const c of chunks) expect(c.clockOffsets).toEqual({ IT01: -19 * H });

    const before = withoutTwin(parsed(chunks.map(withoutOffsets)));
    expect(before).toHaveLength(103);

    const events = parsed(chunks);
    expect(events.filter((e) => e.eventId === 4688 && e.timeCorrection?.scope === 'upload')).toHaveLength(
      103,
    );
    const after = withoutTwin(events);
    // Windows Defender's two scans: Sysmon logged no process creation of theirs at any time
    expect(after.map((e) => e.fields.Image)).toEqual([
      'C:\\Program Files\\Windows Defender\\MpCmdRun.exe',
      'C:\\Program Files\\Windows Defender\\MpCmdRun.exe',
    ]);
    const sysmonPids = new Set(
      events.filter((e) => e.source === 'sysmon' && e.eventId === 1).map((e) => e.fields.ProcessId),
    );
    for (const e of after) expect(sysmonPids.has(e.fields.ProcessId)).toBe(false);
  });
});

// ---- spooling byte streams ---------------------------------------------------------------------------

function nodeStream(parts: Buffer[], failAfter?: number): Readable {
  return Readable.from(
    (async function* () {
      for (let i = 0; i < parts.length; i++) {
        if (i === failAfter) throw new Error('client went away');
        yield parts[i]!;
      }
    })(),
  );
}

function webStream(parts: Buffer[], failAfter?: number): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i === failAfter) controller.error(new Error('client went away'));
      else if (i >= parts.length) controller.close();
      else controller.enqueue(new Uint8Array(parts[i++]!));
    },
  });
}

const pieces = (data: Buffer, size: number) => {
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) out.push(data.subarray(i, i + size));
  return out;
};

describe('withSpooledStream', () => {
  it('hands over a private copy (mode 0600, unguessable name) and removes it afterwards', async () => {
    const dir = await mkdtemp(path.join(tmp, 'spool-'));
    const data = gzipSync(blockOrdered('SPOOL-PC', 3, 1));
    for (const stream of [nodeStream(pieces(data, 100)), webStream(pieces(data, 7))]) {
      const seen = await withSpooledStream(
        stream,
        async (file) => {
          expect(path.dirname(file)).toBe(dir);
          expect(path.basename(file)).toMatch(/^lensgraph-spool-[0-9a-f]{32}$/);
          expect((await stat(file)).mode & 0o777).toBe(0o600);
          expect(await readFile(file)).toEqual(data);
          return file;
        },
        { dir },
      );
      expect(await readdir(dir)).toEqual([]);
      expect(seen).toMatch(/lensgraph-spool-/);
    }
  });

  it('removes the file when the stream fails midway, and when its user fails', async () => {
    const dir = await mkdtemp(path.join(tmp, 'spool-'));
    const data = Buffer.from(blockOrdered('SPOOL-PC', 3, 1));
    let used = false;
    const use = async () => {
      used = true;
    };
    await expect(withSpooledStream(nodeStream(pieces(data, 50), 3), use, { dir })).rejects.toThrow(
      'client went away',
    );
    await expect(withSpooledStream(webStream(pieces(data, 50), 3), use, { dir })).rejects.toThrow(
      'client went away',
    );
    expect(used).toBe(false);
    expect(await readdir(dir)).toEqual([]);
    await expect(
      withSpooledStream(
        nodeStream([data]),
        async () => {
          throw new Error('parse queue down');
        },
        { dir },
      ),
    ).rejects.toThrow('parse queue down');
    expect(await readdir(dir)).toEqual([]);
  });
});
