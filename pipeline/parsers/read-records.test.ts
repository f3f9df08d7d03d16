import { mkdtemp, mkdir, readFile as readBytes, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listInputFiles, looksLikeTelemetry } from './list-input-files';
import { readRecords, readRecordsFromStream } from './read-records';
import { FIXTURES, collect, hasControlChars, readFile, readStream } from './test-support';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'lensgraph-parsers-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const SYSMON = 'Microsoft-Windows-Sysmon/Operational';

function sysmonLine(i: number): string {
  return JSON.stringify({
    EventID: 1,
    Channel: SYSMON,
    Hostname: 'WS1',
    UtcTime: `2020-10-18 19:50:${String(i % 60).padStart(2, '0')}.123`,
    ProcessGuid: `{39e4a257-0000-5f8d-4304-${String(i).padStart(12, '0')}}`,
    ProcessId: String(1000 + i),
    Image: 'C:\\Windows\\System32\\cmd.exe',
    CommandLine: `cmd.exe /c echo ${i}`,
  });
}

/** A Node stream that delivers `data` in pieces of `size` bytes (split points inside lines and characters). */
function chunked(data: Buffer, size: number): Readable {
  const parts: Buffer[] = [];
  for (let i = 0; i < data.length; i += size) parts.push(data.subarray(i, i + size));
  return Readable.from(parts);
}

function webStream(data: Buffer, size: number): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i >= data.length) controller.close();
      else {
        controller.enqueue(new Uint8Array(data.subarray(i, i + size)));
        i += size;
      }
    },
  });
}

describe('JSON lines framing', () => {
  it('numbers records by line, skips blank lines, handles CRLF and a UTF-8 BOM', async () => {
    const text = '\uFEFF' + sysmonLine(1) + '\r\n\r\n' + sysmonLine(2) + '\n   \n' + sysmonLine(3);
    const s = await readStream(Readable.from([Buffer.from(text)]));
    expect(s.rejected).toEqual([]);
    expect(s.outcomes.map((o) => o.recordNo)).toEqual([1, 3, 5]);
    expect(s.events.map((e) => e.fields.ProcessId)).toEqual(['1001', '1002', '1003']);
  });

  it('gives the same records whatever the chunking (1-byte, 7-byte, web stream)', async () => {
    const data = Buffer.from(
      [sysmonLine(1), sysmonLine(2), '{"EventID": "x"}', 'é€ unicode garbage', sysmonLine(3)].join('\n') +
        '\n',
    );
    const whole = await collect(readRecordsFromStream(Readable.from([data])));
    expect(whole).toHaveLength(5);
    expect(await collect(readRecordsFromStream(chunked(data, 1)))).toEqual(whole);
    expect(await collect(readRecordsFromStream(chunked(data, 7)))).toEqual(whole);
    expect(await collect(readRecordsFromStream(webStream(data, 5)))).toEqual(whole);
  });

  it('detects gzip by its magic bytes, not the name', async () => {
    const file = path.join(tmp, 'looks-plain.jsonl');
    await writeFile(file, gzipSync(Buffer.from(sysmonLine(1) + '\n' + sysmonLine(2) + '\n')));
    const s = await readFile(file);
    expect(s.events).toHaveLength(2);
    expect(s.rejected).toEqual([]);
  });

  it('reads UTF-16 JSON (PowerShell Out-File) and UTF-16 XML', async () => {
    const jsonFile = path.join(tmp, 'utf16.json');
    await writeFile(
      jsonFile,
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(sysmonLine(7) + '\r\n', 'utf16le')]),
    );
    const j = await readFile(jsonFile);
    expect(j.events.map((e) => e.fields.ProcessId)).toEqual(['1007']);
    const xml = await readBytes(path.join(FIXTURES, 'events-bare.xml'), 'utf8');
    const xmlFile = path.join(tmp, 'utf16.xml');
    await writeFile(xmlFile, Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml, 'utf16le')]));
    const x = await readFile(xmlFile);
    expect(x.events).toHaveLength(1);
    expect(x.skipped.get('System:7045')).toBe(1);
  });
});

