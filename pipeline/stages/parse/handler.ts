/**
 * parse: raw records -> normalised events. Every record is handled on its own: a malformed one becomes
 * a rejected record (chunk, record number, reason, first bytes) and the rest of the chunk still lands.
 * Event types outside the graph model are counted as skipped, not rejected, and still handed on for
 * Sigma (PowerShell script blocks, service installs, other Security events have rules of their own).
 * Records whose time stamp a shipper wrote shifted get their time corrected by the offset the upload's
 * Sysmon records of the same host show (carried in the chunk), else the chunk's own (clock-offset.ts).
 */
import type { NormalizedEvent } from '../../../domain/event';
import type { ChunkStats, RejectedRecord } from '../../../lib/uploads';
import {
  parseRawRecord,
  safeFirstBytes,
  SUPPORTED_SECURITY_IDS,
  SUPPORTED_SYSMON_IDS,
  type RecordClock,
} from '../../parsers';
import { RawChunk, type EventsPayload } from '../../payloads';
import type { StageDefinition } from '../../runner';
import { ClockOffsets } from './clock-offset';
import { replayEvent } from './replay';

const FIRST_BYTES = 200;

const SYSMON = new Set(SUPPORTED_SYSMON_IDS);
const SECURITY = new Set(SUPPORTED_SECURITY_IDS);

/** Does the graph model cover this event? (Others are counted as skipped, and seen by Sigma only.) */
export function isGraphEvent(e: NormalizedEvent): boolean {
  if (e.source === 'sysmon') return SYSMON.has(e.eventId);
  if (e.source === 'security') return SECURITY.has(e.eventId);
  return e.source === 'osquery' || e.source === 'generic';
}

export function parseChunk(chunk: RawChunk): {
  events: NormalizedEvent[];
  sigmaOnly: NormalizedEvent[];
  stats: ChunkStats;
  rejected: RejectedRecord[];
} {
  const parsed: Array<{ event: NormalizedEvent; clock: RecordClock | undefined }> = [];
  const clocks = new ClockOffsets(chunk.clockOffsets);
  const rejected: RejectedRecord[] = [];
  const stats: ChunkStats = { read: 0, accepted: 0, skipped: {}, rejected: {} };
  const reject = (n: number, reason: string, text: string) => {
    const key = reason.split(':')[0] ?? reason;
    stats.rejected[key] = (stats.rejected[key] ?? 0) + 1;
    rejected.push({
      source: chunk.source,
      recordNo: n,
      reason,
      firstBytes: safeFirstBytes(text.slice(0, FIRST_BYTES * 4)).slice(0, FIRST_BYTES),
    });
  };
  for (const item of chunk.items) {
    stats.read++;
    if ('rejected' in item) {
      reject(item.n, item.rejected, item.firstBytes);
      continue;
    }
    let result;
    try {
      result = parseRawRecord({ recordNo: item.n, format: item.f, text: item.t }, { keepUnsupported: true });
    } catch (err) {
      // A parser bug must cost one record, never the chunk.
      reject(item.n, `parser error: ${(err as Error).message}`, item.t);
      continue;
    }
    if (result.kind === 'event') {
      clocks.observe(result.event, result.clock);
      parsed.push({ event: result.event, clock: result.clock });
    } else if (result.kind === 'skipped') {
      stats.skipped[result.type] = (stats.skipped[result.type] ?? 0) + 1;
    } else {
      reject(item.n, result.reason, item.t);
    }
  }
  // Offsets are known only once the whole chunk has been read: a Security record may precede the Sysmon
  // records that reveal its host's offset.
  const events: NormalizedEvent[] = [];
  const sigmaOnly: NormalizedEvent[] = [];
  const replayedGuids = new Map<string, string>();
  for (const p of parsed) {
    const corrected = clocks.correct(p.event, p.clock);
    const event = chunk.replay ? replayEvent(corrected, chunk.replay, replayedGuids) : corrected;
    if (isGraphEvent(event)) {
      stats.accepted++;
      events.push(event);
    } else {
      const type = `${event.channel}:${event.eventId}`;
      stats.skipped[type] = (stats.skipped[type] ?? 0) + 1;
      sigmaOnly.push(event);
    }
  }
  return { events, sigmaOnly, stats, rejected };
}

export const parseStage: StageDefinition<RawChunk, EventsPayload> = {
  name: 'parse',
  payload: RawChunk,
  async handle(inputs, ctx) {
    const parts: EventsPayload['parts'] = [];
    for (const { payload } of inputs) {
      const { events, sigmaOnly, stats, rejected } = parseChunk(payload);
      await ctx.uploads.recordChunkStats(payload.chunk, stats, rejected);
      parts.push({ chunk: payload.chunk, digest: payload.digest, source: payload.source, events, sigmaOnly });
    }
    return { parts };
  },
};
