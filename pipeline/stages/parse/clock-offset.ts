/**
 * Shipper clock offsets. Some shippers write a record's own time stamp (TimeCreated, `@timestamp`) as a
 * local time labelled UTC: hours off, by a whole number of quarter hours. Sysmon events take their time
 * from UtcTime (the endpoint's UTC clock), every other Windows event (Security 4688, 4624, PowerShell, ...)
 * from that time stamp, so the 4688 and the Sysmon 1 of one process end hours apart and identity can never
 * join them (issue #4).
 *
 * Every Sysmon record carries both clocks: its time stamp minus its UtcTime is the shipper's offset, plus a
 * write delay of milliseconds (seldom seconds). Samples are collected per host (ClockSamples) and, when they
 * agree on one non-zero quarter-hour offset (decideOffset), the offset is removed from the times of that
 * host's records that have no UtcTime. Samples are collected at two scopes, by the same code and rules:
 *
 *  - upload: the ingester reads the whole input once before cutting it (learnUploadOffsets) and carries
 *    the decisions in every chunk (RawChunk.clockOffsets, part of the chunk's digest). This is what corrects
 *    a file that holds its channels in blocks, whose Security chunks hold no Sysmon record.
 *  - chunk: the parse stage's own samples, for hosts the chunk's clockOffsets do not name (the upload found
 *    no non-zero offset for them: split between two offsets, clocks that agree, past MAX_UPLOAD_HOSTS) and
 *    for chunks without the field (older payloads, other producers).
 *
 * When both scopes decide for a host and disagree, the upload's offset wins: it saw every sample of the
 * host, the chunk a slice of them, and one offset per host and upload keeps the events independent of where
 * the chunks were cut. The cost is the one the chunk rule already had inside a chunk: when a clock changes
 * during an upload and one offset still holds at least 90% of the samples, the records of the minority
 * period get the majority's offset. When no offset holds 90% (a clock change with a larger minority), the
 * upload decides nothing and each chunk decides for itself, as before.
 *
 * Everything here is a function of content (counts, no order within a scope), so the correction is the same
 * whatever order the records come in, and a chunk's output stays a function of its digest (the merge applies
 * each digest once). See pipeline/parsers/README.md ("Time") for the limits.
 */
import type { NormalizedEvent } from '../../../domain/event';
import { parseHost } from '../../graph/keys';
import {
  isEventTime,
  isFramingRejection,
  parseClockSample,
  type ReadItem,
  type RecordClock,
} from '../../parsers';

export const QUARTER_HOUR_MS = 15 * 60_000;
/** A sample farther than this from a whole quarter hour says nothing about the offset (and counts against it). */
export const ON_GRID_MS = 60_000;
/** Offsets beyond a day are not a clock setting (time zone, at worst a lost AM/PM): such samples count against. */
export const MAX_OFFSET_MS = 24 * 3600_000;
/** Fewest agreeing samples that establish an offset. */
export const MIN_SAMPLES = 3;
/** Share of the on-grid samples that must agree. */
export const MIN_AGREEMENT = 0.9;
/**
 * Most hosts an upload-wide collection tracks (first seen, in file order), and most an upload's offsets may
 * name: bounds the ingester's memory and every chunk's payload whatever the input. Hosts beyond it keep the
 * per-chunk correction.
 */
export const MAX_UPLOAD_HOSTS = 4096;
/** Longest host key (asset name) an upload's offsets may carry; longer names keep the per-chunk correction. */
export const MAX_HOST_KEY_CHARS = 255;
/** Raw spellings of host names remembered per collector (parseHost is cheap; this only saves repeats). */
const ASSET_CACHE = 10_000;

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

/** The key of a host's samples and offsets: the asset (short name, upper-case), as identity keys it. */
export function clockHostKey(host: string): string {
  return parseHost(host).short;
}

/** Clock samples per host, and the offset each host's samples establish. */
export class ClockSamples {
  private readonly hosts = new Map<string, HostSamples>();
  private readonly assets = new Map<string, string>();
  private decided: Map<string, LearnedOffset | undefined> | undefined;

  /** @param maxHosts hosts tracked, first come; samples of further hosts are ignored. */
  constructor(private readonly maxHosts = Number.POSITIVE_INFINITY) {}

  asset(host: string): string {
    let a = this.assets.get(host);
    if (a === undefined) {
      a = clockHostKey(host);
      if (this.assets.size < ASSET_CACHE) this.assets.set(host, a);
    }
    return a;
  }

