/**
 * Every file of the shared development data through the parser, read in place (../shared/data), with the
 * counts cross-checked against what the data sets say about themselves (MANIFEST.csv, labels.csv,
 * INDEX.csv), against an independent naive read of the JSON lines, against the ground truth, and .evtx
 * against its JSON-lines and XML twins. Slower than the other parser tests (some seconds).
 */
import { createReadStream, existsSync } from 'node:fs';
import { readFile as readText } from 'node:fs/promises';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { NormalizedEvent } from '../../domain/event';
import { listInputFiles } from './list-input-files';
import { parseRawRecord } from './normalize-record';
import { readRecords } from './read-records';
import { SHARED_DATA } from './test-support';
import { isFramingRejection, type ParseResult } from './types';
import { parseTimestamp } from './field-values';
import { canonicalChannel, SUPPORTED_SECURITY_IDS, SUPPORTED_SYSMON_IDS } from './windows-event';

const SYSMON = 'Microsoft-Windows-Sysmon/Operational';

/** Minimal RFC 4180 reader (quoted fields, doubled quotes); the manifests are small. */
function parseCsv(text: string): Array<Record<string, string>> {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  const [header, ...body] = rows;
  return body
    .filter((r) => r.length > 1)
    .map((r) => Object.fromEntries(header!.map((h, i) => [h, r[i] ?? ''])));
}

/** `a:1 b:2` or `a:1 | b:2` -> Map(a->1, b->2); the count is after the last colon. */
function countList(s: string, sep: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const part of s.split(sep)) {
    const p = part.trim();
    if (p === '') continue;
    const i = p.lastIndexOf(':');
    m.set(p.slice(0, i), (m.get(p.slice(0, i)) ?? 0) + Number(p.slice(i + 1)));
  }
  return m;
}

function bump(m: Map<string, number>, k: string, n = 1): void {
  m.set(k, (m.get(k) ?? 0) + n);
}

interface FileRun {
  read: number;
  framingRejections: string[];
  /** Default options (what the parse stage does). */
  plain: ParseResult[];
  /** keepUnsupported: every well-formed Windows event. */
  all: ParseResult[];
}

async function run(file: string): Promise<FileRun> {
  const r: FileRun = { read: 0, framingRejections: [], plain: [], all: [] };
  for await (const item of readRecords(file)) {
    r.read++;
    if (isFramingRejection(item)) {
      r.framingRejections.push(`${item.recordNo}: ${item.rejected}`);
      continue;
    }
    r.plain.push(parseRawRecord(item));
    r.all.push(parseRawRecord(item, { keepUnsupported: true }));
  }
  return r;
}

function events(results: ParseResult[]): NormalizedEvent[] {
  return results.flatMap((r) => (r.kind === 'event' ? [r.event] : []));
}

function rejections(results: ParseResult[]): string[] {
  return results.flatMap((r) => (r.kind === 'rejected' ? [r.reason] : []));
}

/** channel:eventId -> count over events and skipped records (default options). */
function typeCounts(results: ParseResult[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of results) {
    if (r.kind === 'event') bump(m, `${r.event.channel}:${r.event.eventId}`);
    else if (r.kind === 'skipped') bump(m, r.type);
  }
  return m;
}

function expectClean(r: FileRun): void {
  expect(r.framingRejections).toEqual([]);
  expect(rejections(r.plain)).toEqual([]);
  expect(rejections(r.all)).toEqual([]);
  // records read = events + skipped + rejected
  const plainEvents = r.plain.filter((x) => x.kind === 'event').length;
  const skipped = r.plain.filter((x) => x.kind === 'skipped').length;
  expect(plainEvents + skipped).toBe(r.read);
  // Every record is a well-formed Windows event: kept in full when asked to.
  expect(events(r.all)).toHaveLength(r.read);
  // Supported events are the same in both modes.
  expect(events(r.all).filter(isSupported)).toEqual(events(r.plain));
}

