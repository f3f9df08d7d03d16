/**
 * Queue contracts, declared once (ENGINEERING.md §2). Every stage of the pipeline, its queue, the stage
 * it feeds and its retry policy. Producers, workers, the API's pipeline status, tests and docs take names
 * from here, never from literals.
 *
 * Every message is an Envelope: a trace id, the uploads it carries work for (upload id -> number of
 * original chunks), when it was made, and the keys of stored payloads. Payloads themselves live in the
 * payload store under unguessable `<ms>-<uuidv4>` keys; no stage ever lists keys.
 */
import { z } from 'zod';

export const STAGES = ['parse', 'identify', 'merge', 'analyze', 'engage'] as const;
export type StageName = (typeof STAGES)[number];

export interface StageSpec {
  readonly name: StageName;
  readonly description: string;
  readonly next: StageName | null;
  /** Attempts before a job is failed for good (transient errors only; invalid payloads are not retried). */
  readonly attempts: number;
  /** Exponential backoff base, ms. */
  readonly backoffMs: number;
  /** Jobs a worker takes at once and merges (opportunistic batching). */
  readonly batchMax: number;
  /** Parallel batches per worker process. */
  readonly concurrency: number;
  /** Talks to Neo4j: only these stages get Neo4j settings and credentials (least privilege). */
  readonly usesNeo4j: boolean;
}

export const StageRegistry: Record<StageName, StageSpec> = {
  parse: {
    name: 'parse',
    description: 'raw records -> normalised events; rejects kept with a reason',
    next: 'identify',
    attempts: 5,
    backoffMs: 1000,
    batchMax: 1,
    concurrency: 1,
    usesNeo4j: false,
  },
  identify: {
    name: 'identify',
    description: 'events -> subgraph with stable node identities; Sigma rules evaluated per event',
    next: 'merge',
    attempts: 5,
    backoffMs: 1000,
    batchMax: 4,
    concurrency: 1,
    usesNeo4j: false,
  },
  merge: {
    name: 'merge',
    description: 'subgraphs coalesced and merged into Neo4j by per-property rules, exactly once',
    next: 'analyze',
    attempts: 8,
    backoffMs: 1000,
    batchMax: 8,
    concurrency: 1,
    usesNeo4j: true,
  },
  analyze: {
    name: 'analyze',
    description: 'graph analyzers anchored on the nodes the update changed -> hits',
    next: 'engage',
    attempts: 5,
    backoffMs: 1000,
    batchMax: 8,
    concurrency: 1,
    usesNeo4j: true,
  },
  engage: {
    name: 'engage',
    description: 'hits -> risks, engagement and asset lenses, scores',
    next: null,
    attempts: 8,
    backoffMs: 1000,
    batchMax: 16,
    concurrency: 1,
    usesNeo4j: true,
  },
};

/** Upload ids and payload keys share the unguessable `<ms>-<uuidv4>` form. */
export const OPAQUE_ID = /^\d{13}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * A chunk id names one original slice of an upload: `<uploadId>/<n>`. Chunk ids travel with the data
 * through every stage, so that progress is counted per chunk (idempotently) and the merge and engage
 * stages can apply each chunk exactly once even when retries regroup the batches upstream.
 */
export const ChunkId = z.string().regex(/^\d{13}-[0-9a-f-]{36}\/\d{1,9}$/);

export const Envelope = z.object({
  traceId: z.string().min(1).max(100),
  chunks: z.array(ChunkId).min(1).max(10_000),
  createdAt: z.number(),
  payloadKeys: z.array(z.string().regex(OPAQUE_ID)).min(1).max(1000),
});
export type Envelope = z.infer<typeof Envelope>;

export function chunkId(uploadId: string, n: number): string {
  return `${uploadId}/${n}`;
}

export function uploadOfChunk(chunk: string): string {
  return chunk.slice(0, chunk.indexOf('/'));
}

/** Queue name of a stage within a namespace prefix. */
export function queueName(stage: StageName): string {
  return `stage-${stage}`;
}
