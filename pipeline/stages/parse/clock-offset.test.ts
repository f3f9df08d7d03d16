import { describe, expect, it } from 'vitest';
import type { NormalizedEvent } from '../../../domain/event';
import type { RecordClock } from '../../parsers';
import { ClockOffsets, decideOffset, MIN_SAMPLES, QUARTER_HOUR_MS } from './clock-offset';
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
