/**
 * Record-level entry points: which shape a decoded record is (checked by cheap property reads, most
 * common shape first), and raw text to ParseResult. This is the parse stage's hot path: no zod, no regular
 * expressions, fields read once.
 */
import { errorMessage } from './field-values';
import { isGenericRecord, normalizeGeneric } from './generic-event';
import { expandOsqueryBatch, isOsqueryRecord, normalizeOsquery } from './osquery';
import {
  DEFAULT_MAX_JSON_DEPTH,
  type ClockSample,
  type NormalizeOptions,
  type ParseResult,
  type RawRecord,
} from './types';
import { rejected } from './windows-event';
import { flatClockSample, normalizeEvtxJson, normalizeFlat, normalizeWinlogbeat } from './windows-json';
import { normalizeXmlEvent } from './xml-event';
import { jsonNestingExceeds } from './field-values';

type Obj = Record<string, unknown>;

/** Normalise one already-decoded JSON record (any of the JSON shapes, osquery, generic). */
export function normalizeRecord(record: unknown, opts?: NormalizeOptions): ParseResult {
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    return rejected(
      `invalid record: expected a JSON object, got ${Array.isArray(record) ? 'an array' : typeof record}`,
    );
  }
  const r = record as Obj;
  if (r.EventID !== undefined) return normalizeFlat(r, opts);
  if (r.Event !== undefined) return normalizeEvtxJson(r, opts);
  if (r.event_id !== undefined || r.event_data !== undefined || r.log_name !== undefined) {
    return normalizeWinlogbeat(r, opts);
  }
  if (r.winlog !== null && typeof r.winlog === 'object') return normalizeWinlogbeat(r, opts);
  if (isOsqueryRecord(r)) return normalizeOsquery(r);
  if (isGenericRecord(r)) return normalizeGeneric(r);
  // A flat record whose EventID went missing is still recognisably a Windows event: say what is wrong.
  if (r.Channel !== undefined || r.Hostname !== undefined) return normalizeFlat(r, opts);
  return rejected('unrecognised record: not Sysmon/Windows JSON, osquery or generic event format');
}

/**
 * Several results for records that hold several events (osquery snapshot / diffResults batches); one
 * result for everything else.
 */
export function normalizeRecords(record: unknown, opts?: NormalizeOptions): ParseResult[] {
  if (record !== null && typeof record === 'object' && !Array.isArray(record)) {
    const rows = isOsqueryRecord(record as Obj) ? expandOsqueryBatch(record as Obj) : undefined;
    if (rows !== undefined) return rows.map((row) => normalizeRecord(row, opts));
  }
  return [normalizeRecord(record, opts)];
}

/** Parse one raw record (JSON text, XML `<Event>`, EVTX record rendered to XML). */
export function parseRawRecord(raw: RawRecord, opts?: NormalizeOptions): ParseResult {
  if (raw.format === 'xml' || raw.format === 'evtx') return normalizeXmlEvent(raw.text, opts);
  const text = raw.text;
  const maxDepth = opts?.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH;
  if (jsonNestingExceeds(text, maxDepth)) return rejected(`JSON too deep: nesting deeper than ${maxDepth}`);
  let record: unknown;
  try {
    record = JSON.parse(text);
  } catch (err) {
    return rejected(`invalid JSON: ${errorMessage(err).slice(0, 120)}`);
  }
  return normalizeRecord(record, opts);
}

/**
 * The clock sample of one raw record: exactly what parseRawRecord(raw, opts) tells of it, a Sysmon event
 * (host, time from UtcTime) with a `UtcTime` clock (the record's time stamp), or undefined for any other
 * result. For the flat JSON shape (by far the most common) the event itself is not built: only the envelope,
 * UtcTime and the time stamp are read. Every other shape is parsed in full. Like parseRawRecord, it may throw
 * on a parser bug.
 */
export function parseClockSample(raw: RawRecord, opts?: NormalizeOptions): ClockSample | undefined {
  let result: ParseResult;
  if (raw.format === 'xml' || raw.format === 'evtx') {
    result = normalizeXmlEvent(raw.text, opts);
  } else {
    const text = raw.text;
    if (jsonNestingExceeds(text, opts?.maxJsonDepth ?? DEFAULT_MAX_JSON_DEPTH)) return undefined;
    let record: unknown;
    try {
      record = JSON.parse(text);
    } catch {
      return undefined;
    }
    if (record === null || typeof record !== 'object' || Array.isArray(record)) return undefined;
    // normalizeRecord's first choice: the flat shape.
    if ((record as Obj).EventID !== undefined) return flatClockSample(record as Obj, opts);
    result = normalizeRecord(record, opts);
  }
  if (result.kind !== 'event' || result.clock?.from !== 'UtcTime') return undefined;
  return { host: result.event.host, record: result.clock.record, utc: result.event.time };
}
