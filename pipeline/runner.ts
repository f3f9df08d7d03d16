/**
 * The one runner that does a stage's plumbing (ENGINEERING.md §3). A stage is a plain handler that takes
 * parsed inputs and returns its output; the runner:
 *   - takes up to `batchMax` waiting jobs at once (opportunistic batching) and hands them over together,
 *   - validates envelopes and payloads (one that does not parse is failed without retry),
 *   - skips work already done (a retried job whose successor exists, or whose chunks are done),
 *   - stores the output, enqueues the next stage under a job id derived from content,
 *   - records per-chunk progress, deletes consumed payloads, completes the jobs,
 *   - sorts failures: a batch that fails is retried job by job so one poison payload cannot take its
 *     neighbours down; invalid input fails at once; other errors retry with backoff up to the limit,
 *   - keeps a heartbeat in Redis, and stops cleanly on SIGINT/SIGTERM.
 * Workers open no listening port: they only talk to Redis (and Neo4j, for stages that need it).
 */
import { createHash, randomUUID } from 'node:crypto';
import os from 'node:os';
import { Queue, UnrecoverableError, Worker, type Job, MetricsTime } from 'bullmq';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { Envelope, StageRegistry, queueName, type StageName } from '../domain/stages';
import { createLogger, type Logger } from '../lib/log';
import { PayloadInvalidError, PayloadMissingError, PayloadStore } from '../lib/payload-store';
import { HEARTBEAT_TTL_SECONDS, keys, type WorkerHeartbeat } from '../lib/redis';
import { Uploads } from '../lib/uploads';

export interface StageInput<P> {
  jobId: string;
  key: string;
  envelope: Envelope;
  payload: P;
}

export interface StageContext {
  log: Logger;
  uploads: Uploads;
  redis: Redis;
  prefix: string;
}

export interface StageDefinition<P, O> {
  name: StageName;
  payload: z.ZodType<P>;
  /**
   * Handle a batch. Returns the payload for the next stage (null for the last stage, or when there is
   * nothing to hand on). Throwing fails the batch; the runner then retries its jobs one by one.
   */
  handle(inputs: StageInput<P>[], ctx: StageContext): Promise<O | null>;
}

export interface RunnerOptions {
  redis: Redis;
  /** A second connection for BullMQ's blocking commands. */
  connection: Redis;
  prefix: string;
  payloadTtlSeconds: number;
  log?: Logger;
  /** Lock duration (ms) of a job while a batch runs; renewed at half of it. */
  lockDurationMs?: number;
}

export const JOB_RETENTION = {
  removeOnComplete: { age: 24 * 3600, count: 50_000 },
  removeOnFail: { age: 14 * 24 * 3600, count: 10_000 },
} as const;

/** Job id of the successor of a set of chunks at a stage: content-derived, so a retry cannot double it. */
export function successorJobId(stage: StageName, chunks: string[]): string {
  const h = createHash('sha256').update(chunks.slice().sort().join('\n')).digest('hex').slice(0, 40);
  return `${stage}-${h}`;
}

export function jobOptions(stage: StageName, jobId: string) {
  const spec = StageRegistry[stage];
  return {
    jobId,
    attempts: spec.attempts,
    backoff: { type: 'exponential' as const, delay: spec.backoffMs },
    ...JOB_RETENTION,
  };
}

