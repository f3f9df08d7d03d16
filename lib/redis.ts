/**
 * Redis connections and key names. Every key lives under the configured prefix so that tests (and
 * several installations on one Redis) never collide. Key names are built here and nowhere else.
 */
import { Redis, type RedisOptions } from 'ioredis';

export function createRedis(url: string, opts: RedisOptions = {}): Redis {
  return new Redis(url, {
    // BullMQ requires this for blocking connections; harmless elsewhere.
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    lazyConnect: false,
    connectionName: opts.connectionName ?? 'lensgraph',
    retryStrategy: (times) => Math.min(times * 200, 2000),
    ...opts,
  });
}

export interface WorkerHeartbeat {
  stage: string;
  workerId: string;
  pid: number;
  host: string;
  startedAt: number;
  at: number;
  processed: number;
  failed: number;
  /** Jobs this worker completed in the last minute. */
  perMinute: number;
}

export const HEARTBEAT_TTL_SECONDS = 15;

/** All Redis key names, per namespace prefix. */
export function keys(prefix: string) {
  return {
    /** BullMQ's own prefix (its keys are `<prefix>:q:<queue>:...`). */
    bullPrefix: `${prefix}:q`,
    payload: (key: string) => `${prefix}:p:${key}`,
    /** Hash: field `<stage>:<workerId>` -> JSON WorkerHeartbeat; a worker is up while `at` is recent. */
    heartbeats: `${prefix}:hb`,
    upload: (uploadId: string) => `${prefix}:up:${uploadId}`,
    uploadRejected: (uploadId: string) => `${prefix}:up:${uploadId}:rejected`,
    uploadSkipped: (uploadId: string) => `${prefix}:up:${uploadId}:skipped`,
    /** The parts of one upload's bookkeeping (lib/uploads.ts): `stats`, `rejected`, `done:<stage>`, ... */
    uploadPart: (uploadId: string, part: string) => `${prefix}:up:${uploadId}:${part}`,
    uploadIndex: `${prefix}:uploads`,
    sessions: (asset: string, pid: string) => `${prefix}:id:${asset}:${pid}`,
    stageStats: (stage: string) => `${prefix}:stats:${stage}`,
    /** Sigma correlation windows (pipeline/sigma/correlation-redis.ts adds its own digests). */
    sigmaCorrelation: `${prefix}:sigma:corr`,
    /** Process session identities (pipeline/identity). */
    identity: `${prefix}:id`,
    events: `${prefix}:events`,
    /** Every key of one BullMQ queue starts with this plus `:` (`<bullPrefix>:<queue>:wait`, `...:<jobId>`). */
    queueBase: (queue: string) => `${prefix}:q:${queue}`,
    /** Web sessions and login limits (server/auth/auth-keys.ts builds the names below it). */
    authBase: `${prefix}:auth`,
    /**
     * Sorted set: the uploads to /api/ingest one caller has in progress, slot id scored by its expiry (ms);
     * `caller` is a digest (server/uploads/upload-slots.ts), never raw input.
     */
    uploadSlots: (caller: string) => `${prefix}:slots:${caller}`,
    /** Pub/sub channels of live updates (server/live/live-hub.ts): `<liveBase>:<topic>`. */
    liveBase: `${prefix}:live`,
  };
}
export type KeyNames = ReturnType<typeof keys>;
