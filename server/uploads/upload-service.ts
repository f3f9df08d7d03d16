/**
 * Uploads as the API shows them: the recent list, one upload's progress through the stages, its
 * rejected records, and a live stream of its progress. The bookkeeping itself is lib/uploads.ts
 * (written by the ingester and the stage runner); this service adds who may see what:
 *   - anyone who may read (viewer and up, `read` tokens) sees every upload;
 *   - an `ingest` token sees only the uploads it sent, by id (never the list).
 */
import type { Redis } from 'ioredis';
import { AppError } from '../../domain/errors';
import { OPAQUE_ID } from '../../domain/stages';
import type { Logger } from '../../lib/log';
import type { RejectedRecord, UploadProgress, Uploads } from '../../lib/uploads';
import { authKeys } from '../auth/auth-keys';
import { allows, requirePermission, type Viewer } from '../auth/roles';
import { watch } from '../live/watch';

/** Same lifetime as the upload bookkeeping itself (lib/uploads.ts). */
const TOKEN_UPLOADS_TTL_SECONDS = 14 * 24 * 3600;

export const UPLOAD_LIST_MAX = 100;
export const REJECTED_LIST_MAX = 1000;

export interface UploadServiceDeps {
  uploads: Uploads;
  redis: Redis;
  prefix: string;
  log: Logger;
  /** Poll interval of live progress (ms). */
  pollMs?: number;
}

const clamp = (value: number | null | undefined, fallback: number, max: number): number => {
  if (value === null || value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1)
    throw new AppError('BAD_INPUT', `limit: must be 1 to ${max}`, { field: 'limit' });
  return Math.min(value, max);
};

export function parseUploadId(id: unknown): string {
  if (typeof id !== 'string' || !OPAQUE_ID.test(id)) {
    throw new AppError('BAD_INPUT', 'id: not an upload id', { field: 'id' });
  }
  return id;
}

export class UploadService {
  private readonly keys: ReturnType<typeof authKeys>;

  constructor(private readonly deps: UploadServiceDeps) {
    this.keys = authKeys(deps.prefix);
  }

  async list(viewer: Viewer | null, limit?: number | null): Promise<UploadProgress[]> {
    requirePermission(viewer, 'read');
    const ids = await this.deps.uploads.list(clamp(limit, 20, UPLOAD_LIST_MAX));
    const all = await Promise.all(ids.map((id) => this.deps.uploads.progress(id)));
    // An index entry can outlive its upload's hash (expired): leave those out.
    return all.filter((p): p is UploadProgress => p !== null);
  }

  async get(viewer: Viewer | null, rawId: string): Promise<UploadProgress | null> {
    const id = await this.requireRead(viewer, rawId);
    return this.deps.uploads.progress(id);
  }

  async rejected(viewer: Viewer | null, rawId: string, limit?: number | null): Promise<RejectedRecord[]> {
    const id = await this.requireRead(viewer, rawId);
    return this.deps.uploads.rejected(id, clamp(limit, 100, REJECTED_LIST_MAX));
  }

  /**
   * Progress of one upload as it changes: the current state at once, then every change, ending after
   * the upload is done. NOT_FOUND before streaming when the upload does not exist.
   */
  async watch(
    viewer: Viewer | null,
    rawId: string,
    signal?: AbortSignal,
  ): Promise<AsyncIterable<UploadProgress>> {
    const id = await this.requireRead(viewer, rawId);
    if ((await this.deps.uploads.progress(id)) === null) throw new AppError('NOT_FOUND', 'No such upload');
    return watch<UploadProgress>({
      read: async () => (await this.deps.uploads.progress(id)) ?? undefined,
      isFinal: (p) => p.done,
      ...(this.deps.pollMs ? { intervalMs: this.deps.pollMs } : {}),
      ...(signal ? { signal } : {}),
    });
  }

  /** Remember that an ingest token sent this upload (so it may read its progress). */
  async rememberTokenUpload(viewer: Viewer, uploadId: string): Promise<void> {
    if (viewer.via !== 'token' || !viewer.token) return;
    const key = this.keys.tokenUploads(viewer.token.id);
    await this.deps.redis.multi().sadd(key, uploadId).expire(key, TOKEN_UPLOADS_TTL_SECONDS).exec();
  }

  private async requireRead(viewer: Viewer | null, rawId: string): Promise<string> {
    if (!viewer) throw new AppError('UNAUTHENTICATED');
    const id = parseUploadId(rawId);
    if (allows(viewer, 'read')) return id;
    if (viewer.via === 'token' && viewer.token?.scope === 'ingest') {
      const own = await this.deps.redis.sismember(this.keys.tokenUploads(viewer.token.id), id);
      if (own === 1) return id;
    }
    throw new AppError('FORBIDDEN');
  }
}
