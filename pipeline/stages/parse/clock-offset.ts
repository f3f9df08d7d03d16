/**
 * Shipper clock offsets. Some shippers write a record's own time stamp (TimeCreated, `@timestamp`) as a
 * local time labelled UTC: hours off, by a whole number of quarter hours. Sysmon events take their time
 * from UtcTime (the endpoint's UTC clock), every other Windows event (Security 4688, 4624, PowerShell, ...)
 * from that time stamp, so the 4688 and the Sysmon 1 of one process end hours apart and identity can never
 * join them (issue #4).
 *
 * Every Sysmon record carries both clocks: its time stamp minus its UtcTime is the shipper's offset, plus a
 * write delay of milliseconds (seldom seconds). The parse stage collects these samples per host over one
 * chunk and, when they agree on one non-zero quarter-hour offset, removes it from the times of that host's
 * records that have no UtcTime. Everything here is a function of the chunk's content (counts, no order),
 * so the correction is the same whatever order the records of a chunk come in, and a chunk's output stays a
 * function of its digest (the merge applies each digest once). What one chunk cannot see it does not
 * correct: see the limits in pipeline/parsers/README.md ("Time").
 */
import type { NormalizedEvent } from '../../../domain/event';
import { parseHost } from '../../graph/keys';
import { isEventTime, type RecordClock } from '../../parsers';

export const QUARTER_HOUR_MS = 15 * 60_000;
/** A sample farther than this from a whole quarter hour says nothing about the offset (and counts against it). */
export const ON_GRID_MS = 60_000;
/** Offsets beyond a day are not a clock setting (time zone, at worst a lost AM/PM): such samples count against. */
export const MAX_OFFSET_MS = 24 * 3600_000;
/** Fewest agreeing samples that establish an offset. */
export const MIN_SAMPLES = 3;
/** Share of the on-grid samples that must agree. */
export const MIN_AGREEMENT = 0.9;

export interface HostSamples {
  /** Every sample of the host. */
  all: number;
  /** Samples within ON_GRID_MS of a quarter hour (and within MAX_OFFSET_MS). */
  onGrid: number;
  /** Quarter hours -> samples. */
  votes: Map<number, number>;
}

export interface LearnedOffset {
  /** record time - true time, a whole number of quarter hours; never 0. */
  offsetMs: number;
  /** Samples that agree on it / samples seen. */
  agreeing: number;
  samples: number;
}

/**
 * The offset a host's samples establish, or undefined: too few, split between offsets (a clock change, a
 * lost AM/PM across noon: correcting either side by the other's offset would be wrong), mostly off the
 * quarter-hour grid (the time stamp is not a shifted clock at all), or zero.
 */
export function decideOffset(s: HostSamples): LearnedOffset | undefined {
  // A tie between two offsets depends on insertion order, but can never reach MIN_AGREEMENT (> 1/2).
  let best = 0;
  let bestCount = 0;
  for (const [q, n] of s.votes) {
    if (n > bestCount) {
      best = q;
      bestCount = n;
    }
  }
  if (bestCount < MIN_SAMPLES) return undefined;
  if (bestCount < MIN_AGREEMENT * s.onGrid) return undefined;
  if (s.onGrid * 2 < s.all) return undefined;
  if (best === 0) return undefined;
  return { offsetMs: best * QUARTER_HOUR_MS, agreeing: bestCount, samples: s.all };
}

/** Samples of one chunk, per host (the asset: short name, upper-case, as identity keys it). */
export class ClockOffsets {
  private readonly hosts = new Map<string, HostSamples>();
  private readonly assets = new Map<string, string>();
  private decided: Map<string, LearnedOffset | undefined> | undefined;

  private asset(host: string): string {
    let a = this.assets.get(host);
    if (a === undefined) {
      a = parseHost(host).short;
      this.assets.set(host, a);
    }
    return a;
  }

  /** A record that carries both its time stamp and the true time (Sysmon UtcTime). */
  addSample(host: string, record: number, utc: number): void {
    const key = this.asset(host);
    let s = this.hosts.get(key);
    if (!s) {
      s = { all: 0, onGrid: 0, votes: new Map() };
      this.hosts.set(key, s);
    }
    this.decided = undefined;
    s.all++;
    const d = record - utc;
    const q = Math.round(d / QUARTER_HOUR_MS);
    const onGrid =
      Math.abs(d - q * QUARTER_HOUR_MS) <= ON_GRID_MS && Math.abs(q * QUARTER_HOUR_MS) <= MAX_OFFSET_MS;
    if (!onGrid) return;
    s.onGrid++;
    s.votes.set(q, (s.votes.get(q) ?? 0) + 1);
  }

  /** Collects the sample of a parsed event, if it is one (a time from UtcTime next to a time stamp). */
  observe(event: NormalizedEvent, clock: RecordClock | undefined): void {
    if (clock?.from === 'UtcTime') this.addSample(event.host, clock.record, event.time);
  }

  offsetOf(host: string): LearnedOffset | undefined {
    if (this.hosts.size === 0) return undefined;
    this.decided ??= new Map([...this.hosts].map(([k, s]) => [k, decideOffset(s)]));
    return this.decided.get(this.asset(host));
  }

  /**
   * The event with the host's offset removed from its time, when its time is the record's time stamp and
   * the host has an offset; the same event otherwise.
   */
  correct(event: NormalizedEvent, clock: RecordClock | undefined): NormalizedEvent {
    if (clock?.from !== 'record' || event.timeCorrection !== undefined) return event;
    const learned = this.offsetOf(event.host);
    if (!learned) return event;
    const time = clock.record - learned.offsetMs;
    if (!isEventTime(time)) return event;
    return {
      ...event,
      time,
      timeCorrection: { by: 'sysmon-utc', rawTime: clock.record, offsetMs: learned.offsetMs },
    };
  }
}
