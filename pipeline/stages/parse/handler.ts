/**
 * parse: raw records -> normalised events. Every record is handled on its own: a malformed one becomes
 * a rejected record (chunk, record number, reason, first bytes) and the rest of the chunk still lands.
 * Unsupported event types are counted as skipped, not rejected.
 */
import type { NormalizedEvent } from '../../../domain/event';
import type { ChunkStats, RejectedRecord } from '../../../lib/uploads';
import { parseRawRecord, safeFirstBytes } from '../../parsers';
import { RawChunk, type EventsPayload } from '../../payloads';
import type { StageDefinition } from '../../runner';
import { replayEvent } from './replay';

const FIRST_BYTES = 200;

export function parseChunk(chunk: RawChunk): {
  events: NormalizedEvent[];
  stats: ChunkStats;
  rejected: RejectedRecord[];
} {
  const events: NormalizedEvent[] = [];
  const rejected: RejectedRecord[] = [];
  const stats: ChunkStats = { read: 0, accepted: 0, skipped: {}, rejected: {} };
  const reject = (n: number, reason: string, text: string) => {
    const key = reason.split(':')[0] ?? reason;
    stats.rejected[key] = (stats.rejected[key] ?? 0) + 1;
    rejected.push({ source: chunk.source, recordNo: n, reason, firstBytes: safeFirstBytes(text.slice(0, FIRST_BYTES * 4)).slice(0, FIRST_BYTES) });
  };
  for (const item of chunk.items) {
    stats.read++;
    if ('rejected' in item) {
      reject(item.n, item.rejected, item.firstBytes);
      continue;
    }
    let result;
    try {
      result = parseRawRecord({ recordNo: item.n, format: item.f, text: item.t });
    } catch (err) {
      // A parser bug must cost one record, never the chunk.
      reject(item.n, `parser error: ${(err as Error).message}`, item.t);
      continue;
    }
    if (result.kind === 'event') {
      stats.accepted++;
      events.push(chunk.replay ? replayEvent(result.event, chunk.replay) : result.event);
    } else if (result.kind === 'skipped') {
      stats.skipped[result.type] = (stats.skipped[result.type] ?? 0) + 1;
    } else {
      reject(item.n, result.reason, item.t);
    }
  }
  return { events, stats, rejected };
}

export const parseStage: StageDefinition<RawChunk, EventsPayload> = {
  name: 'parse',
  payload: RawChunk,
  async handle(inputs, ctx) {
    const parts: EventsPayload['parts'] = [];
    for (const { payload } of inputs) {
      const { events, stats, rejected } = parseChunk(payload);
      await ctx.uploads.recordChunkStats(payload.chunk, stats, rejected);
      parts.push({ chunk: payload.chunk, digest: payload.digest, source: payload.source, events });
    }
    return { parts };
  },
};
