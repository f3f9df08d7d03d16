/**
 * Upload bookkeeping in Redis. Every write is idempotent (per-chunk hash fields and sets), so a retried
 * stage never double-counts: progress of a stage is the number of distinct chunks it has finished.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { STAGES, type StageName, uploadOfChunk } from '../domain/stages';
import { keys } from './redis';

export const RejectedRecord = z.object({
  source: z.string(),
  recordNo: z.number(),
  reason: z.string(),
  firstBytes: z.string(),
});
export type RejectedRecord = z.infer<typeof RejectedRecord>;

export const ChunkStats = z.object({
  read: z.number(),
  accepted: z.number(),
  skipped: z.record(z.string(), z.number()),
  rejected: z.record(z.string(), z.number()),
});
export type ChunkStats = z.infer<typeof ChunkStats>;

export interface UploadMeta {
  id: string;
  name: string;
  createdAt: number;
  createdBy: string;
}

export interface UploadProgress extends UploadMeta {
  totalChunks: number | null;
  sealed: boolean;
  stages: Record<StageName, number>;
  records: { read: number; accepted: number; skipped: Record<string, number>; rejected: Record<string, number> };
  graph: { nodesWritten: number; edgesWritten: number; nodesIn: number; edgesIn: number };
  findings: number;
  done: boolean;
  failed: number;
  error?: string;
}

/** Rejected records kept per chunk; more are counted but not stored. */
export const MAX_REJECTED_KEPT_PER_CHUNK = 200;
const UPLOAD_TTL_SECONDS = 14 * 24 * 3600;

