/**
 * Process sessions in Redis: one hash per (asset, pid) under the namespace prefix, fields `v` (version)
 * and `s` (the session list as JSON). A call's writes are applied by one Lua script that first checks
 * every version, so a call's changes land all together or not at all (no alias is ever half-recorded).
 */
import type { Redis } from 'ioredis';
import { parseSessions, type SessionStore, type StoredTimeline, type TimelineWrite } from './store';

const COMMIT = `
local ttl = tonumber(ARGV[1])
for i = 1, #KEYS do
  local v = redis.call('HGET', KEYS[i], 'v')
  if (v or '0') ~= ARGV[2 * i] then return 0 end
end
for i = 1, #KEYS do
  redis.call('HSET', KEYS[i], 'v', tostring(tonumber(ARGV[2 * i]) + 1), 's', ARGV[2 * i + 1])
  if ttl > 0 then redis.call('PEXPIRE', KEYS[i], ttl) end
end
return 1
`;

export interface RedisSessionStoreOptions {
  /** Sessions of a pid not touched for this long are forgotten. Default 14 days. */
  ttlMs?: number;
}

export class RedisSessionStore implements SessionStore {
  private readonly ttlMs: number;

  /** `prefix`: the namespace, e.g. `<queue prefix>:id`; keys are `<prefix>:<ASSET>:<pid>`. */
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    opts: RedisSessionStoreOptions = {},
  ) {
    this.ttlMs = opts.ttlMs ?? 14 * 24 * 3600 * 1000;
  }

  private key(id: string): string {
    return `${this.prefix}:${id}`;
  }

  async load(ids: readonly string[]): Promise<Map<string, StoredTimeline>> {
    const out = new Map<string, StoredTimeline>();
    if (ids.length === 0) return out;
    const pipe = this.redis.pipeline();
    for (const id of ids) pipe.hmget(this.key(id), 'v', 's');
    const results = (await pipe.exec()) ?? [];
    ids.forEach((id, i) => {
      const [err, value] = results[i] ?? [new Error('missing reply'), null];
      if (err) throw err;
      const [v, s] = Array.isArray(value) ? (value as Array<string | null>) : [null, null];
      const version = v ? Number.parseInt(v, 10) : 0;
      out.set(id, { version: Number.isFinite(version) ? version : 0, sessions: parseSessions(s) });
    });
    return out;
  }

  async commit(writes: readonly TimelineWrite[]): Promise<boolean> {
    if (writes.length === 0) return true;
    const keys = writes.map((w) => this.key(w.id));
    const args: string[] = [String(this.ttlMs)];
    for (const w of writes) args.push(String(w.version), JSON.stringify(w.sessions));
    const r = await this.redis.eval(COMMIT, keys.length, ...keys, ...args);
    return r === 1;
  }
}
