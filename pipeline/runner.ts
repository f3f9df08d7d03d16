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
 *
 * Crashes and outages (pipeline/faults.int.test.ts proves each):
 *   - a worker killed mid-batch: its jobs' locks expire, the stalled-job check returns them to the queue
 *     (up to `maxStalledCount` times, then they fail with BullMQ's reason and their chunks are marked failed);
 *   - killed after it handed a batch on but before it completed the batch's jobs: each job remembers the
 *     successor it was handed to (its progress), so a retry completes it without handing its chunks on a
 *     second time, whatever other jobs it is batched with now;
 *   - killed after completing but before deleting the payloads, or a job taken over by another worker:
 *     the loser finds the payload gone and the chunks done, and completes instead of failing;
 *   - a service the handler needs is down (`StageDefinition.ready` says no after an UNAVAILABLE error):
 *     the jobs go back to wait without spending an attempt and the worker takes no new job until it is up;
 *   - Redis down: every command waits for the reconnect (maxRetriesPerRequest: null), so work pauses.
 */
import { createHash, randomUUID } from 'node:crypto';
import os from 'node:os';
import { Queue, UnrecoverableError, Worker, type Job, MetricsTime } from 'bullmq';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { AppError } from '../domain/errors';
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
  /**
   * Are the services the handler needs reachable (Neo4j, say)? Asked when a batch fails with an
   * UNAVAILABLE error: when they are not, the jobs wait without spending an attempt and the worker takes
   * no new job until this says yes. Absent: every failure spends an attempt.
   */
  ready?(): Promise<boolean>;
}

export interface RunnerOptions {
  redis: Redis;
  /** A second connection for BullMQ's blocking commands. */
  connection: Redis;
  prefix: string;
  payloadTtlSeconds: number;
  log?: Logger;
  /** Lock duration (ms) of a job while a batch runs; renewed at half of it. Default 60 s. */
  lockDurationMs?: number;
  /** How often jobs of dead workers are looked for (ms). Default: the lock duration, at most 30 s. */
  stalledIntervalMs?: number;
  /** Times a job may lose its worker before it is failed. Default: the stage's `attempts`. */
  maxStalledCount?: number;
  /** While a needed service is down: how long jobs wait, and how often `ready` is asked (ms). Default 2 s. */
  outageRetryMs?: number;
}

/** What a job records in its progress: the successor job its chunks were handed on to. */
interface HandedOn {
  handedTo: string;
}

function handedTo(job: Job): string | undefined {
  const p: unknown = job.progress;
  if (typeof p === 'object' && p !== null && 'handedTo' in p && typeof (p as HandedOn).handedTo === 'string') {
    return (p as HandedOn).handedTo;
  }
  return undefined;
}

/** BullMQ's answer when the job is no longer ours: its lock expired and another worker took it over. */
function lostJob(err: unknown): boolean {
  const code = typeof err === 'object' && err !== null && 'code' in err ? (err as { code: unknown }).code : undefined;
  // JobNotExist, JobLockNotExist, JobNotInState, JobLockMismatch (bullmq/dist/esm/enums/error-code).
  return code === -1 || code === -2 || code === -3 || code === -6;
}

interface Item {
  job: Job;
  envelope: Envelope;
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
  /** Completion times of the last minute's jobs, for the heartbeat's throughput. */
  private recentDone: number[] = [];
  private failed = 0;
  private stopping = false;
  private loops: Promise<void>[] = [];
  private heartbeatTimer: NodeJS.Timeout | undefined;
  /** Set while a service the handler needs is down: no new job is taken. */
  private outage: Promise<void> | undefined;
  private readonly lockMs: number;