function isSupported(e: NormalizedEvent): boolean {
  if (e.source === 'sysmon') return SUPPORTED_SYSMON_IDS.includes(e.eventId);
  if (e.source === 'security') return SUPPORTED_SECURITY_IDS.includes(e.eventId);
  return false;
}

/** Independent count straight from the JSON lines: (channel as written, EventID) pairs. */
async function naiveCounts(file: string): Promise<Map<string, number>> {
  const stream = file.endsWith('.gz') ? createReadStream(file).pipe(createGunzip()) : createReadStream(file);
  const m = new Map<string, number>();
  for await (const line of createInterface({ input: stream, crlfDelay: Infinity })) {
    if (line.trim() === '') continue;
    const o = JSON.parse(line) as Record<string, unknown>;
    const ev = (o.Event as { System?: Record<string, unknown> } | undefined)?.System;
    const channel = String(o.Channel ?? o.log_name ?? ev?.Channel ?? '');
    const id = Number(o.EventID ?? o.event_id ?? (ev?.EventID as { '#text'?: unknown } | number | undefined));
    bump(
      m,
      `${channel.toLowerCase()}:${Number.isNaN(id) ? String((ev?.EventID as { '#text': unknown })['#text']) : id}`,
    );
  }
  return m;
}

const haveData = existsSync(path.join(SHARED_DATA, 'sysmon-json/MANIFEST.csv'));

