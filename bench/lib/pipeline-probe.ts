/**
 * Reading what a pipeline run did, after the fact: per-stage timelines from BullMQ's own job records
 * (created / processed / finished times are kept for completed jobs), per-stage handler time from the
 * workers' `batch done` log lines, and the graph's size by label and relationship type.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { NODE_KINDS } from '../../domain/model';
import { STAGES, queueName, type StageName } from '../../domain/stages';
import type { GraphGateway } from '../../lib/neo4j';
import { keys } from '../../lib/redis';
import type { BatchLog } from './stack';
import { median, percentile, round } from './stats';

/** Total length of the union of intervals [start, end]. */
export function unionMs(intervals: ReadonlyArray<readonly [number, number]>): number {
  const sorted = intervals.filter(([a, b]) => b >= a).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let curStart = -Infinity;
  let curEnd = -Infinity;
  for (const [a, b] of sorted) {
    if (a > curEnd) {
      if (curEnd > curStart) total += curEnd - curStart;
      curStart = a;
      curEnd = b;
    } else if (b > curEnd) curEnd = b;
  }
  if (curEnd > curStart) total += curEnd - curStart;
  return total;
}

export interface StageTimeline {
  jobs: number;
  failedJobs: number;
  /** From the first job's start to the last job's finish, relative to the run's start. */
  firstStartMs: number | null;
  lastFinishMs: number | null;
  /** Time at least one job of the stage was being processed (union over workers). */
  busyMs: number;
  /** Time from a job's creation to its start: queueing behind busy workers. */
  waitMsP50: number | null;
  waitMsMax: number | null;
  /** Handler time only (no payload load/store), from the workers' logs. */
  batches: number;
  handlerMs: number;
  handlerMsP50: number | null;
  handlerMsMax: number | null;
  chunksPerBatch: number | null;
}

export async function stageTimelines(
  redis: Redis,
  prefix: string,
  since: number,
  logs: readonly BatchLog[],
): Promise<Record<StageName, StageTimeline>> {
  const out = {} as Record<StageName, StageTimeline>;
  for (const stage of STAGES) {
    const q = new Queue(queueName(stage), { connection: redis, prefix: keys(prefix).bullPrefix });
    try {
      const done = await q.getJobs(['completed'], 0, -1, true);
      const failed = await q.getJobs(['failed'], 0, -1, true);
      const jobs = [...done, ...failed].filter((j) => (j.timestamp ?? 0) >= since);
      const spans = jobs
        .filter((j) => j.processedOn !== undefined && j.finishedOn !== undefined)
        .map((j) => [j.processedOn!, j.finishedOn!] as const);
      const waits = jobs.filter((j) => j.processedOn !== undefined).map((j) => j.processedOn! - j.timestamp);
      const mine = logs.filter((l) => l.stage === stage && l.at >= since);
      const handler = mine.map((l) => l.ms);
      out[stage] = {
        jobs: jobs.length,
        failedJobs: failed.filter((j) => (j.timestamp ?? 0) >= since).length,
        firstStartMs: spans.length ? Math.min(...spans.map((s) => s[0])) - since : null,
        lastFinishMs: spans.length ? Math.max(...spans.map((s) => s[1])) - since : null,
        busyMs: unionMs(spans),
        waitMsP50: waits.length ? round(median(waits)) : null,
        waitMsMax: waits.length ? Math.max(...waits) : null,
        batches: mine.length,
        handlerMs: handler.reduce((a, b) => a + b, 0),
        handlerMsP50: handler.length ? round(percentile(handler, 50)) : null,
        handlerMsMax: handler.length ? Math.max(...handler) : null,
        chunksPerBatch: mine.length ? round(mine.reduce((a, l) => a + l.chunks, 0) / mine.length, 2) : null,
      };
    } finally {
      await q.close();
    }
  }
  return out;
}

export interface GraphSize {
  nodes: number;
  edges: number;
  /** Nodes of the domain model (domain/model.ts), without book-keeping and engagement labels. */
  domainNodes: number;
  byLabel: Record<string, number>;
  byType: Record<string, number>;
}

export async function graphSize(gateway: GraphGateway): Promise<GraphSize> {
  const labels = await gateway.query<{ label: string; n: number }>(
    'bench.graph.labels',
    'MATCH (n) UNWIND labels(n) AS label RETURN label, count(*) AS n ORDER BY label',
  );
  const types = await gateway.query<{ type: string; n: number }>(
    'bench.graph.types',
    'MATCH ()-[r]->() RETURN type(r) AS type, count(*) AS n ORDER BY type',
  );
  const [total] = await gateway.query<{ n: number }>('bench.graph.count', 'MATCH (n) RETURN count(n) AS n');
  const byLabel = Object.fromEntries(labels.map((r) => [r.label, r.n]));
  const byType = Object.fromEntries(types.map((r) => [r.type, r.n]));
  return {
    nodes: total?.n ?? 0,
    edges: types.reduce((a, r) => a + r.n, 0),
    domainNodes: NODE_KINDS.reduce((a, k) => a + (byLabel[k] ?? 0), 0),
    byLabel,
    byType,
  };
}

/** What a run added: `after` minus `before`, label by label and type by type (zeros left out). */
export function graphDelta(before: GraphSize, after: GraphSize): GraphSize {
  const diff = (a: Record<string, number>, b: Record<string, number>) => {
    const out: Record<string, number> = {};
    for (const k of Object.keys(b).sort()) {
      const d = (b[k] ?? 0) - (a[k] ?? 0);
      if (d !== 0) out[k] = d;
    }
    return out;
  };
  return {
    nodes: after.nodes - before.nodes,
    edges: after.edges - before.edges,
    domainNodes: after.domainNodes - before.domainNodes,
    byLabel: diff(before.byLabel, after.byLabel),
    byType: diff(before.byType, after.byType),
  };
}
