/**
 * Login sessions in Redis. A session id is 256 random bits handed to the browser in the cookie; Redis
 * holds only its SHA-256, so a copy of Redis does not yield usable sessions. Sessions expire after a
 * fixed time from login (LENSGRAPH_SESSION_TTL_HOURS); logout deletes one, and changing or disabling an
 * account deletes all of its sessions.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { authKeys } from './auth-keys';
import { isWellFormedSessionId } from './cookies';
import { RoleSchema, type Role } from './roles';

const StoredSession = z.object({
  username: z.string().min(1),
  role: RoleSchema,
  createdAt: z.number(),
});
export type StoredSession = z.infer<typeof StoredSession>;

export interface SessionRecord extends StoredSession {
  idHash: string;
}

export function hashSessionId(id: string): string {
  return createHash('sha256').update(id).digest('hex');
}

export class SessionStore {
  private readonly keys: ReturnType<typeof authKeys>;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    readonly ttlSeconds: number,
  ) {
    this.keys = authKeys(prefix);
  }

  /** Create a session; returns the id for the cookie (the only place it ever exists in clear). */
  async create(username: string, role: Role, now = Date.now()): Promise<{ id: string; idHash: string }> {
    const id = randomBytes(32).toString('base64url');
    const idHash = hashSessionId(id);
    const value: StoredSession = { username, role, createdAt: now };
    const userSet = this.keys.accountSessions(username);
    await this.redis
      .multi()
      .set(this.keys.session(idHash), JSON.stringify(value), 'EX', this.ttlSeconds)
      .sadd(userSet, idHash)
      // The set lives as long as its newest session.
      .expire(userSet, this.ttlSeconds)
      .exec()
      .then(throwOnMultiError);
    return { id, idHash };
  }

  async get(id: string): Promise<SessionRecord | null> {
    if (!isWellFormedSessionId(id)) return null;
    const idHash = hashSessionId(id);
    const raw = await this.redis.get(this.keys.session(idHash));
    if (raw === null) return null;
    const parsed = StoredSession.safeParse(safeJson(raw));
    return parsed.success ? { ...parsed.data, idHash } : null;
  }

  async delete(idHash: string, username: string): Promise<void> {
    await this.redis
      .multi()
      .del(this.keys.session(idHash))
      .srem(this.keys.accountSessions(username), idHash)
      .exec()
      .then(throwOnMultiError);
  }

  /** End every session of an account (role changed, account disabled). */
  async deleteAllFor(username: string): Promise<number> {
    const setKey = this.keys.accountSessions(username);
    const hashes = await this.redis.smembers(setKey);
    const tx = this.redis.multi();
    for (const h of hashes) tx.del(this.keys.session(h));
    tx.del(setKey);
    await tx.exec().then(throwOnMultiError);
    return hashes.length;
  }
}

function safeJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

export function throwOnMultiError(results: [Error | null, unknown][] | null): [Error | null, unknown][] {
  if (results === null) throw new Error('Redis transaction aborted');
  for (const [err] of results) if (err) throw err;
  return results;
}
