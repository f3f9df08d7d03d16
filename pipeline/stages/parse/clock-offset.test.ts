import { describe, expect, it } from 'vitest';
import type { NormalizedEvent } from '../../../domain/event';
import { parseRawRecord, type ReadItem, type RecordClock } from '../../parsers';
import {
  ClockOffsets,
  ClockSamples,
  decideOffset,
  learnUploadOffsets,
  MAX_HOST_KEY_CHARS,
  MIN_SAMPLES,
  QUARTER_HOUR_MS,
} from './clock-offset';
import { seededShuffle } from '../../../test/seeded-shuffle';

const H = 3600_000;
const T = Date.parse('2023-08-27T22:04:14.955Z');

const sysmon = (host: string, utc: number, record: number): [NormalizedEvent, RecordClock] => [
  {
    source: 'sysmon',
    channel: 'Microsoft-Windows-Sysmon/Operational',
    eventId: 1,
    host,
    time: utc,
    fields: {},
  },
  { record, from: 'UtcTime' },
];
const security = (host: string, record: number): [NormalizedEvent, RecordClock] => [
  {
    source: 'security',
    channel: 'Security',
    eventId: 4688,
    host,
    time: record,
    fields: { ProcessId: '1180' },
  },
  { record, from: 'record' },
];

/** Learns from the samples (in the given order) and corrects the events. */
function run(samples: Array<[NormalizedEvent, RecordClock]>, targets: Array<[NormalizedEvent, RecordClock]>) {
  const c = new ClockOffsets();
  for (const [e, clock] of samples) c.observe(e, clock);
  return targets.map(([e, clock]) => c.correct(e, clock));
}

/** n Sysmon samples of `host` at `offset`, with write delays of a few ms to 20 s. */
const samples = (host: string, offset: number, n: number, from = T) =>
  Array.from({ length: n }, (_, i) =>
    sysmon(host, from + i * 1000, from + i * 1000 + offset + ((i * 7919) % 20_000)),
  );