describe.runIf(haveData)(
  'shared data: sysmon-json (16 recorded attacks, all four JSON families)',
  async () => {
    const dir = path.join(SHARED_DATA, 'sysmon-json');
    const manifest = haveData ? parseCsv(await readText(path.join(dir, 'MANIFEST.csv'), 'utf8')) : [];

    it('lists exactly the 16 data files (not the manifest or metadata)', async () => {
      const files = await listInputFiles([dir]);
      expect(files.map((f) => path.basename(f)).sort()).toEqual(manifest.map((m) => m.file).sort());
    });

    it.each(manifest.map((m) => [m.file!, m] as const))('%s', async (file, m) => {
      const r = await run(path.join(dir, file));
      expectClean(r);
      expect(r.read).toBe(Number(m.events));

      const all = events(r.all);
      const plain = events(r.plain);
      // Per Sysmon EventID, as the manifest counts them; supported ids are events, the rest skipped.
      const sysmonIds = countList(m.sysmon_eventids!, ' ');
      const sysmonAll = new Map<string, number>();
      for (const e of all) if (e.source === 'sysmon') bump(sysmonAll, String(e.eventId));
      expect(sysmonAll).toEqual(sysmonIds);
      const types = typeCounts(r.plain);
      for (const [id, n] of sysmonIds) {
        const supported = SUPPORTED_SYSMON_IDS.includes(Number(id));
        expect(
          plain.filter((e) => e.source === 'sysmon' && e.eventId === Number(id)).length,
          `EventID ${id}`,
        ).toBe(supported ? n : 0);
        expect(types.get(`${SYSMON}:${id}`), `EventID ${id}`).toBe(n);
      }
      // Per channel (case folded by the parser: `security` is Security) and per endpoint host.
      const channels = new Map<string, number>();
      for (const [c, n] of countList(m.channels!, ' | ')) bump(channels, canonicalChannel(c), n);
      const gotChannels = new Map<string, number>();
      const gotHosts = new Map<string, number>();
      for (const e of all) {
        bump(gotChannels, e.channel);
        bump(gotHosts, e.host);
      }
      expect(gotChannels).toEqual(channels);
      expect(gotHosts).toEqual(countList(m.hosts!, ' | '));

      // An independent naive read of the same lines implies the same numbers.
      const naive = await naiveCounts(path.join(dir, file));
      expect(plain.filter((e) => e.source === 'sysmon' && e.eventId === 1).length).toBe(
        naive.get(`${SYSMON.toLowerCase()}:1`) ?? 0,
      );
      expect(plain.filter((e) => e.source === 'security' && e.eventId === 4688).length).toBe(
        naive.get('security:4688') ?? 0,
      );
      expect(plain.filter((e) => e.source === 'security' && e.eventId === 4624).length).toBe(
        naive.get('security:4624') ?? 0,
      );
      expect([...naive.values()].reduce((a, b) => a + b, 0)).toBe(r.read);

      // Sysmon times are the endpoint's UtcTime, and every event has a sane time.
      for (const e of all)
        expect(
          e.time > Date.UTC(2015, 0, 1) && e.time < Date.UTC(2030, 0, 1),
          `${e.channel}:${e.eventId}`,
        ).toBe(true);
      for (const e of plain.filter((x) => x.source === 'sysmon').slice(0, 500))
        expect(e.time).toBe(parseTimestamp(e.fields.UtcTime!));

      // No value keeps an XML escape: NXLog's im_msvistalog escaped every field of 8 of these files
      // (`&lt;Anonymous Pipe&gt;`, `2&amp;2c22bcc9`), and none of the others holds one.
      for (const e of all)
        for (const [k, v] of Object.entries(e.fields))
          expect(v, `${e.channel}:${e.eventId} ${k}`).not.toMatch(/&(?:lt|gt|amp|quot|apos);/);

      // The ground truth, written with normalised GUIDs and Sysmon values, is found as is.
      const truth = JSON.parse(
        await readText(
          path.join(SHARED_DATA, 'truth', file.replace(/\.jsonl(\.gz)?$/, '.truth.json')),
          'utf8',
        ),
      ) as {
        malicious_processes: Array<{
          host: string;
          ProcessGuid: string;
          Image: string;
          CommandLine?: string;
          UtcTime?: string;
        }>;
        lsass_access: Array<{ host: string; UtcTime: string; SourceImage: string; GrantedAccess: string }>;
      };
      for (const p of truth.malicious_processes) {
        if (p.CommandLine !== undefined && p.UtcTime !== undefined) {
          const hit = plain.find(
            (e) => e.eventId === 1 && e.source === 'sysmon' && e.fields.ProcessGuid === p.ProcessGuid,
          );
          expect(hit, p.ProcessGuid).toBeDefined();
          expect(hit).toMatchObject({
            host: p.host,
            time: parseTimestamp(p.UtcTime),
            fields: { Image: p.Image, CommandLine: p.CommandLine },
          });
        } else {
          expect(
            plain.some((e) => e.host === p.host && e.fields.ProcessGuid === p.ProcessGuid),
            p.ProcessGuid,
          ).toBe(true);
        }
      }
      for (const a of truth.lsass_access) {
        const hit = plain.some(
          (e) =>
            e.eventId === 10 &&
            e.host === a.host &&
            e.time === parseTimestamp(a.UtcTime) &&
            e.fields.SourceImage === a.SourceImage &&
            e.fields.GrantedAccess === a.GrantedAccess,
        );
        expect(hit, `${a.UtcTime} ${a.SourceImage} ${a.GrantedAccess}`).toBe(true);
      }
    });
  },
);