export class StageRunner<P, O> {
  private readonly log: Logger;
  private readonly store: PayloadStore;
  private readonly uploads: Uploads;
  private readonly worker: Worker;
  private readonly next: Queue | null;
  private readonly workerId = randomUUID().slice(0, 8);
  private readonly startedAt = Date.now();
  private processed = 0;
  private failed = 0;
  private stopping = false;
  private loops: Promise<void>[] = [];
  private heartbeatTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly def: StageDefinition<P, O>,
    private readonly opts: RunnerOptions,
  ) {
    const k = keys(opts.prefix);
    this.log = (opts.log ?? createLogger()).child({ stage: def.name, worker: this.workerId });
    this.store = new PayloadStore(opts.redis, opts.prefix, opts.payloadTtlSeconds);
    this.uploads = new Uploads(opts.redis, opts.prefix);
    this.worker = new Worker(queueName(def.name), null, {
      connection: opts.connection,
      prefix: k.bullPrefix,
      lockDuration: opts.lockDurationMs ?? 60_000,
      autorun: false,
      metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
      drainDelay: 2,
    });
    this.worker.on('error', (err) => this.log.error('worker error', { err }));
    const nextStage = StageRegistry[def.name].next;
    this.next = nextStage
      ? new Queue(queueName(nextStage), { connection: opts.redis, prefix: k.bullPrefix })
      : null;
  }

  get name(): StageName {
    return this.def.name;
  }

  async start(): Promise<void> {
    await this.worker.startStalledCheckTimer();
    await this.beat();
    this.heartbeatTimer = setInterval(() => void this.beat(), 5000);
    const n = StageRegistry[this.def.name].concurrency;
    for (let i = 0; i < n; i++) this.loops.push(this.loop());
    this.log.info('stage worker started', { concurrency: n, batchMax: StageRegistry[this.def.name].batchMax });
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.allSettled(this.loops);
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    await this.opts.redis.hdel(keys(this.opts.prefix).heartbeats, `${this.def.name}:${this.workerId}`).catch(() => 0);
    await this.worker.close();
    await this.next?.close();
    this.log.info('stage worker stopped', { processed: this.processed, failed: this.failed });
  }

  private async beat(): Promise<void> {
    const hb: WorkerHeartbeat = {
      stage: this.def.name,
      workerId: this.workerId,
      pid: process.pid,
      host: os.hostname(),
      startedAt: this.startedAt,
      at: Date.now(),
      processed: this.processed,
      failed: this.failed,
    };
    try {
      const k = keys(this.opts.prefix);
      await this.opts.redis.hset(k.heartbeats, `${this.def.name}:${this.workerId}`, JSON.stringify(hb));
      await this.opts.redis.expire(k.heartbeats, HEARTBEAT_TTL_SECONDS * 20);
    } catch (err) {
      this.log.warn('heartbeat failed', { err });
    }
  }

  private async loop(): Promise<void> {
    const batchMax = StageRegistry[this.def.name].batchMax;
    while (!this.stopping) {
      const token = randomUUID();
      let first: Job | undefined;
      try {
        first = (await this.worker.getNextJob(token, { block: true })) as Job | undefined;
      } catch (err) {
        if (this.stopping) break;
        this.log.warn('fetching a job failed; retrying', { err });
        await sleep(1000);
        continue;
      }
      if (!first) continue;
      const batch: Job[] = [first];
      while (batch.length < batchMax && !this.stopping) {
        const more = (await this.worker.getNextJob(token, { block: false }).catch(() => undefined)) as Job | undefined;
        if (!more) break;
        batch.push(more);
      }
      const lock = this.opts.lockDurationMs ?? 60_000;
      const renew = setInterval(() => {
        for (const j of batch) void j.extendLock(token, lock).catch(() => 0);
      }, lock / 2);
      try {
        await this.runBatch(batch, token);
      } finally {
        clearInterval(renew);
      }
    }
  }

  private async runBatch(batch: Job[], token: string): Promise<void> {
    // Validate every job on its own first: a bad envelope fails alone, without retry.
    const valid: Array<{ job: Job; envelope: Envelope }> = [];
    for (const job of batch) {
      const parsed = Envelope.safeParse(job.data);
      if (!parsed.success) {
        await this.fail(job, token, new UnrecoverableError(`invalid envelope: ${parsed.error.issues[0]?.message}`));
        continue;
      }
      valid.push({ job, envelope: parsed.data });
    }
    if (valid.length === 0) return;
    try {
      await this.process(valid, token);
    } catch (err) {
      if (valid.length === 1) {
        await this.fail(valid[0]!.job, token, classify(err));
        return;
      }
      // Isolate the culprit: run each job alone.
      this.log.warn('batch failed; retrying its jobs one by one', { jobs: valid.length, err });
      for (const v of valid) {
        try {
          await this.process([v], token);
        } catch (e) {
          await this.fail(v.job, token, classify(e));
        }
      }
    }
  }

  private async process(items: Array<{ job: Job; envelope: Envelope }>, token: string): Promise<void> {
    const chunks = [...new Set(items.flatMap((i) => i.envelope.chunks))].sort();
    const traceId = items[0]!.envelope.traceId;
    const log = this.log.child({ trace: traceId, jobs: items.length, chunks: chunks.length });
    const nextStage = StageRegistry[this.def.name].next;
    const nextId = nextStage ? successorJobId(nextStage, chunks) : null;

    // Already done? (a retry after the successor was enqueued, or a replayed message)
    if (await this.alreadyDone(nextId, chunks)) {
      log.info('already done; completing without work');
      await this.complete(items, token, chunks);
      return;
    }

    const inputs: StageInput<P>[] = [];
    for (const { job, envelope } of items) {
      for (const key of envelope.payloadKeys) {
        try {
          inputs.push({ jobId: String(job.id), key, envelope, payload: await this.store.get(key, this.def.payload) });
        } catch (err) {
          if (err instanceof PayloadMissingError || err instanceof PayloadInvalidError) {
            throw new UnrecoverableError(err.message);
          }
          throw err;
        }
      }
    }

    const t0 = Date.now();
    const output = await this.def.handle(inputs, { log, uploads: this.uploads, redis: this.opts.redis, prefix: this.opts.prefix });
    if (this.next && nextStage && nextId && output !== null) {
      const key = await this.store.put(output);
      const envelope: Envelope = { traceId, chunks, createdAt: Date.now(), payloadKeys: [key] };
      await this.next.add(nextStage, envelope, jobOptions(nextStage, nextId));
    }
    await this.complete(items, token, chunks);
    await this.store.delete(inputs.map((i) => i.key)).catch(() => undefined);
    log.info('batch done', { ms: Date.now() - t0 });
  }

  private async alreadyDone(nextId: string | null, chunks: string[]): Promise<boolean> {
    if (nextId && this.next) {
      const state = await this.next.getJobState(nextId);
      if (state !== 'unknown') return true;
    }
    return this.uploads.isStageDone(this.def.name, chunks);
  }

  private async complete(items: Array<{ job: Job }>, token: string, chunks: string[]): Promise<void> {
    await this.uploads.markStageDone(this.def.name, chunks);
    for (const { job } of items) {
      await job.moveToCompleted('ok', token, false);
      this.processed++;
    }
  }

  private async fail(job: Job, token: string, err: Error): Promise<void> {
    this.log.warn('job failed', { job: job.id, attempt: job.attemptsMade + 1, err });
    const final = err instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    try {
      await job.moveToFailed(err, token, false);
    } catch (e) {
      this.log.error('could not move job to failed', { job: job.id, err: e });
    }
    if (final) {
      this.failed++;
      const env = Envelope.safeParse(job.data);
      if (env.success) await this.uploads.markFailed(env.data.chunks, `${this.def.name}: ${err.message}`).catch(() => 0);
    }
  }
}

/** Sort an error: invalid input never succeeds on retry; everything else may. */
function classify(err: unknown): Error {
  if (err instanceof UnrecoverableError) return err;
  if (err instanceof PayloadInvalidError || err instanceof PayloadMissingError) return new UnrecoverableError(err.message);
  if (err instanceof Error && err.name === 'ZodError') return new UnrecoverableError(`invalid payload: ${err.message}`);
  return err instanceof Error ? err : new Error(String(err));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