describe('shipper clock offsets', () => {
  it("learns the offset from the Sysmon records and moves the host's other records back (issue #4)", () => {
    const [fixed] = run(
      [
        sysmon('IT01.pandalab.com', T, Date.parse('2023-08-27T03:04:14.958Z')),
        ...samples('IT01.pandalab.com', -19 * H, 5),
      ],
      [security('IT01.pandalab.com', Date.parse('2023-08-27T03:04:14.955Z'))],
    );
    expect(fixed!.time).toBe(T);
    expect(fixed!.timeCorrection).toEqual({
      by: 'sysmon-utc',
      scope: 'chunk',
      rawTime: Date.parse('2023-08-27T03:04:14.955Z'),
      offsetMs: -19 * H,
    });
    expect(fixed!.fields).toEqual({ ProcessId: '1180' });
  });

  it('offsets across a day boundary and by quarter hours (UTC+5:45)', () => {
    const late = Date.parse('2023-08-27T23:50:00.000Z');
    const [a] = run(samples('WS', 5.75 * H, 10, late), [security('WS', late + 5.75 * H + 10)]);
    expect(new Date(late + 5.75 * H).toISOString().slice(0, 10)).toBe('2023-08-28');
    expect(a!.time).toBe(late + 10);
    expect(a!.timeCorrection?.offsetMs).toBe(5.75 * H);
  });

  it('leaves clocks that agree alone, unmarked', () => {
    const e = security('WS', T + 3);
    const [same] = run(samples('WS', 0, 50), [e]);
    expect(same).toBe(e[0]);
  });

  it('per host: the short name and the FQDN are one host, another host is not touched', () => {
    const a = security('workstation5', T + 4 * H);
    const b = security('WORKSTATION6.theshire.local', T + 4 * H);
    const [ca, cb] = run(samples('WORKSTATION5.theshire.local', 4 * H, 10), [a, b]);
    expect(ca!.time).toBe(T);
    expect(cb).toBe(b[0]);
  });

  it('never touches an event whose time is UtcTime, nor one without a time stamp', () => {
    const own = sysmon('WS', T, T - 4 * H);
    const osq: NormalizedEvent = {
      source: 'osquery',
      channel: 'osquery',
      eventId: 1,
      host: 'WS',
      time: T - 4 * H,
      fields: {},
    };
    const c = new ClockOffsets();
    for (const [e, clock] of samples('WS', -4 * H, 10)) c.observe(e, clock);
    expect(c.correct(own[0], own[1])).toBe(own[0]);
    expect(c.correct(osq, undefined)).toBe(osq);
  });

  it('needs enough samples that agree', () => {
    const target = security('WS', T - 4 * H);
    expect(run(samples('WS', -4 * H, MIN_SAMPLES - 1), [target])[0]).toBe(target[0]);
    expect(run(samples('WS', -4 * H, MIN_SAMPLES), [target])[0]!.time).toBe(T);
    // split between two offsets (a clock change, an AM/PM lost across noon): correct neither side
    const split = [...samples('WS', -4 * H, 10), ...samples('WS', -5 * H, 10, T + 60_000)];
    expect(run(split, [target])[0]).toBe(target[0]);
    // a few strays do not spoil a clear majority
    const strays = [...samples('WS', -4 * H, 40), ...samples('WS', 3 * H, 2, T + 60_000)];
    expect(run(strays, [target])[0]!.time).toBe(T);
  });

  it('ignores samples off the quarter-hour grid or beyond a day, and distrusts a time stamp that is mostly off it', () => {
    const target = security('WS', T - 4 * H);
    // Sysmon 3/22 of the metasploit set carry a UtcTime 5 days and 288 s off: no vote, but they count
    const odd = Array.from({ length: 5 }, (_, i) => sysmon('WS', T - 5 * 24 * H + 288_000 + i, T + i));
    expect(run([...samples('WS', -4 * H, 40), ...odd], [target])[0]!.time).toBe(T);
    const days = Array.from({ length: 10 }, (_, i) => sysmon('WS', T + i, T + i + 2 * 24 * H));
    expect(run(days, [security('WS', T + 2 * 24 * H)])[0]!.timeCorrection).toBeUndefined();
    // a collector's receive time: delays all over the place, a few on the grid by chance
    const noisy = Array.from({ length: 30 }, (_, i) =>
      sysmon('WS', T, T - 4 * H + (i % 10 === 0 ? 0 : 100_000 + i * 7_000)),
    );
    expect(run(noisy, [target])[0]).toBe(target[0]);
  });

  it('does not depend on the order of the records', () => {
    const mixed = [
      ...samples('A', (-16 * H) / 4, 20),
      ...samples('B', 2 * H, 9),
      ...samples('B', 0, 1),
      ...samples('C', 0, 30),
    ];
    const targets = [security('A', T - 4 * H), security('B', T + 2 * H), security('C', T)];
    const expected = run(mixed, targets);
    for (let seed = 7; seed < 27; seed++) expect(run(seededShuffle(mixed, seed), targets)).toEqual(expected);
    expect(expected.map((e) => e.time)).toEqual([T, T, T]);
  });

  it('decideOffset: the rules in one place', () => {
    const v = (entries: Array<[number, number]>, all?: number) => {
      const onGrid = entries.reduce((a, [, n]) => a + n, 0);
      return decideOffset({ all: all ?? onGrid, onGrid, votes: new Map(entries) });
    };
    expect(v([[-76, 100]])).toEqual({ offsetMs: -76 * QUARTER_HOUR_MS, agreeing: 100, samples: 100 });
    expect(v([[0, 100]])).toBeUndefined();
    expect(
      v([
        [-76, 89],
        [4, 11],
      ]),
    ).toBeUndefined();
    expect(
      v([
        [-76, 90],
        [4, 10],
      ]),
    ).toMatchObject({ offsetMs: -76 * QUARTER_HOUR_MS });
    expect(v([[-76, 10]], 21)).toBeUndefined();
    expect(v([[-76, 10]], 20)).toMatchObject({ agreeing: 10, samples: 20 });
    expect(v([])).toBeUndefined();
  });
});

