/**
 * CorrelationState in Redis, so that correlation windows are shared by every worker and survive a
 * restart. Each (correlation, group) has a sorted set (window members scored by event time) and a hash
 * (numeric fields), under `<keyPrefix>:<digest>`. Window updates run as one Lua script, so concurrent
 * workers adding to the same group never lose a member; field updates are single HSET commands.
 *
 * Keys expire after the correlation's timespan plus a grace period in wall-clock time: windows are kept
 * in event time, and the grace covers a pipeline that pauses while event time stands still.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { CorrelationState } from './correlation';

/** Extra wall-clock lifetime of a group's keys beyond its timespan. */
export const CORRELATION_TTL_GRACE_MS = 15 * 60_000;

const WINDOW_ADD = `
local cur = redis.call('ZSCORE', KEYS[1], ARGV[1])
if (not cur) or tonumber(cur) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[2], ARGV[1])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return redis.call('ZCARD', KEYS[1])
`;
const WINDOW_ADD_SHA = createHash('sha1').update(WINDOW_ADD).digest('hex');

export interface RedisCorrelationStateOptions {
  /** Namespace of every key, e.g. `<queue prefix>:corr` (tests use a random one). */
  readonly keyPrefix: string;
  readonly ttlGraceMs?: number;
}

function toInt(v: unknown, what: string): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' ? Number(v) : NaN;
  if (!Number.isFinite(n)) throw new Error(`unexpected Redis reply for ${what}: ${String(v)}`);
  return n;
}

export class RedisCorrelationState implements CorrelationState {
  private readonly prefix: string;
  private readonly grace: number;

  constructor(
    private readonly redis: Redis,
    opts: RedisCorrelationStateOptions,
  ) {
    this.prefix = opts.keyPrefix;
    this.grace = opts.ttlGraceMs ?? CORRELATION_TTL_GRACE_MS;
  }

  /** Engine keys hold NUL separators and unbounded group values: store a fixed-length digest instead. */
  private key(key: string, kind: 'w' | 'f'): string {
    return `${this.prefix}:${createHash('sha256').update(key).digest('base64url').slice(0, 32)}:${kind}`;
  }

  async windowAdd(key: string, member: string, time: number, windowMs: number): Promise<number> {
    const args = [
      this.key(key, 'w'),
      member,
      String(time),
      String(time - windowMs),
      String(windowMs + this.grace),
    ];
    let reply: unknown;
    try {
      reply = await this.redis.evalsha(WINDOW_ADD_SHA, 1, ...args);
    } catch (e) {
      if (!String((e as Error).message).includes('NOSCRIPT')) throw e;
      reply = await this.redis.eval(WINDOW_ADD, 1, ...args);
    }
    return toInt(reply, 'windowAdd');
  }

  async getFields(key: string): Promise<Record<string, number>> {
    const raw: Record<string, string> = await this.redis.hgetall(this.key(key, 'f'));
    const out: Record<string, number> = {};
    for (const [k, v] of Object.entries(raw)) {
      const n = Number(v);
      if (Number.isFinite(n)) out[k] = n;
    }
    return out;
  }

  async setFields(
    key: string,
    fields: Readonly<Record<string, number>>,
    _time: number,
    ttlMs: number,
  ): Promise<void> {
    const entries = Object.entries(fields);
    if (entries.length === 0) return;
    const k = this.key(key, 'f');
    await this.redis
      .multi()
      .hset(k, Object.fromEntries(entries.map(([f, v]) => [f, String(v)])))
      .pexpire(k, ttlMs + this.grace)
      .exec();
  }

  async clear(key: string): Promise<void> {
    await this.redis.del(this.key(key, 'w'), this.key(key, 'f'));
  }
}
