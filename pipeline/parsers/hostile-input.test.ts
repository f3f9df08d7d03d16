import { randomBytes } from 'node:crypto';
import { copyFile, mkdtemp, open, readFile as readBytes, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonLinesFramer, JsonScanFramer } from './framing/json-framer';
import { SHARED_DATA, hasControlChars, readFile, readStream } from './test-support';
import { COMPRESSION_RATIO_GRACE_BYTES, resolveReadOptions, type ReadItem } from './types';

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'lensgraph-hostile-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

const GOOD = JSON.stringify({
  EventID: 1,
  Channel: 'Microsoft-Windows-Sysmon/Operational',
  Hostname: 'WS1',
  UtcTime: '2020-10-18 19:50:22.123',
  ProcessGuid: '{39e4a257-004e-5f8d-4304-000000000700}',
  Image: 'C:\\x.exe',
});

/** `total` bytes of `byte`, produced lazily in 64 KiB chunks (never held at once). */
async function* run(byte: number, total: number): AsyncGenerator<Buffer> {
  const chunk = Buffer.alloc(64 * 1024, byte);
  for (let sent = 0; sent < total; sent += chunk.length)
    yield chunk.subarray(0, Math.min(chunk.length, total - sent));
}

async function* concat(...parts: Array<Buffer | AsyncIterable<Buffer>>): AsyncGenerator<Buffer> {
  for (const p of parts) {
    if (Buffer.isBuffer(p)) yield p;
    else yield* p;
  }
}

describe('huge line', () => {
  it('never holds more than the limit of an unfinished line', () => {
    const opts = resolveReadOptions({ maxLineBytes: 1024 * 1024 });
    const out: ReadItem[] = [];
    const lines = new JsonLinesFramer(opts.maxLineBytes);
    const scan = new JsonScanFramer(opts);
    scan.push(Buffer.from('{"a":"'), out);
    const piece = Buffer.alloc(256 * 1024, 0x61);
    for (let i = 0; i < 400; i++) {
      lines.push(piece, out);
      scan.push(piece, out);
      expect(lines.bufferedBytes).toBeLessThanOrEqual(opts.maxLineBytes);
      expect(scan.bufferedBytes).toBeLessThanOrEqual(opts.maxLineBytes);
    }
    lines.push(Buffer.from('\n' + GOOD + '\n'), out);
    scan.push(Buffer.from('"}\n' + GOOD + '\n'), out);
    lines.end(out);
    scan.end(out);
    expect(out.map((o) => ('rejected' in o ? o.rejected.split(':')[0] : o.text))).toEqual([
      'line too long',
      GOOD,
      'JSON value too long',
      GOOD,
    ]);
  });

  it('rejects a 100 MB line in a stream and goes on with the next line', async () => {
    const s = await readStream(
      Readable.from(
        concat(Buffer.from(GOOD + '\n'), run(0x7b, 100 * 1024 * 1024), Buffer.from('\n' + GOOD + '\n')),
      ),
    );
    expect(s.events).toHaveLength(2);
    expect(s.rejected).toEqual([
      {
        recordNo: 2,
        reason: `line too long: ${100 * 1024 * 1024} bytes, more than the limit of 1048576`,
        firstBytes: '{'.repeat(200),
      },
    ]);
  });
});

describe('deep JSON', () => {
  it('rejects nesting over the limit in lines, arrays and direct calls', async () => {
    const deep = '{"a":'.repeat(100_000) + '1' + '}'.repeat(100_000);
    const s = await readStream(Readable.from([Buffer.from(GOOD + '\n' + deep + '\n' + GOOD + '\n')]), {
      maxLineBytes: 4 * 1024 * 1024,
    });
    expect(s.events).toHaveLength(2);
    expect(s.rejected.map((r) => [r.recordNo, r.reason])).toEqual([
      [2, 'JSON too deep: nesting deeper than 64'],
    ]);
    const arr = await readStream(
      Readable.from([Buffer.from(`[${GOOD}, ${'['.repeat(70)}${']'.repeat(70)}, ${GOOD}]`)]),
    );
    expect(arr.events).toHaveLength(2);
    expect(arr.rejected.map((r) => r.reason)).toEqual(['JSON too deep: nesting deeper than 64']);
  });
});

