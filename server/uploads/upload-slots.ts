/**
 * How many uploads to POST /api/ingest one caller may have in progress at once, across every web process
 * (issue #10: a leaked ingest token must not start dozens of multi-GiB uploads and saturate the web
 * process's CPU and temp disk).
 *
 * One Redis sorted set per caller (lib/redis.ts `uploadSlots`): a member per upload in progress, scored by
 * the time (Redis's clock, ms) its slot expires. Taking a slot is one Lua script: drop expired members,
 * count, add when below the limit, so two requests can never both take the last slot. The holder renews
 * its slot's expiry while the upload runs and removes it in `finally`; the slot of a web process that
 * died mid-upload is never removed, so it expires (after at most `ttlMs`) and the next acquire prunes it.
 *
 * The caller is an API token (its id) or, for session uploads, the account: hashed into the key name so
 * that no input ever shapes key names, and a token and an account can never share a set.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError } from '../../domain/errors';
import type { Logger } from '../../lib/log';
import { keys } from '../../lib/redis';
import type { Viewer } from '../auth/roles';

/** Default of LENSGRAPH_MAX_CONCURRENT_UPLOADS (lib/config.ts). */
export const DEFAULT_MAX_CONCURRENT_UPLOADS = 4;
/**
 * A slot lives this long without renewal: the longest a dead process's slot blocks its caller. Renewed
 * every `ttlMs / 4`, so a few missed renewals (a busy event loop, a Redis hiccup) do not lose it.
 */
export const UPLOAD_SLOT_TTL_MS = 60_000;
/**
 * Retry-After of a refusal. When a slot frees depends on uploads that end whenever they end, so this is
 * a polite polling interval, not a promise.
 */
export const UPLOAD_RETRY_AFTER_SECONDS = 5;

export interface UploadSlotSettings {
  /** Uploads in progress per caller (LENSGRAPH_MAX_CONCURRENT_UPLOADS). */
  limit: number;
  ttlMs?: number;
  renewMs?: number;
  retryAfterSeconds?: number;
}

/** A slot held by one upload; `release` is idempotent and never throws (it runs in `finally`). */
export interface UploadSlot {
  release(): Promise<void>;
}

/** What the ingest handler needs: a slot for the caller, or RATE_LIMITED (with `retryAfterSeconds`). */
export interface UploadGate {
  acquire(viewer: Viewer): Promise<UploadSlot>;
}

/** Who an upload counts against: the API token it came with, else the signed-in account. */
export function uploadCaller(viewer: Viewer): string {
  const who = viewer.via === 'token' && viewer.token ? `token\n${viewer.token.id}` : `user\n${viewer.username}`;
  return createHash('sha256').update(who).digest('hex');
}

/** The refusal when every slot of a caller is taken. */
export function tooManyUploads(limit: number, retryAfterSeconds: number): AppError {
  return new AppError(
    'RATE_LIMITED',
    `At most ${limit} upload${limit === 1 ? '' : 's'} at a time per caller; try again when one has finished.`,
    { retryAfterSeconds, limit },
  );
}

/** Resolved settings: renewal well inside the lifetime, both at least 1 ms. */
export function slotTimings(s: UploadSlotSettings): { ttlMs: number; renewMs: number } {
  const ttlMs = Math.max(1, Math.floor(s.ttlMs ?? UPLOAD_SLOT_TTL_MS));
  const renewMs = Math.max(1, Math.min(Math.floor(s.renewMs ?? ttlMs / 4), Math.floor(ttlMs / 2)));
  return { ttlMs, renewMs };
}

/** Redis's clock in ms (every web process agrees on it, whatever their own clocks say). */
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/** KEYS[1] the caller's set; ARGV slot id, limit, ttl ms. 1: taken, 0: full. */
const ACQUIRE = `${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then return 0 end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return 1`;

/** KEYS[1] the caller's set; ARGV slot id, ttl ms. 1: renewed, 0: gone (released, or expired and pruned). */
const RENEW = `${NOW}
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
redis.call('ZADD', KEYS[1], 'XX', now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1`;

function scriptResult(raw: unknown, what: string): boolean {
  if (raw === 0 || raw === 1) return raw === 1;
  throw new Error(`upload slots: unexpected ${what} reply ${JSON.stringify(raw)}`);
}

export class UploadSlots implements UploadGate {
  private readonly keys: ReturnType<typeof keys>;
  private readonly ttlMs: number;
  private readonly renewMs: number;
  private readonly retryAfterSeconds: number;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly settings: UploadSlotSettings,
    private readonly log?: Logger,
  ) {
    if (!Number.isInteger(settings.limit) || settings.limit < 1) {
      throw new Error(`upload slots: limit must be a positive integer, not ${settings.limit}`);
    }
    this.keys = keys(prefix);
    ({ ttlMs: this.ttlMs, renewMs: this.renewMs } = slotTimings(settings));
    this.retryAfterSeconds = settings.retryAfterSeconds ?? UPLOAD_RETRY_AFTER_SECONDS;
  }

  async acquire(viewer: Viewer): Promise<UploadSlot> {
    const key = this.keys.uploadSlots(uploadCaller(viewer));
    const id = randomUUID();
    const taken = scriptResult(
      await this.redis.eval(ACQUIRE, 1, key, id, this.settings.limit, this.ttlMs),
      'acquire',
    );
    if (!taken) throw tooManyUploads(this.settings.limit, this.retryAfterSeconds);

    let released = false;
    const renew = async () => {
      try {
        const held = scriptResult(await this.redis.eval(RENEW, 1, key, id, this.ttlMs), 'renew');
        if (!held && !released) {
          // Only when renewals failed for a whole lifetime: the upload goes on, uncounted from now.
          this.log?.warn('upload slot lost before the upload ended', { slot: id });
        }
      } catch (err) {
        // The next renewal tries again; the slot lives for several renewal intervals.
        this.log?.warn('upload slot renewal failed', { err: err instanceof Error ? err.message : String(err) });
      }
    };
    const timer = setInterval(() => void renew(), this.renewMs);
    // A slot must never keep a process alive.
    timer.unref();
    return {
      release: async () => {
        if (released) return;
        released = true;
        clearInterval(timer);
        try {
          await this.redis.zrem(key, id);
        } catch (err) {
          // Not given back: it expires on its own after ttlMs.
          this.log?.warn('upload slot release failed', { err: err instanceof Error ? err.message : String(err) });
        }
      },
    };
  }
}