  constructor(
    private readonly def: StageDefinition<P, O>,
    private readonly opts: RunnerOptions,
  ) {
    const k = keys(opts.prefix);
    this.log = (opts.log ?? createLogger()).child({ stage: def.name, worker: this.workerId });
    this.store = new PayloadStore(opts.redis, opts.prefix, opts.payloadTtlSeconds);
    this.uploads = new Uploads(opts.redis, opts.prefix);
    this.lockMs = opts.lockDurationMs ?? 60_000;
    this.worker = new Worker(queueName(def.name), null, {
      connection: opts.connection,
      prefix: k.bullPrefix,
      lockDuration: this.lockMs,
      stalledInterval: opts.stalledIntervalMs ?? Math.min(30_000, this.lockMs),
      // BullMQ's default (1) fails a job the second time its worker dies: too eager when workers are
      // restarted (deploys, OOM kills of a neighbour); a job that kills every worker still ends failed.
      maxStalledCount: opts.maxStalledCount ?? StageRegistry[def.name].attempts,
      autorun: false,
      metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
      drainDelay: 2,
    });
    // Connection errors repeat on every reconnect attempt while Redis is down: log each change once.
    let lastError = '';
    const onError = (err: Error) => {
      if (err.message === lastError) return;
      lastError = err.message;
      this.log.warn('queue connection error', { err });
    };
    this.worker.on('error', onError);
    const nextStage = StageRegistry[def.name].next;
    this.next = nextStage
      ? new Queue(queueName(nextStage), { connection: opts.redis, prefix: k.bullPrefix })
      : null;
    this.next?.on('error', onError);
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
    const minuteAgo = Date.now() - 60_000;
    const firstRecent = this.recentDone.findIndex((t) => t > minuteAgo);
    this.recentDone = firstRecent < 0 ? [] : this.recentDone.slice(firstRecent);
    const hb: WorkerHeartbeat = {
      stage: this.def.name,
      workerId: this.workerId,
      pid: process.pid,
      host: os.hostname(),
      startedAt: this.startedAt,
      at: Date.now(),
      processed: this.processed,
      failed: this.failed,
      perMinute: this.recentDone.length,
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
      if (this.outage) {
        await this.outage;
        continue;
      }
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
      const renew = setInterval(() => {
        for (const j of batch) void j.extendLock(token, this.lockMs).catch(() => 0);
      }, this.lockMs / 2);
      try {
        await this.runBatch(batch, token);
      } catch (err) {
        // Bookkeeping itself failed (Redis gone for good?): the jobs stay active, their locks expire and the
        // stalled-job check hands them to a worker again. The loop must live on either way.
        this.log.error('batch bookkeeping failed; its jobs will be retried', { err });
      } finally {
        clearInterval(renew);
      }
    }
  }

  private async runBatch(batch: Job[], token: string): Promise<void> {
    // Validate every job on its own first: a bad envelope fails alone, without retry.
    const valid: Item[] = [];
    for (const job of batch) {
      if (job.deferredFailure) {
        // Its workers died `maxStalledCount` times (BullMQ's verdict, handed to whoever fetches it next).
        await this.fail(job, token, new UnrecoverableError(job.deferredFailure));
        continue;
      }
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
      if (await this.dependencyDown(err)) {
        await this.postpone(valid, token, err);
        return;
      }
      if (valid.length === 1) {
        await this.fail(valid[0]!.job, token, classify(err));
        return;
      }
      // Isolate the culprit: run each job alone.
      this.log.warn('batch failed; retrying its jobs one by one', { jobs: valid.length, err });
      for (const [i, v] of valid.entries()) {
        try {
          await this.process([v], token);
        } catch (e) {
          if (await this.dependencyDown(e)) {
            await this.postpone(valid.slice(i), token, e);
            return;
          }
          await this.fail(v.job, token, classify(e));
        }
      }
    }
  }

