/** What every resolver receives. */
import type { Viewer } from '../auth/roles';
import type { Services } from '../services';
import type { Loaders } from './loaders';

export type GraphQLContext = {
  services: Services;
  /** Null when the request carries no valid credentials. */
  viewer: Viewer | null;
  /** Client address used for login rate limiting. */
  clientAddress: string;
  /** Queue a Set-Cookie header for the response. */
  setCookie(value: string): void;
  /** Aborted when the client goes away (ends live subscriptions). */
  signal: AbortSignal;
  /** Batched per-parent lookups of this request (./loaders.ts). */
  loaders: Loaders;
};

/**
 * The client's address: the last X-Forwarded-For hop (what the nearest proxy, or Next.js itself, saw),
 * else "unknown". Next.js only fills the header when absent, so a client talking to it directly can
 * choose this value; the per-username ceiling in the rate limiter covers that case.
 */
export function clientAddressOf(headers: Headers): string {
  const forwarded = headers.get('x-forwarded-for');
  const last = forwarded
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .pop();
  return last && last.length <= 64 ? last : 'unknown';
}