describe('XML framing', () => {
  it('streams a large export (many events per read chunk) and keeps record numbers', async () => {
    const event = (i: number) =>
      `<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="Microsoft-Windows-Sysmon"/><EventID>1</EventID><TimeCreated SystemTime="2020-01-01T00:00:00.000Z"/><Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>WS1</Computer></System><EventData><Data Name="UtcTime">2020-01-01 00:00:00.000</Data><Data Name="ProcessId">${i}</Data><Data Name="CommandLine">${'x'.repeat(900)} &amp; ${i}</Data></EventData></Event>\n`;
    const file = path.join(tmp, 'big.xml');
    await writeFile(
      file,
      '<?xml version="1.0" encoding="utf-8"?>\n<Events>\n' +
        Array.from({ length: 4000 }, (_, i) => event(i)).join('') +
        '</Events>\n',
    );
    const s = await readFile(file);
    expect(s.rejected).toEqual([]);
    expect(s.events).toHaveLength(4000);
    expect(s.outcomes[3999]!.recordNo).toBe(4000);
    expect(s.events[3999]!.fields.CommandLine).toBe(`${'x'.repeat(900)} & 3999`);
  });

  it('counts an error in an <Event> start tag once, as that event (found by fuzz.test.ts)', async () => {
    // saxes reports attribute errors before the tag opens: they used to become extra file-level records,
    // shifting the record numbers of every event after them.
    const ev = (attrs: string, host: string) =>
      `<Event${attrs}><System><EventID>1</EventID><Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>${host}</Computer></System><EventData><Data Name="UtcTime">2020-01-01 00:00:00.000</Data></EventData></Event>`;
    const bad = ' xmlns="a\u0001&#x0;b" a="1" a="2" b=\'<\'';
    const s = await readStream(
      Readable.from([Buffer.from(`<Events>${ev('', 'A')}${ev(bad, 'B')}${ev('', 'C')}</Events>`)]),
    );
    expect(
      s.outcomes.map((o) => [o.recordNo, o.result.kind === 'event' ? o.result.event.host : o.result.kind]),
    ).toEqual([
      [1, 'A'],
      [2, 'rejected'],
      [3, 'C'],
    ]);
    expect(s.rejected.map((r) => [r.recordNo, r.reason.split(':')[0]])).toEqual([[2, 'invalid XML']]);
  });

  it('rejects an event over the size limit and goes on', async () => {
    const ev = (body: string) =>
      `<Event><System><EventID>1</EventID><Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>H</Computer></System><EventData><Data Name="UtcTime">2020-01-01 00:00:00.000</Data><Data Name="CommandLine">${body}</Data></EventData></Event>`;
    const data = Buffer.from(`<Events>${ev('a')}${ev('<b/>'.repeat(2000))}${ev('c')}</Events>`);
    const s = await readStream(Readable.from([data]), { maxLineBytes: 4096 });
    expect(s.events.map((e) => e.fields.CommandLine)).toEqual(['a', 'c']);
    expect(s.rejected.map((r) => [r.recordNo, r.reason])).toEqual([
      [2, 'XML event too long: more than 4096 characters'],
    ]);
  });
});

describe('JSON arrays and concatenated values', () => {
  it('frames a one-line array, rejecting non-object elements', async () => {
    const data = Buffer.from(`[${sysmonLine(1)}, 42, "x", ${sysmonLine(2)}]`);
    const s = await readStream(chunked(data, 13));
    expect(s.events).toHaveLength(2);
    expect(s.rejected.map((r) => [r.recordNo, r.reason.split(':')[0]])).toEqual([
      [2, 'invalid record'],
      [3, 'invalid record'],
    ]);
  });

  it('resynchronises on a new top-level value after a truncated one', async () => {
    const pretty = (i: number) => JSON.stringify(JSON.parse(sysmonLine(i)), null, 2);
    const truncated = pretty(2).split('\n').slice(0, 4).join('\n');
    const data = Buffer.from([pretty(1), truncated, pretty(3)].join('\n') + '\n');
    const s = await readStream(chunked(data, 64));
    expect(s.events.map((e) => e.fields.ProcessId)).toEqual(['1001', '1003']);
    expect(s.rejected).toHaveLength(1);
    expect(s.rejected[0]).toMatchObject({
      recordNo: 2,
      reason: expect.stringMatching(/^invalid JSON: truncated/),
    });
  });
});