  private async process(all: Item[], token: string): Promise<void> {
    const nextStage = StageRegistry[this.def.name].next;
    // Jobs an earlier attempt handed on but died before completing: done, whatever they are batched with now.
    const items: Item[] = [];
    for (const item of all) {
      const to = handedTo(item.job);
      if (to && this.next && (await this.next.getJobState(to)) !== 'unknown') {
        this.log.info('already handed on; completing without work', { job: item.job.id, successor: to });
        await this.complete([item], token, item.envelope.chunks);
      } else {
        items.push(item);
      }
    }
    if (items.length === 0) return;

    let chunks = chunksOf(items);
    const traceId = items[0]!.envelope.traceId;
    const log = this.log.child({ trace: traceId, jobs: items.length, chunks: chunks.length });

    // Already done? (a retry after the successor was enqueued, or a replayed message)
    if (await this.alreadyDone(nextStage ? successorJobId(nextStage, chunks) : null, chunks)) {
      log.info('already done; completing without work');
      await this.complete(items, token, chunks);
      return;
    }

    const inputs: StageInput<P>[] = [];
    const loaded: Item[] = [];
    for (const item of items) {
      const { job, envelope } = item;
      try {
        for (const key of envelope.payloadKeys) {
          inputs.push({ jobId: String(job.id), key, envelope, payload: await this.store.get(key, this.def.payload) });
        }
        loaded.push(item);
      } catch (err) {
        if (err instanceof PayloadMissingError && (await this.uploads.isStageDone(this.def.name, envelope.chunks))) {
          // Another attempt finished these chunks and deleted the payload after we fetched the job (its lock
          // had expired, so BullMQ gave the job to both of us): nothing is lost, nothing to do.
          log.info('payload consumed by a finished attempt; completing', { job: job.id });
          await this.complete([item], token, envelope.chunks);
          for (let i = inputs.length - 1; i >= 0; i--) if (inputs[i]!.jobId === String(job.id)) inputs.splice(i, 1);
          continue;
        }
        if (err instanceof PayloadMissingError || err instanceof PayloadInvalidError) {
          throw new UnrecoverableError(err.message);
        }
        throw err;
      }
    }
    if (loaded.length === 0) return;
    chunks = chunksOf(loaded);
    const nextId = nextStage ? successorJobId(nextStage, chunks) : null;

    const t0 = Date.now();
    const output = await this.def.handle(inputs, { log, uploads: this.uploads, redis: this.opts.redis, prefix: this.opts.prefix });
    if (this.next && nextStage && nextId && output !== null) {
      const key = await this.store.put(output);
      const envelope: Envelope = { traceId, chunks, createdAt: Date.now(), payloadKeys: [key] };
      // Written ahead: should this worker die between the add and the completion, a retry of any of these
      // jobs sees the successor and completes instead of handing the same chunks on in another grouping.
      const mark: HandedOn = { handedTo: nextId };
      for (const { job } of loaded) await job.updateProgress(mark);
      await this.next.add(nextStage, envelope, jobOptions(nextStage, nextId));
    }
    await this.complete(loaded, token, chunks);
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
      try {
        await job.moveToCompleted('ok', token, false);
        this.processed++;
        this.recentDone.push(Date.now());
      } catch (err) {
        // Our lock expired and another worker has the job: it will find the work done and complete it.
        if (!lostJob(err)) throw err;
        this.log.warn('job taken over by another worker; leaving it to that one', { job: job.id, err });
      }
    }
  }

  private async fail(job: Job, token: string, err: Error): Promise<void> {
    this.log.warn('job failed', { job: job.id, attempt: job.attemptsMade + 1, err });
    const final = err instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    try {
      await job.moveToFailed(err, token, false);
    } catch (e) {
      // Not ours any more (another worker took it over) or Redis failed: its state is not ours to report.
      this.log.error('could not move job to failed', { job: job.id, err: e });
      return;
    }
    if (final) {
      this.failed++;
      const env = Envelope.safeParse(job.data);
      if (env.success) await this.uploads.markFailed(env.data.chunks, `${this.def.name}: ${err.message}`).catch(() => 0);
    }
  }

  /** Did this error come from a needed service being down (not from the jobs)? */
  private async dependencyDown(err: unknown): Promise<boolean> {
    if (!this.def.ready || !(err instanceof AppError) || err.code !== 'UNAVAILABLE') return false;
    return !(await this.def.ready().catch(() => false));
  }

  /** Put jobs back without spending an attempt, and stop taking new ones until the service is back. */
  private async postpone(items: Item[], token: string, err: unknown): Promise<void> {
    const retryMs = this.opts.outageRetryMs ?? 2000;
    for (const { job } of items) {
      await job.moveToDelayed(Date.now() + retryMs, token).catch((e: unknown) => {
        if (!lostJob(e)) this.log.warn('could not put a job back', { job: job.id, err: e });
      });
    }
    if (this.outage) return;
    this.log.warn('a service this stage needs is down; pausing until it is back', { jobs: items.length, err });
    const since = Date.now();
    this.outage = (async () => {
      while (!this.stopping) {
        await sleep(retryMs);
        if (await this.def.ready!().catch(() => false)) break;
      }
      this.log.info('service back; resuming', { pausedMs: Date.now() - since });
      this.outage = undefined;
    })();
  }
}

function chunksOf(items: Item[]): string[] {
  return [...new Set(items.flatMap((i) => i.envelope.chunks))].sort();
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