export class Uploads {
  private readonly k: ReturnType<typeof keys>;
  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.k = keys(prefix);
  }

  private h(id: string, part: string) {
    return `${this.k.upload(id)}:${part}`;
  }

  async create(meta: UploadMeta): Promise<void> {
    await this.redis
      .multi()
      .hset(this.k.upload(meta.id), {
        id: meta.id,
        name: meta.name,
        createdAt: String(meta.createdAt),
        createdBy: meta.createdBy,
        sealed: '0',
      })
      .expire(this.k.upload(meta.id), UPLOAD_TTL_SECONDS)
      .zadd(this.k.uploadIndex, meta.createdAt, meta.id)
      .exec();
  }

  /** All chunks are enqueued: from now on the upload is complete once every stage finished them all. */
  async seal(id: string, totalChunks: number, error?: string): Promise<void> {
    const fields: Record<string, string> = { sealed: '1', totalChunks: String(totalChunks) };
    if (error) fields.error = error;
    await this.redis.hset(this.k.upload(id), fields);
  }

  async recordChunkStats(chunk: string, stats: ChunkStats, rejected: RejectedRecord[]): Promise<void> {
    const id = uploadOfChunk(chunk);
    const n = chunk.slice(chunk.indexOf('/') + 1);
    const m = this.redis.multi();
    m.hset(this.h(id, 'stats'), n, JSON.stringify(stats));
    if (rejected.length > 0) {
      m.hset(this.h(id, 'rejected'), n, JSON.stringify(rejected.slice(0, MAX_REJECTED_KEPT_PER_CHUNK)));
    }
    for (const part of ['stats', 'rejected']) m.expire(this.h(id, part), UPLOAD_TTL_SECONDS);
    await m.exec();
  }

  async recordFindings(chunks: string[], findingsPerChunk: Map<string, number>): Promise<void> {
    const m = this.redis.multi();
    for (const chunk of chunks) {
      const id = uploadOfChunk(chunk);
      m.hset(this.h(id, 'findings'), chunk, String(findingsPerChunk.get(chunk) ?? 0));
      m.expire(this.h(id, 'findings'), UPLOAD_TTL_SECONDS);
    }
    await m.exec();
  }

  async recordGraph(chunks: string[], report: { nodesWritten: number; edgesWritten: number; nodesIn: number; edgesIn: number }): Promise<void> {
    // The merge stage writes many chunks at once; its counts are attributed to the first chunk of each
    // upload in the batch, keyed by the batch so a retry overwrites rather than adds.
    const byUpload = new Map<string, string[]>();
    for (const c of chunks) {
      const u = uploadOfChunk(c);
      byUpload.set(u, [...(byUpload.get(u) ?? []), c]);
    }
    const m = this.redis.multi();
    const share = byUpload.size;
    for (const [id, cs] of byUpload) {
      const field = cs.slice().sort().join(',');
      const part = {
        nodesWritten: Math.round(report.nodesWritten / share),
        edgesWritten: Math.round(report.edgesWritten / share),
        nodesIn: Math.round(report.nodesIn / share),
        edgesIn: Math.round(report.edgesIn / share),
      };
      m.hset(this.h(id, 'graph'), field, JSON.stringify(part));
      m.expire(this.h(id, 'graph'), UPLOAD_TTL_SECONDS);
    }
    await m.exec();
  }

  async markStageDone(stage: StageName, chunks: string[]): Promise<void> {
    const m = this.redis.multi();
    for (const chunk of chunks) {
      const id = uploadOfChunk(chunk);
      m.sadd(this.h(id, `done:${stage}`), chunk);
      m.expire(this.h(id, `done:${stage}`), UPLOAD_TTL_SECONDS);
    }
    await m.exec();
  }

  async isStageDone(stage: StageName, chunks: string[]): Promise<boolean> {
    const m = this.redis.multi();
    for (const chunk of chunks) m.sismember(this.h(uploadOfChunk(chunk), `done:${stage}`), chunk);
    const res = (await m.exec()) ?? [];
    return res.length > 0 && res.every(([err, v]) => !err && v === 1);
  }

  async markFailed(chunks: string[], reason: string): Promise<void> {
    const m = this.redis.multi();
    for (const chunk of chunks) {
      const id = uploadOfChunk(chunk);
      m.hset(this.h(id, 'failed'), chunk, reason.slice(0, 500));
      m.expire(this.h(id, 'failed'), UPLOAD_TTL_SECONDS);
    }
    await m.exec();
  }

  async rejected(id: string, limit = 1000): Promise<RejectedRecord[]> {
    const all = await this.redis.hgetall(this.h(id, 'rejected'));
    const out: RejectedRecord[] = [];
    const chunkNos = Object.keys(all).sort((a, b) => Number(a) - Number(b));
    for (const n of chunkNos) {
      const parsed = z.array(RejectedRecord).safeParse(JSON.parse(all[n] ?? '[]'));
      if (parsed.success) out.push(...parsed.data);
      if (out.length >= limit) break;
    }
    return out.slice(0, limit);
  }

  async list(limit = 50): Promise<string[]> {
    return this.redis.zrevrange(this.k.uploadIndex, 0, limit - 1);
  }

  async progress(id: string): Promise<UploadProgress | null> {
    const m = this.redis.multi();
    m.hgetall(this.k.upload(id));
    m.hvals(this.h(id, 'stats'));
    m.hvals(this.h(id, 'graph'));
    m.hvals(this.h(id, 'findings'));
    m.hlen(this.h(id, 'failed'));
    m.hvals(this.h(id, 'failed'));
    for (const s of STAGES) m.scard(this.h(id, `done:${s}`));
    const res = (await m.exec()) ?? [];
    const val = (i: number): unknown => res[i]?.[1];
    const meta = val(0) as Record<string, string> | undefined;
    if (!meta || !meta.id) return null;
    const records = { read: 0, accepted: 0, skipped: {} as Record<string, number>, rejected: {} as Record<string, number> };
    for (const s of (val(1) as string[]) ?? []) {
      const p = ChunkStats.safeParse(JSON.parse(s));
      if (!p.success) continue;
      records.read += p.data.read;
      records.accepted += p.data.accepted;
      for (const [k, v] of Object.entries(p.data.skipped)) records.skipped[k] = (records.skipped[k] ?? 0) + v;
      for (const [k, v] of Object.entries(p.data.rejected)) records.rejected[k] = (records.rejected[k] ?? 0) + v;
    }
    const graph = { nodesWritten: 0, edgesWritten: 0, nodesIn: 0, edgesIn: 0 };
    for (const s of (val(2) as string[]) ?? []) {
      const g = JSON.parse(s) as Partial<typeof graph>;
      graph.nodesWritten += g.nodesWritten ?? 0;
      graph.edgesWritten += g.edgesWritten ?? 0;
      graph.nodesIn += g.nodesIn ?? 0;
      graph.edgesIn += g.edgesIn ?? 0;
    }
    const findings = ((val(3) as string[]) ?? []).reduce((a, s) => a + Number(s), 0);
    const failed = Number(val(4) ?? 0);
    const failReasons = (val(5) as string[]) ?? [];
    const stages = {} as Record<StageName, number>;
    STAGES.forEach((s, i) => (stages[s] = Number(val(6 + i) ?? 0)));
    // A chunk a later stage finished was finished by every stage before it, though its mark there may be
    // missing for a moment: a worker killed after handing a batch on and before marking it leaves the mark
    // to the retry, which can come after the rest of the pipeline is through. Each stage may write only
    // its own mark (lib/redis-acl.ts), so the count carries the later stages' forward instead.
    for (let i = STAGES.length - 2; i >= 0; i--) {
      const s = STAGES[i]!;
      stages[s] = Math.max(stages[s], stages[STAGES[i + 1]!]);
    }
    const totalChunks = meta.totalChunks !== undefined ? Number(meta.totalChunks) : null;
    const sealed = meta.sealed === '1';
    const last = STAGES[STAGES.length - 1] as StageName;
    const done = sealed && totalChunks !== null && stages[last] + failed >= totalChunks;
    const error = meta.error ?? failReasons[0];
    return {
      id: meta.id,
      name: meta.name ?? '',
      createdAt: Number(meta.createdAt ?? 0),
      createdBy: meta.createdBy ?? '',
      totalChunks,
      sealed,
      stages,
      records,
      graph,
      findings,
      done,
      failed,
      ...(error ? { error } : {}),
    };
  }
}
