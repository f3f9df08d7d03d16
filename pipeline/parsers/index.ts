/**
 * The parser library: host telemetry in any supported shape to NormalizedEvent (domain/event.ts).
 *
 *   readRecords / readRecordsFromStream   file or byte stream -> raw records (framing only, streamed)
 *   parseRawRecord                        one raw record -> event | skipped | rejected
 *   normalizeRecord                       one decoded JSON record -> event | skipped | rejected
 *
 * Formats: Sysmon/Windows JSON (flat NXLog, winlogbeat 6/7, EVTX JSON of python-evtx/evtx_dump), Windows
 * event XML, .evtx, osquery results, the generic event format (docs/generic-event-format.md); any of them
 * gzip-compressed. Pure code: no Redis, no Neo4j.
 */
export type {
  ClockSample,
  FramingRejection,
  InputFormat,
  NormalizeOptions,
  ParseResult,
  RawRecord,
  ReadItem,
  ReadOptions,
  RecordClock,
} from './types';
export {
  DEFAULT_MAX_COMPRESSION_RATIO,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  DEFAULT_MAX_JSON_DEPTH,
  DEFAULT_MAX_LINE_BYTES,
  isFramingRejection,
} from './types';
export { normalizeRecord, normalizeRecords, parseClockSample, parseRawRecord } from './normalize-record';
export { byteChunks, readRecords, readRecordsFromStream, type ByteStream } from './read-records';
export { listInputFiles, looksLikeTelemetry } from './list-input-files';
export { expandOsqueryBatch } from './osquery';
export { GENERIC_EVENT_IDS } from './generic-event';
export { SUPPORTED_SECURITY_IDS, SUPPORTED_SYSMON_IDS, canonicalChannel } from './windows-event';
export { isEventTime, normalizeGuid, parseTimestamp, safeFirstBytes } from './field-values';