describe('XML entity expansion', () => {
  const lol = [
    '<?xml version="1.0"?>',
    '<!DOCTYPE lolz [',
    ' <!ENTITY lol "lol">',
    ...Array.from(
      { length: 9 },
      (_, i) => ` <!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`,
    ),
    ']>',
    '<Events><Event><System><EventID>1</EventID><Computer>&lol9;</Computer></System></Event></Events>',
  ].join('\n');

  it('refuses a billion-laughs document with a reason, before any expansion', async () => {
    const s = await readStream(Readable.from([Buffer.from(lol)]));
    expect(s.events).toEqual([]);
    expect(s.rejected).toHaveLength(1);
    expect(s.rejected[0]!.reason).toMatch(/^refused XML: DOCTYPE\/ENTITY/);
  });

  it('refuses a DOCTYPE split across chunks', async () => {
    const s = await readStream(Readable.from(Array.from(Buffer.from(lol)).map((b) => Buffer.from([b]))));
    expect(s.rejected.map((r) => r.reason.split(':')[0])).toEqual(['refused XML']);
  });

  it('rejects an event using an undeclared entity, keeps its neighbours', async () => {
    const ev = (computer: string) =>
      `<Event><System><EventID>1</EventID><Channel>Microsoft-Windows-Sysmon/Operational</Channel><Computer>${computer}</Computer></System><EventData><Data Name="UtcTime">2020-01-01 00:00:00.000</Data></EventData></Event>`;
    const s = await readStream(
      Readable.from([Buffer.from(`<Events>${ev('A')}${ev('&xxe;')}${ev('C')}</Events>`)]),
    );
    expect(s.events.map((e) => e.host)).toEqual(['A', 'C']);
    expect(s.rejected.map((r) => [r.recordNo, r.reason.split(':')[0]])).toEqual([[2, 'invalid XML']]);
  });
});

describe('runaway XML text', () => {
  it('stops reading an XML input whose text node outgrows the record limit', async () => {
    const s = await readStream(
      Readable.from(concat(Buffer.from('<Events><Event><System><Computer>'), run(0x61, 50 * 1024 * 1024))),
    );
    expect(s.events).toEqual([]);
    expect(s.rejected.map((r) => r.reason)).toEqual([
      'XML node too long: more than 1048576 characters without markup',
    ]);
  });
});

describe('gzip bomb', () => {
  async function gzipOf(parts: AsyncIterable<Buffer>): Promise<Buffer> {
    const gz = createGzip({ level: 9 });
    const out: Buffer[] = [];
    const done = (async () => {
      for await (const c of gz) out.push(c as Buffer);
    })();
    for await (const p of parts) if (!gz.write(p)) await new Promise((r) => gz.once('drain', r));
    gz.end();
    await done;
    return Buffer.concat(out);
  }

  it('stops at the compression-ratio guard, keeping the records before it', async () => {
    // 256 MiB of zeros compress to about 250 KB.
    const bomb = await gzipOf(concat(Buffer.from(GOOD + '\n'), run(0, 256 * 1024 * 1024)));
    expect(bomb.length).toBeLessThan(512 * 1024);
    const file = path.join(tmp, 'bomb.jsonl.gz');
    await writeFile(file, bomb);
    const s = await readFile(file);
    expect(s.events).toHaveLength(1);
    expect(s.rejected).toHaveLength(1);
    expect(s.rejected[0]!.reason).toMatch(/^gzip bomb: compression ratio above 200:1/);
    // It stops as soon as the grace amount is out, measured against the compressed bytes zlib has used,
    // not against the whole 250 KB file that the streams had read ahead (that let it run to 50 MB).
    const [, out, used] = /\((\d+) bytes from (\d+)\)/.exec(s.rejected[0]!.reason) ?? [];
    expect(Number(out)).toBeGreaterThan(COMPRESSION_RATIO_GRACE_BYTES);
    expect(Number(out)).toBeLessThan(COMPRESSION_RATIO_GRACE_BYTES + 2 * 1024 * 1024);
    expect(Number(used)).toBeLessThan(bomb.length / 4);
  });

  it('stops at the absolute limit (configurable)', async () => {
    const file = path.join(SHARED_DATA, 'sysmon-json/metasploit_out-minidump_lsass_memory_dump.jsonl.gz');
    const s = await readFile(file, { maxDecompressedBytes: 4 * 1024 * 1024 });
    expect(s.events.length + s.skipped.size).toBeGreaterThan(100);
    expect(s.rejected.at(-1)!.reason).toMatch(/^gzip bomb: more than 4194304 bytes decompressed/);
  });

  it('rejects a truncated gzip after the records it could read', async () => {
    const gz = await gzipOf(
      concat(
        ...Array.from({ length: 2000 }, (_, i) => Buffer.from(GOOD.replace('x.exe', `x${i}.exe`) + '\n')),
      ),
    );
    const file = path.join(tmp, 'cut.jsonl.gz');
    await writeFile(file, gz.subarray(0, Math.floor(gz.length * 0.7)));
    const s = await readFile(file);
    expect(s.events.length).toBeGreaterThan(0);
    expect(s.rejected.at(-1)!.reason).toMatch(/^broken gzip/);
  });
});