describe('upload-wide offsets in a chunk (RawChunk.clockOffsets)', () => {
  /** A chunk's ClockOffsets under the upload's offsets, fed `samples`, correcting `targets`. */
  function runWith(
    upload: Record<string, number> | undefined,
    samples: Array<[NormalizedEvent, RecordClock]>,
    targets: Array<[NormalizedEvent, RecordClock]>,
  ) {
    const c = new ClockOffsets(upload);
    for (const [e, clock] of samples) c.observe(e, clock);
    return targets.map(([e, clock]) => c.correct(e, clock));
  }

  it("corrects a host's records in a chunk without any of its Sysmon records, and says so", () => {
    const [e] = runWith({ IT01: -19 * H }, [], [security('IT01.pandalab.com', T - 19 * H)]);
    expect(e!.time).toBe(T);
    expect(e!.timeCorrection).toEqual({
      by: 'sysmon-utc',
      scope: 'upload',
      rawTime: T - 19 * H,
      offsetMs: -19 * H,
    });
  });

  it("the upload's offset wins over a chunk that decides otherwise (it saw every sample of the host)", () => {
    const [e] = runWith({ WS: -4 * H }, samples('WS', -5 * H, 20), [security('ws.corp.local', T - 4 * H)]);
    expect(e!.time).toBe(T);
    expect(e!.timeCorrection?.scope).toBe('upload');
  });

  it('hosts the upload does not name keep the chunk rule; other hosts are not touched', () => {
    const [a, b, c] = runWith({ A: 2 * H }, samples('B', -4 * H, 10), [
      security('a', T + 2 * H),
      security('B', T - 4 * H),
      security('C', T),
    ]);
    expect(a!.timeCorrection).toMatchObject({ scope: 'upload', offsetMs: 2 * H });
    expect(b!.timeCorrection).toMatchObject({ scope: 'chunk', offsetMs: -4 * H });
    expect(b!.time).toBe(T);
    expect(c!.timeCorrection).toBeUndefined();
  });

  it('never touches events whose time is UtcTime, also under an upload offset', () => {
    const own = sysmon('WS', T, T - 4 * H);
    expect(runWith({ WS: -4 * H }, [], [own])[0]).toBe(own[0]);
  });
});

describe('ClockSamples: the collector both scopes use', () => {
  it('decisions: non-zero offsets only, keyed by asset and sorted, whatever the order of the samples', () => {
    const all = [
      ...samples('zeta.corp', 2 * H, 5),
      ...samples('Alpha', -4 * H, 5),
      ...samples('mid', 0, 5),
      ...samples('few', 3 * H, MIN_SAMPLES - 1),
    ];
    const decide = (list: typeof all) => {
      const s = new ClockSamples();
      for (const [e, clock] of list) s.observe(e, clock);
      return s.decisions();
    };
    const d = decide(all);
    expect(d).toEqual({ ALPHA: -4 * H, ZETA: 2 * H });
    expect(Object.keys(d)).toEqual(['ALPHA', 'ZETA']);
    for (const seed of [3, 4, 5])
      expect(JSON.stringify(decide(seededShuffle(all, seed)))).toBe(JSON.stringify(d));
  });

  it('leaves out host keys that could not travel in a chunk, and stops tracking new hosts at its bound', () => {
    const s = new ClockSamples(2);
    for (const [e, c] of samples('H'.repeat(MAX_HOST_KEY_CHARS + 1), H, 5)) s.observe(e, c);
    for (const [e, c] of samples('A', H, 5)) s.observe(e, c);
    for (const [e, c] of samples('B', H, 5)) s.observe(e, c);
    expect(s.decisions()).toEqual({ A: H });
    expect(s.offsetOf('B')).toBeUndefined();
  });
});

// ---- learnUploadOffsets: raw records of every shape ---------------------------------------------------

const SYSMON_CHANNEL = 'Microsoft-Windows-Sysmon/Operational';
const iso = (ms: number) => new Date(ms).toISOString();
const utcTime = (ms: number) => iso(ms).replace('T', ' ').replace('Z', '');
const body = (i: number) => ({
  ProcessGuid: `{716d09e4-c85e-64eb-3503-${String(i).padStart(12, '0')}}`,
  ProcessId: String(1000 + i),
  Image: 'C:\\Windows\\System32\\cmd.exe',
});