describe('1,000 malformed lines mixed into good lines', () => {
  it('parses every good line and rejects each bad one with its line number and a sensible reason', async () => {
    let seed = 42;
    const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
    const bad: Array<[Buffer, string]> = [
      [Buffer.from('{"EventID":1,"Channel":"' + SYSMON + '","Hostname":"WS1","UtcT'), 'invalid JSON'],
      [Buffer.from(sysmonLine(0).replace('"EventID":1', '"EventID":"abc"')), 'invalid EventID'],
      [Buffer.from(sysmonLine(0).replace('"Hostname":"WS1"', '"host":"collector"')), 'missing host'],
      [Buffer.from(sysmonLine(0).replace(/"UtcTime":"[^"]*"/, '"UtcTime":"not a time"')), 'invalid time'],
      [
        Buffer.from('{"EventID":4688,"Channel":"Security","Hostname":"DC1","NewProcessId":"0x10"}'),
        'missing time',
      ],
      [Buffer.from('['.repeat(200) + ']'.repeat(200)), 'JSON too deep'],
      [Buffer.from('[1,2,3]'), 'invalid record'],
      [Buffer.from('x'.repeat(5000)), 'line too long'],
      [Buffer.from('just some text'), 'invalid JSON'],
    ];
    const lines: Buffer[] = [];
    const expected: Array<{ line: number; good: boolean; category?: string; pid?: string }> = [];
    let good = 0;
    let badCount = 0;
    while (badCount < 1000 || good < 2000) {
      const lineNo = lines.length + 1;
      if (badCount < 1000 && (good >= 2000 || rand() < 0.35)) {
        const pick = Math.floor(rand() * (bad.length + 1));
        if (pick === bad.length) {
          // Binary garbage: random bytes (no newline), starting with a byte JSON cannot start with.
          const g = Buffer.alloc(1 + Math.floor(rand() * 120));
          for (let i = 0; i < g.length; i++) g[i] = Math.floor(rand() * 256);
          for (let i = 0; i < g.length; i++) if (g[i] === 10) g[i] = 0;
          g[0] = 0xff;
          lines.push(g);
          expected.push({ line: lineNo, good: false, category: 'invalid JSON' });
        } else {
          lines.push(bad[pick]![0]);
          expected.push({ line: lineNo, good: false, category: bad[pick]![1] });
        }
        badCount++;
      } else {
        lines.push(Buffer.from(sysmonLine(good)));
        expected.push({ line: lineNo, good: true, pid: String(1000 + good) });
        good++;
      }
    }
    const data = Buffer.concat(lines.flatMap((l) => [l, Buffer.from('\n')]));
    const s = await readStream(chunked(data, 4096), { maxLineBytes: 4096 });
    expect(s.outcomes).toHaveLength(expected.length);
    for (let i = 0; i < expected.length; i++) {
      const exp = expected[i]!;
      const got = s.outcomes[i]!;
      expect(got.recordNo, `line ${exp.line}`).toBe(exp.line);
      if (exp.good) {
        expect(got.result.kind, `line ${exp.line}`).toBe('event');
        if (got.result.kind === 'event') expect(got.result.event.fields.ProcessId).toBe(exp.pid);
      } else {
        expect(got.result.kind, `line ${exp.line}`).toBe('rejected');
        if (got.result.kind === 'rejected')
          expect(got.result.reason.split(':')[0], `line ${exp.line}`).toBe(exp.category);
      }
    }
    expect(s.events).toHaveLength(2000);
    expect(s.rejected).toHaveLength(1000);
    // Framing rejections carry printable first bytes.
    for (const r of s.rejected)
      if (r.firstBytes !== undefined) expect(hasControlChars(r.firstBytes)).toBe(false);
  });
});

describe('format detection', () => {
  it('reads every fixture by content whatever its name', async () => {
    for (const name of ['sysmon-flat.jsonl', 'events.xml', 'evtx-dump.concat', 'osquery.jsonl']) {
      const src = path.join(FIXTURES, name);
      const renamed = path.join(tmp, `renamed-${name}.bin`);
      await writeFile(renamed, await readBytes(src));
      expect(await collect(readRecords(renamed)), name).toEqual(await collect(readRecords(src)));
    }
  });

  it('yields nothing for an empty input', async () => {
    expect(await collect(readRecordsFromStream(Readable.from([])))).toEqual([]);
    expect(await collect(readRecordsFromStream(Readable.from([Buffer.from('\n\n  \n')])))).toEqual([]);
  });

  it('throws on an unreadable file (an input error, not a record)', async () => {
    await expect(collect(readRecords(path.join(tmp, 'missing.jsonl')))).rejects.toThrow(/ENOENT/);
  });
});

describe('listInputFiles', () => {
  it('expands folders recursively, sorted, skipping non-telemetry', async () => {
    const root = path.join(tmp, 'tree');
    await mkdir(path.join(root, 'b', 'deep'), { recursive: true });
    await mkdir(path.join(root, 'a'), { recursive: true });
    for (const f of [
      'a/x.jsonl',
      'a/x.yaml',
      'b/MANIFEST.csv',
      'b/README.md',
      'b/deep/y.evtx',
      'b/deep/z.json.gz',
      'b/.hidden.json',
      'c.xml',
      'd.gz',
    ]) {
      await writeFile(path.join(root, f), '');
    }
    await symlink(root, path.join(root, 'b', 'loop'));
    const files = await listInputFiles([root, path.join(root, 'b', 'README.md')]);
    expect(files.map((f) => path.relative(root, f))).toEqual([
      'a/x.jsonl',
      'b/README.md',
      'b/deep/y.evtx',
      'b/deep/z.json.gz',
      'c.xml',
      'd.gz',
    ]);
    expect(looksLikeTelemetry('x.ndjson')).toBe(true);
    expect(looksLikeTelemetry('labels.csv')).toBe(false);
  });
});