describe('binary garbage', () => {
  it('rejects an unrecognised input once, with printable first bytes', async () => {
    const s = await readStream(
      Readable.from([Buffer.concat([Buffer.from([0x00, 0x01, 0x02]), randomBytes(200_000)])]),
    );
    expect(s.events).toEqual([]);
    expect(s.rejected).toHaveLength(1);
    expect(s.rejected[0]!.reason).toMatch(/^unrecognised input/);
    expect(s.rejected[0]!.firstBytes!.length).toBeLessThanOrEqual(200);
    expect(hasControlChars(s.rejected[0]!.firstBytes!)).toBe(false);
  });

  it('rejects garbage after gzip magic as broken gzip', async () => {
    const s = await readStream(
      Readable.from([Buffer.concat([Buffer.from([0x1f, 0x8b]), randomBytes(5000)])]),
    );
    expect(s.rejected.map((r) => r.reason.split(':')[0])).toEqual(['broken gzip']);
  });

  it('rejects garbage after XML start without hanging', async () => {
    const s = await readStream(
      Readable.from([Buffer.concat([Buffer.from('<Events>'), randomBytes(100_000)])]),
    );
    expect(s.events).toEqual([]);
    expect(s.rejected.length).toBeGreaterThan(0);
    expect(s.rejected.length).toBeLessThanOrEqual(102);
  });
});

describe('broken EVTX', () => {
  const sample = path.join(SHARED_DATA, 'evtx/AutomatedTestingTools/PanacheSysmon_vs_AtomicRedTeam01.evtx');
  const CHUNK = 0x10000;
  const HEADER = 0x1000;

  it('reads the intact sample completely (baseline)', async () => {
    const s = await readFile(sample, { keepUnsupported: true });
    expect(s.rejected).toEqual([]);
    expect(s.events).toHaveLength(565);
  });

  async function cut(length: number, name: string) {
    const copy = path.join(tmp, name);
    await copyFile(sample, copy);
    const fh = await open(copy, 'r+');
    await fh.truncate(length);
    await fh.close();
    return readFile(copy, { keepUnsupported: true });
  }

  it('truncated mid-chunk: earlier records parse, each lost record is rejected with a reason', async () => {
    const twoChunks = await cut(HEADER + 2 * CHUNK, 'two-chunks.evtx');
    const mid = await cut(HEADER + CHUNK + 30_000, 'truncated.evtx');
    expect(twoChunks.rejected).toEqual([]);
    expect(mid.events.length).toBeGreaterThan(20);
    expect(mid.rejected.length).toBeGreaterThan(0);
    for (const r of mid.rejected)
      expect(r.reason).toMatch(
        /^truncated EVTX: EventRecordID \d+ \(EVTX chunk 1\) is past the end of the file$/,
      );
    // Every record of the first two chunks is accounted for, as an event or as a rejection.
    expect(mid.events.length + mid.rejected.length).toBe(twoChunks.events.length);
    expect(mid.events).toEqual(twoChunks.events.slice(0, mid.events.length));
  });

  it('a chunk with a corrupt signature costs only that chunk', async () => {
    const bytes = Buffer.from(await readBytes(sample));
    bytes.write('XXXXXXXX', HEADER + CHUNK, 'latin1');
    const copy = path.join(tmp, 'bad-magic.evtx');
    await writeFile(copy, bytes);
    const s = await readFile(copy, { keepUnsupported: true });
    const intact = await readFile(sample, { keepUnsupported: true });
    expect(s.rejected).toEqual([
      expect.objectContaining({ reason: 'broken EVTX chunk: chunk 1 has a bad signature, its records are lost' }),
    ]);
    expect(s.events.length).toBeLessThan(intact.events.length);
    expect(s.events.length).toBeGreaterThan(intact.events.length / 2);
  });

  it('garbage inside a chunk: no crash, the damaged records are rejected, the other chunks parse', async () => {
    const bytes = Buffer.from(await readBytes(sample));
    randomBytes(4000).copy(bytes, HEADER + 0x200 + 3000);
    const copy = path.join(tmp, 'garbage.evtx');
    await writeFile(copy, bytes);
    const s = await readFile(copy, { keepUnsupported: true });
    const intact = await readFile(sample, { keepUnsupported: true });
    expect(s.rejected.length).toBeGreaterThan(0);
    for (const r of s.rejected)
      expect(r.reason).toMatch(/^broken EVTX chunk: EventRecordID \d+ in chunk 0 unreadable \(corrupt data\)$/);
    // The reader resynchronises after the damage: every record is an event or a rejection.
    expect(s.events.length + s.rejected.length).toBe(intact.events.length);
    expect(s.events.slice(-500)).toEqual(intact.events.slice(-500));
  });

  it('a header-only or cut-header file is rejected, not thrown', async () => {
    const bytes = await readBytes(sample);
    const s = await readStream(Readable.from([bytes.subarray(0, 2000)]));
    expect(s.rejected.map((r) => r.reason.split(':')[0])).toEqual(['truncated EVTX']);
  });
});