/** One Sysmon 1 record of `host` in one of the shapes, its time stamp `offset` away from its UtcTime. */
function sysmonRecord(shape: string, host: string, i: number, offset: number): ReadItem {
  const utc = T + i * 1000;
  const record = utc + offset + 7;
  const json = (v: unknown): ReadItem => ({ recordNo: i, format: 'jsonl', text: JSON.stringify(v) });
  switch (shape) {
    case 'flat':
      return json({
        Channel: SYSMON_CHANNEL,
        Hostname: host,
        EventID: 1,
        TimeCreated: iso(record),
        UtcTime: utcTime(utc),
        ...body(i),
      });
    case 'winlogbeat6':
      return json({
        '@timestamp': iso(record),
        event_id: 1,
        log_name: SYSMON_CHANNEL,
        source_name: 'Microsoft-Windows-Sysmon',
        computer_name: host,
        event_data: { UtcTime: utcTime(utc), ...body(i) },
      });
    case 'winlogbeat7':
      return json({
        '@timestamp': iso(record),
        winlog: {
          event_id: 1,
          channel: SYSMON_CHANNEL,
          provider_name: 'Microsoft-Windows-Sysmon',
          computer_name: host,
          event_data: { UtcTime: utcTime(utc), ...body(i) },
        },
      });
    case 'evtx-json':
      return json({
        Event: {
          System: {
            Provider: { '#attributes': { Name: 'Microsoft-Windows-Sysmon' } },
            EventID: 1,
            TimeCreated: { '#attributes': { SystemTime: iso(record) } },
            Channel: SYSMON_CHANNEL,
            Computer: host,
          },
          EventData: { UtcTime: utcTime(utc), ...body(i) },
        },
      });
    default: {
      const b = body(i);
      return {
        recordNo: i,
        format: 'xml',
        text:
          '<Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System>' +
          '<Provider Name="Microsoft-Windows-Sysmon"/><EventID>1</EventID>' +
          `<TimeCreated SystemTime="${iso(record)}"/><Channel>${SYSMON_CHANNEL}</Channel><Computer>${host}</Computer>` +
          `</System><EventData><Data Name="UtcTime">${utcTime(utc)}</Data><Data Name="ProcessGuid">${b.ProcessGuid}</Data>` +
          `<Data Name="ProcessId">${b.ProcessId}</Data><Data Name="Image">${b.Image}</Data></EventData></Event>`,
      };
    }
  }
}

async function* items(list: ReadItem[]): AsyncGenerator<ReadItem> {
  yield* list;
}

describe('learnUploadOffsets: the ingester pre-pass', () => {
  const SHAPES = ['flat', 'winlogbeat6', 'winlogbeat7', 'evtx-json', 'xml'];
  const OFFSETS = [-4 * H, -5 * H, 5.75 * H, -19 * H, 2 * H];

  it('reads every shape, one host per shape, and decides like the parse stage', async () => {
    const records: ReadItem[] = [];
    SHAPES.forEach((shape, k) => {
      for (let i = 1; i <= 4; i++)
        records.push(sysmonRecord(shape, `${shape.toUpperCase()}-PC.corp.local`, i, OFFSETS[k]!));
    });
    const learned = await learnUploadOffsets(items(records));
    expect(learned).toEqual(Object.fromEntries(SHAPES.map((s, k) => [`${s.toUpperCase()}-PC`, OFFSETS[k]!])));
    // the same records parsed one by one as the parse stage does, into the same collector
    const chunk = new ClockSamples();
    for (const r of records) {
      const p = parseRawRecord(r as Extract<ReadItem, { text: string }>, { keepUnsupported: true });
      if (p.kind === 'event') chunk.observe(p.event, p.clock);
    }
    expect(learned).toEqual(chunk.decisions());
  });

  it('skips framing rejections, records without UtcTime and broken records; zero offsets are not listed', async () => {
    const records: ReadItem[] = [
      { recordNo: 1, rejected: 'line too long', firstBytes: '{"UtcTime"' },
      { recordNo: 2, format: 'jsonl', text: '{"UtcTime": "2023-' },
      {
        recordNo: 3,
        format: 'jsonl',
        text: JSON.stringify({ Channel: 'Security', Hostname: 'A', EventID: 4688, TimeCreated: iso(T) }),
      },
      ...[1, 2, 3].map((i) => sysmonRecord('flat', 'A', i, -4 * H)),
      ...[1, 2, 3].map((i) => sysmonRecord('flat', 'B', i, 0)),
    ];
    expect(await learnUploadOffsets(items(records))).toEqual({ A: -4 * H });
    expect(await learnUploadOffsets(items([]))).toEqual({});
  });
});
