/**
 * Failed-login limits in Redis. Two counters per attempt, both in a fixed window that starts at the
 * first failure:
 *   - username + client address: the ordinary limit (10 failures / 15 min);
 *   - username from any address: a higher ceiling (100 / 15 min) so rotating addresses (or a spoofed
 *     X-Forwarded-For) does not allow unbounded guessing.
 * A successful login clears the per-address counter. Usernames are hashed into the key so arbitrary
 * input never shapes key names.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { AppError } from '../../domain/errors';
import { authKeys } from './auth-keys';
import { throwOnMultiError } from './session-store';

export interface LoginLimits {
  perAddress: number;
  perUsername: number;
  windowSeconds: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { perAddress: 10, perUsername: 100, windowSeconds: 15 * 60 };

const digest = (...parts: string[]) => createHash('sha256').update(parts.join('\n')).digest('hex');

export class LoginRateLimiter {
  private readonly keys: ReturnType<typeof authKeys>;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
  ) {
    this.keys = authKeys(prefix);
  }

  private keyPair(username: string, address: string): [string, string] {
    return [
      this.keys.loginFailures(digest(username, address)),
      this.keys.loginFailuresAnyIp(digest(username)),
    ];
  }

  /** Throws RATE_LIMITED when either counter has reached its limit. */
  async check(username: string, address: string): Promise<void> {
    const [byAddress, byUser] = this.keyPair(username, address);
    const [a, u] = await this.redis.mget(byAddress, byUser);
    if (Number(a ?? 0) >= this.limits.perAddress || Number(u ?? 0) >= this.limits.perUsername) {
      const ttl = await this.redis.ttl(Number(a ?? 0) >= this.limits.perAddress ? byAddress : byUser);
      throw new AppError('RATE_LIMITED', undefined, { retryAfterSeconds: Math.max(ttl, 1) });
    }
  }

  async recordFailure(username: string, address: string): Promise<void> {
    const [byAddress, byUser] = this.keyPair(username, address);
    const w = this.limits.windowSeconds;
    await this.redis
      .multi()
      .incr(byAddress)
      .expire(byAddress, w, 'NX')
      .incr(byUser)
      .expire(byUser, w, 'NX')
      .exec()
      .then(throwOnMultiError);
  }

  async recordSuccess(username: string, address: string): Promise<void> {
    const [byAddress] = this.keyPair(username, address);
    await this.redis.del(byAddress);
  }
}
