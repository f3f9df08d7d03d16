/**
 * Installation health for the Pipeline page: are Redis and Neo4j reachable, which workers have sent a
 * heartbeat recently, and how many jobs wait in each stage's queue. Every probe has a deadline, so a
 * dead backing service shows as "down" instead of hanging the page.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { STAGES, queueName, type StageName } from '../../domain/stages';
import type { Logger } from '../../lib/log';
import type { GraphGateway } from '../../lib/neo4j';
import { HEARTBEAT_TTL_SECONDS, keys } from '../../lib/redis';
import { requirePermission, type Viewer } from '../auth/roles';

const HeartbeatSchema = z.object({
  stage: z.string(),
  workerId: z.string(),
  pid: z.number(),
  host: z.string(),
  startedAt: z.number(),
  at: z.number(),
  processed: z.number(),
  failed: z.number(),
  // Absent in heartbeats of workers older than this field.
  perMinute: z.number().default(0),
});

export interface WorkerStatus {
  stage: string;
  workerId: string;
  host: string;
  pid: number;
  up: boolean;
  startedAt: number;
  lastSeen: number;
  processed: number;
  failed: number;
  /** Jobs completed in the last minute. */
  perMinute: number;
}

export interface StageStatus {
  name: StageName;
  /** Null when the queue could not be read (Redis down). */
  waiting: number | null;
  active: number | null;
  delayed: number | null;
  failed: number | null;
  completed: number | null;
  workersUp: number;
  /** Jobs completed in the last minute by the stage's live workers. */
  perMinute: number;
}

export interface Health {
  redis: boolean;
  neo4j: boolean;
  workers: WorkerStatus[];
  stages: StageStatus[];
  checkedAt: number;
}

/** Workers silent for longer than this are left out of the list (restarts leave old ids behind). */
const FORGET_AFTER_MS = 10 * 60 * 1000;
const PROBE_TIMEOUT_MS = 3000;

export function withDeadline<T>(work: Promise<T>, ms: number, fallback: T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(fallback), ms);
  });
  return Promise.race([work.catch(() => fallback), deadline]).finally(() => clearTimeout(timer));
}

/** Pure: heartbeat hash values -> worker statuses (malformed entries skipped). */
export function parseHeartbeats(raw: Record<string, string>, now: number): WorkerStatus[] {
  const workers: WorkerStatus[] = [];
  for (const value of Object.values(raw)) {
    let json: unknown;
    try {
      json = JSON.parse(value);
    } catch {
      continue;
    }
    const hb = HeartbeatSchema.safeParse(json);
    if (!hb.success) continue;
    const age = now - hb.data.at;
    if (age > FORGET_AFTER_MS) continue;
    workers.push({
      stage: hb.data.stage,
      workerId: hb.data.workerId,
      host: hb.data.host,
      pid: hb.data.pid,
      up: age <= HEARTBEAT_TTL_SECONDS * 1000,
      startedAt: hb.data.startedAt,
      lastSeen: hb.data.at,
      processed: hb.data.processed,
      failed: hb.data.failed,
      perMinute: hb.data.perMinute,
    });
  }
  const order = (s: string) => {
    const i = (STAGES as readonly string[]).indexOf(s);
    return i < 0 ? STAGES.length : i;
  };
  return workers.sort((a, b) => order(a.stage) - order(b.stage) || a.workerId.localeCompare(b.workerId));
}

export class HealthService {
  private queues: Map<StageName, Queue> | undefined;

  constructor(private readonly deps: { redis: Redis; gateway: GraphGateway; prefix: string; log: Logger }) {}

  private queue(stage: StageName): Queue {
    this.queues ??= new Map();
    let q = this.queues.get(stage);
    if (!q) {
      q = new Queue(queueName(stage), {
        connection: this.deps.redis,
        prefix: keys(this.deps.prefix).bullPrefix,
        // Fail fast instead of waiting for a connection when Redis is down.
        skipWaitingForReady: true,
      });
      q.on('error', (err) => this.deps.log.warn('queue connection error', { stage, err }));
      this.queues.set(stage, q);
    }
    return q;
  }

  async health(viewer: Viewer | null, now = Date.now()): Promise<Health> {
    requirePermission(viewer, 'read');
    const { redis, gateway, prefix } = this.deps;
    const [redisUp, neo4jUp, rawHeartbeats] = await Promise.all([
      withDeadline(
        redis.ping().then((r) => r === 'PONG'),
        PROBE_TIMEOUT_MS,
        false,
      ),
      withDeadline(gateway.ping(), PROBE_TIMEOUT_MS, false),
      withDeadline(redis.hgetall(keys(prefix).heartbeats), PROBE_TIMEOUT_MS, {} as Record<string, string>),
    ]);
    const workers = parseHeartbeats(rawHeartbeats, now);
    const stages = await Promise.all(
      STAGES.map(async (name): Promise<StageStatus> => {
        const counts = redisUp
          ? await withDeadline(
              this.queue(name).getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed'),
              PROBE_TIMEOUT_MS,
              null,
            )
          : null;
        const count = (k: string) => (counts ? (counts[k] ?? 0) : null);
        return {
          name,
          waiting: count('waiting'),
          active: count('active'),
          delayed: count('delayed'),
          failed: count('failed'),
          completed: count('completed'),
          workersUp: workers.filter((w) => w.stage === name && w.up).length,
          perMinute: workers.filter((w) => w.stage === name && w.up).reduce((a, w) => a + w.perMinute, 0),
        };
      }),
    );
    return { redis: redisUp, neo4j: neo4jUp, workers, stages, checkedAt: now };
  }

  async close(): Promise<void> {
    const queues = [...(this.queues?.values() ?? [])];
    this.queues = undefined;
    await Promise.allSettled(queues.map((q) => q.close()));
  }
}