describe.runIf(haveData)('shared data: 277 .evtx files and their evtx-jsonl twins', async () => {
  const labels = haveData
    ? parseCsv(await readText(path.join(SHARED_DATA, 'evtx/labels.csv'), 'utf8')).filter(
        (l) => l.status === 'ok',
      )
    : [];

  it('finds every .evtx file (recursive) and every twin', async () => {
    const evtx = await listInputFiles([path.join(SHARED_DATA, 'evtx')]);
    expect(evtx).toHaveLength(277);
    expect(evtx.map((f) => path.relative(path.join(SHARED_DATA, 'evtx'), f)).sort()).toEqual(
      labels.map((l) => l.evtx).sort(),
    );
    expect(await listInputFiles([path.join(SHARED_DATA, 'evtx-jsonl')])).toHaveLength(277);
  });

  it.each(labels.map((l) => [l.evtx!, l] as const))('%s', async (name, l) => {
    const evtx = await run(path.join(SHARED_DATA, 'evtx', name));
    const jsonl = await run(path.join(SHARED_DATA, 'evtx-jsonl', l.jsonl!));
    for (const r of [evtx, jsonl]) {
      expectClean(r);
      expect(r.read).toBe(Number(l.events));
      // Per channel:EventID exactly as labelled (channel-less ETW events are labelled by provider).
      const byType = new Map<string, number>();
      for (const e of events(r.all)) bump(byType, `${e.channel}:${e.eventId}`);
      expect(byType).toEqual(countList(l['channel:eventid']!, ' | '));
      expect(new Set(events(r.all).map((e) => e.host))).toEqual(new Set(l.computers!.split(' | ')));
    }
    // The .evtx and its python-evtx twin: same number of events per EventID, same skipped types.
    expect(typeCounts(evtx.plain)).toEqual(typeCounts(jsonl.plain));
    // And the very same Sysmon and Security events once normalised (GUID case, hex padding, booleans,
    // times), up to the line breaks XML parsing folds (python-evtx went through XML, \r\n -> \n).
    const comparable = (r: FileRun) =>
      events(r.all)
        .filter((e) => e.source !== 'windows')
        .map((e) => ({
          ...e,
          fields: Object.fromEntries(
            Object.entries(e.fields).map(([k, v]) => [k, v.replace(/\r\n?/g, '\n')]),
          ),
        }));
    expect(comparable(evtx)).toEqual(comparable(jsonl));
  });
});

describe.runIf(haveData)('shared data: evtx-xml-examples (WEF / wevtutil XML)', async () => {
  const files = haveData ? await listInputFiles([path.join(SHARED_DATA, 'evtx-xml-examples')]) : [];

  it.each(files.map((f) => [path.basename(f), f] as const))(
    '%s equals its .evtx original',
    async (name, file) => {
      const xml = await run(file);
      expectClean(xml);
      expect(xml.read).toBeGreaterThan(0);
      const [original] = (await listInputFiles([path.join(SHARED_DATA, 'evtx')])).filter(
        (f) => path.basename(f) === name.replace(/\.xml$/, '.evtx'),
      );
      expect(original).toBeDefined();
      const evtx = await run(original!);
      // Rendered by different tools (python-evtx vs @ts-evtx), identical once normalised.
      expect(events(xml.all)).toEqual(events(evtx.all));
    },
  );
});

describe.runIf(haveData)('shared data: sigma-regression (evtx_dump JSON and .evtx)', async () => {
  const index = haveData
    ? parseCsv(await readText(path.join(SHARED_DATA, 'sigma-regression/INDEX.csv'), 'utf8'))
    : [];

  it('parses every case in both forms with the same events per EventID', async () => {
    expect(index.length).toBe(202);
    const problems: string[] = [];
    for (const c of index) {
      const json = await run(path.join(SHARED_DATA, c.json!));
      const evtx = await run(path.join(SHARED_DATA, c.evtx!));
      for (const [form, r] of [
        ['json', json],
        ['evtx', evtx],
      ] as const) {
        const bad = [...r.framingRejections, ...rejections(r.all)];
        if (bad.length > 0) problems.push(`${c[form]}: ${bad.join('; ')}`);
      }
      if (json.read !== Number(c.events_in_json))
        problems.push(`${c.json}: ${json.read} records, index says ${c.events_in_json}`);
      const a = JSON.stringify([...typeCounts(json.plain)].sort());
      const b = JSON.stringify([...typeCounts(evtx.plain)].sort());
      if (a !== b) problems.push(`${c.rule_id}: json ${a} vs evtx ${b}`);
    }
    expect(problems).toEqual([]);
  });
});
