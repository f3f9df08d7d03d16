/**
 * Public types of the parser library. Kept apart from the code so framers, normalisers and callers share
 * one definition without import cycles.
 */
import type { NormalizedEvent } from '../../domain/event';

export type ParseResult =
  | { kind: 'event'; event: NormalizedEvent; clock?: RecordClock }
  /** `type` is `channel:eventId` for Windows events, `osquery:<table>[:<action>]` or `lensgraph/generic:<type>`. */
  | { kind: 'skipped'; type: string }
  /** `reason` is `<category>: <detail>`; the category (text before the first colon) is stable for counting. */
  | { kind: 'rejected'; reason: string };

/**
 * Windows events: the record's own time stamp (TimeCreated, `@timestamp`, System/TimeCreated), kept apart
 * from `event.time` because a shipper may have written it shifted (a local time labelled UTC). A Sysmon event
 * takes its time from UtcTime and carries both clocks, so the parse stage learns a host's shipper offset
 * from them (stages/parse/clock-offset.ts). Absent when the record has no readable time stamp of its own.
 */
export interface RecordClock {
  /** The record's time stamp, epoch ms, as written. */
  record: number;
  /** Where `event.time` came from: Sysmon's UtcTime, or this time stamp (then `event.time === record`). */
  from: 'UtcTime' | 'record';
}

/**
 * What a Sysmon event tells of its shipper's clock: the event as parseRawRecord makes it has `host`, its time
 * is `utc` (from UtcTime) and its clock is `{ record, from: 'UtcTime' }`. See parseClockSample.
 */
export interface ClockSample {
  host: string;
  /** The record's own time stamp, epoch ms, as written. */
  record: number;
  /** The event's time: Sysmon's UtcTime, epoch ms. */
  utc: number;
}

export type InputFormat = 'jsonl' | 'json-array' | 'xml' | 'evtx';

/**
 * One raw record as read from an input. `recordNo` is 1-based: the line number for JSON lines, the
 * ordinal of the value for JSON arrays / concatenated multi-line JSON, the ordinal of the `<Event>` for XML
 * and of the record for EVTX (framing rejections take a number in the same sequence).
 */
export interface RawRecord {
  recordNo: number;
  format: InputFormat;
  /** The raw text: one JSON value, or one `<Event>` element as XML (EVTX records are rendered to XML). */
  text: string;
}

/** A record lost at the framing level (line too long, broken EVTX chunk, gzip bomb, ...). */
export interface FramingRejection {
  recordNo: number;
  rejected: string;
  /** At most 200 characters, control and invisible characters replaced: safe to show. */
  firstBytes: string;
}

export type ReadItem = RawRecord | FramingRejection;

export interface ReadOptions {
  /** Longest record (JSON line, JSON value, XML `<Event>`) in bytes; longer ones are rejected. Default 1 MiB. */
  maxLineBytes?: number;
  /** Stop decompressing a gzip input past this many bytes. Default 4 GiB. */
  maxDecompressedBytes?: number;
  /**
   * Stop decompressing when decompressed/compressed exceeds this ratio (checked once more than 16 MiB are
   * out, so small files with a high ratio pass). Default 200; Sysmon JSON compresses about 35:1.
   */
  maxCompressionRatio?: number;
  /** Deepest JSON (or XML element) nesting accepted in one record. Default 64. */
  maxJsonDepth?: number;
}

export interface NormalizeOptions {
  /** Also produce events for well-formed Windows events of unsupported channels/ids (for the Sigma engine). */
  keepUnsupported?: boolean;
  /** Deepest JSON nesting accepted by parseRawRecord. Default 64. */
  maxJsonDepth?: number;
}

export const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 4 * 1024 * 1024 * 1024;
export const DEFAULT_MAX_COMPRESSION_RATIO = 200;
/** Below this many decompressed bytes the ratio is not checked: tiny inputs compress absurdly well. */
export const COMPRESSION_RATIO_GRACE_BYTES = 16 * 1024 * 1024;
export const DEFAULT_MAX_JSON_DEPTH = 64;

export interface ResolvedReadOptions {
  maxLineBytes: number;
  maxDecompressedBytes: number;
  maxCompressionRatio: number;
  maxJsonDepth: number;
}

export function resolveReadOptions(opts: ReadOptions | undefined): ResolvedReadOptions {
  return {
    maxLineBytes: positive(opts?.maxLineBytes, DEFAULT_MAX_LINE_BYTES),
    maxDecompressedBytes: positive(opts?.maxDecompressedBytes, DEFAULT_MAX_DECOMPRESSED_BYTES),
    maxCompressionRatio: positive(opts?.maxCompressionRatio, DEFAULT_MAX_COMPRESSION_RATIO),
    maxJsonDepth: positive(opts?.maxJsonDepth, DEFAULT_MAX_JSON_DEPTH),
  };
}

function positive(v: number | undefined, dflt: number): number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : dflt;
}

export function isFramingRejection(item: ReadItem): item is FramingRejection {
  return (item as FramingRejection).rejected !== undefined;
}