  /** A record that carries both its time stamp and the true time (Sysmon UtcTime). */
  addSample(host: string, record: number, utc: number): void {
    const key = this.asset(host);
    let s = this.hosts.get(key);
    if (!s) {
      if (this.hosts.size >= this.maxHosts) return;
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
   * Every host's established offset (never 0), keyed by asset and sorted by it, so the same samples give
   * the same object, key order included (it goes into chunk digests). Keys longer than MAX_HOST_KEY_CHARS,
   * and the empty key, are left out: they could not travel in a chunk.
   */
  decisions(): Record<string, number> {
    const out: Array<[string, number]> = [];
    for (const [key, s] of this.hosts) {
      if (key.length === 0 || key.length > MAX_HOST_KEY_CHARS) continue;
      const d = decideOffset(s);
      if (d) out.push([key, d.offsetMs]);
    }
    return Object.fromEntries(out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  }
}

/**
 * The ingester's pre-pass over a whole upload: the same samples the parse stage would collect (records
 * parsed by the same parser with the same options: parseClockSample), decided by the same rules, for the
 * upload at once.
 * Only records whose text contains `UtcTime` can be samples (every shape spells the field so: flat and
 * winlogbeat JSON, EVTX JSON, `<Data Name="UtcTime">` in XML and EVTX), so only they are parsed. Rejected
 * and unparseable records are no samples. At most MAX_UPLOAD_HOSTS hosts, the first in file order.
 * `onProgress` hears the number of records read so far, every SCAN_PROGRESS_EVERY records and at the end.
 */
export async function learnUploadOffsets(
  records: AsyncIterable<ReadItem>,
  onProgress?: (scanned: number) => void,
): Promise<Record<string, number>> {
  const samples = new ClockSamples(MAX_UPLOAD_HOSTS);
  let scanned = 0;
  for await (const r of records) {
    if (++scanned % SCAN_PROGRESS_EVERY === 0) onProgress?.(scanned);
    if (isFramingRejection(r) || !r.text.includes('UtcTime')) continue;
    let sample;
    try {
      // The sample parseRawRecord's event would give, without building the event where that can be avoided.
      sample = parseClockSample(r, { keepUnsupported: true });
    } catch {
      // A parser bug costs this record its sample; the parse stage reports the record itself.
      continue;
    }
    if (sample) samples.addSample(sample.host, sample.record, sample.utc);
  }
  onProgress?.(scanned);
  return samples.decisions();
}

/** How often the pre-pass reports progress (records). */
const SCAN_PROGRESS_EVERY = 5000;

/**
 * The offsets that apply to one chunk: the upload's (RawChunk.clockOffsets) where it names the host, else
 * what the chunk's own Sysmon records establish. Feed every event to `observe` first, then `correct`.
 */
export class ClockOffsets {
  /** The chunk's own samples. */
  readonly samples = new ClockSamples();
  private readonly upload: ReadonlyMap<string, number>;

  constructor(upload?: Readonly<Record<string, number>>) {
    this.upload = new Map(upload ? Object.entries(upload) : []);
  }

  /** A record that carries both its time stamp and the true time (Sysmon UtcTime). */
  addSample(host: string, record: number, utc: number): void {
    this.samples.addSample(host, record, utc);
  }

  observe(event: NormalizedEvent, clock: RecordClock | undefined): void {
    this.samples.observe(event, clock);
  }

  /** The offset the chunk's own samples establish for the host (whatever the upload says). */
  offsetOf(host: string): LearnedOffset | undefined {
    return this.samples.offsetOf(host);
  }

  /** The offset applied to the host's records, and where it was learned. */
  appliedOffset(host: string): { offsetMs: number; scope: 'upload' | 'chunk' } | undefined {
    if (this.upload.size > 0) {
      const offsetMs = this.upload.get(this.samples.asset(host));
      if (offsetMs !== undefined) return { offsetMs, scope: 'upload' };
    }
    const learned = this.samples.offsetOf(host);
    return learned ? { offsetMs: learned.offsetMs, scope: 'chunk' } : undefined;
  }

  /**
   * The event with the host's offset removed from its time, when its time is the record's time stamp and
   * the host has an offset; the same event otherwise.
   */
  correct(event: NormalizedEvent, clock: RecordClock | undefined): NormalizedEvent {
    if (clock?.from !== 'record' || event.timeCorrection !== undefined) return event;
    const applied = this.appliedOffset(event.host);
    if (!applied) return event;
    const time = clock.record - applied.offsetMs;
    if (!isEventTime(time)) return event;
    return {
      ...event,
      time,
      timeCorrection: {
        by: 'sysmon-utc',
        scope: applied.scope,
        rawTime: clock.record,
        offsetMs: applied.offsetMs,
      },
    };
  }
}
