/**
 * Payload schemas of the stages: what each stage stores for the next. Payloads are validated when read
 * (they cross a process boundary through Redis), see lib/payload-store.ts.
 */
import { z } from 'zod';
import { NormalizedEvent } from '../domain/event';
import { Hit } from '../domain/detection';
import { Subgraph } from '../domain/model';
import { ChunkId } from '../domain/stages';
import {
  MAX_HOST_KEY_CHARS,
  MAX_OFFSET_MS,
  MAX_UPLOAD_HOSTS,
  QUARTER_HOUR_MS,
} from './stages/parse/clock-offset';

export const Digest = z.string().regex(/^[0-9a-f]{64}$/);

/** One raw record as cut by the ingester: text plus the format it was read as, or a framing rejection. */
export const RawItem = z.union([
  z.object({ n: z.number().int(), f: z.enum(['jsonl', 'json-array', 'xml', 'evtx']), t: z.string() }),
  z.object({ n: z.number().int(), rejected: z.string(), firstBytes: z.string() }),
]);
export type RawItem = z.infer<typeof RawItem>;

/**
 * A shipper's clock offset per host, learned by the ingester over a whole upload (stages/parse/clock-offset.ts):
 * host key (the asset: short name, upper-case) -> record time stamp - true time, in ms. Only hosts with a
 * shifted clock are listed, so every offset is a non-zero whole number of quarter hours within a day.
 */
export const ClockOffsetMap = z
  .record(
    z.string().min(1).max(MAX_HOST_KEY_CHARS),
    z
      .number()
      .int()
      .refine((v) => v !== 0 && v % QUARTER_HOUR_MS === 0 && Math.abs(v) <= MAX_OFFSET_MS, {
        message: 'a clock offset is a non-zero whole number of quarter hours within 24 h',
      }),
  )
  .refine((m) => Object.keys(m).length <= MAX_UPLOAD_HOSTS, {
    message: `clock offsets of at most ${MAX_UPLOAD_HOSTS} hosts`,
  });
export type ClockOffsetMap = z.infer<typeof ClockOffsetMap>;

/** A replay tag: letters and digits, at most 16 (it becomes part of host names and keys). */
export const ReplayTag = z.string().regex(/^[A-Za-z0-9]{1,16}$/, 'a replay tag is 1-16 letters or digits');

/** parse <- ingest */
export const RawChunk = z.object({
  chunk: ChunkId,
  /** File name (or upload name) the records came from. */
  source: z.string().max(1000),
  items: z.array(RawItem).max(100_000),
  /**
   * Content digest of the chunk (its records, replay tag and clock offsets). The merge and engage stages apply each
   * digest once, so the same data ingested twice (or replayed by a retry) leaves the graph unchanged.
   */
  digest: Digest,
  /** Replay the events under renamed hosts and remapped GUIDs (tests, benchmarks): see parse/replay.ts. */
  replay: ReplayTag.optional(),
  /**
   * The upload's clock offsets, the same in every chunk of an upload and part of the digest. Absent when
   * the upload showed none (and in payloads of older ingesters): the parse stage then learns from the chunk.
   */
  clockOffsets: ClockOffsetMap.optional(),
});
export type RawChunk = z.infer<typeof RawChunk>;

/** identify <- parse */
export const EventsPayload = z.object({
  parts: z.array(z.object({
      chunk: ChunkId,
      digest: Digest,
      source: z.string(),
      /** Events the graph model covers. */
      events: z.array(NormalizedEvent),
      /** Well-formed events outside the graph model (PowerShell, System, other Security ids): Sigma only. */
      sigmaOnly: z.array(NormalizedEvent).default([]),
    })),
});
export type EventsPayload = z.infer<typeof EventsPayload>;

export const Alias = z.object({ from: z.string().min(1), to: z.string().min(1) });

/** merge <- identify: one part per chunk, so the merge can apply each chunk exactly once. */
export const GraphPayload = z.object({
  parts: z.array(
    z.object({
      chunk: ChunkId,
      digest: Digest,
      subgraph: Subgraph, aliases: z.array(Alias), hits: z.array(Hit), events: z.number() }),
  ),
});
export type GraphPayload = z.infer<typeof GraphPayload>;

/** analyze <- merge */
export const UpdatePayload = z.object({
  parts: z.array(z.object({ chunk: ChunkId, digest: Digest, hits: z.array(Hit) })),
  /** Nodes the merged update created or changed: analyzers anchor on these. */
  changedKeys: z.array(z.string()),
});
export type UpdatePayload = z.infer<typeof UpdatePayload>;

/** engage <- analyze */
export const HitsPayload = z.object({
  parts: z.array(z.object({ chunk: ChunkId, digest: Digest, hits: z.array(Hit) })),
});
export type HitsPayload = z.infer<typeof HitsPayload>;
