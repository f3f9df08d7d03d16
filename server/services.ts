/**
 * The API's services, wired from explicit dependencies. The Next.js process builds one set from its
 * configuration (server/context.ts); integration tests build their own with a private namespace.
 */
import type { Redis } from 'ioredis';
import { createLogger, type Logger } from '../lib/log';
import type { GraphGateway } from '../lib/neo4j';
import { Uploads } from '../lib/uploads';
import { AccountRepository } from './auth/account-repository';
import { ApiTokenRepository } from './auth/api-token-repository';
import { ApiTokenService } from './auth/api-token-service';
import { AuthService, type TokenVerifier } from './auth/auth-service';
import { DEFAULT_SCRYPT, type ScryptParams } from './auth/password';
import { DEFAULT_LOGIN_LIMITS, LoginRateLimiter, type LoginLimits } from './auth/rate-limit';
import { SessionStore } from './auth/session-store';
import { UserService } from './auth/user-service';
import { EngagementService } from './engagements/service';
import { DetectionReports } from './graph/detections';
import { GraphService } from './graph/service';
import { HealthService } from './health/health-service';
import { LensFeed } from './live/lens-feed';
import { LiveHub } from './live/live-hub';
import { UploadService } from './uploads/upload-service';

export interface ServiceDeps {
  gateway: GraphGateway;
  redis: Redis;
  /** Namespace for every Redis key and queue (LENSGRAPH_QUEUE_PREFIX). */
  prefix: string;
  sessionTtlHours: number;
  secureCookies: boolean;
  loginLimits?: LoginLimits;
  scrypt?: ScryptParams;
  /** API token check; default: the API tokens stored in Neo4j (ApiTokenService). */
  tokens?: TokenVerifier;
  /** Poll interval of live upload progress (ms); default 500 (and of the lens feed; default 1000). */
  livePollMs?: number;
  /** Sigma rule folders (LENSGRAPH_SIGMA_DIRS) and extra analyzers (LENSGRAPH_ANALYZERS_DIR), for the reports. */
  sigmaDirs?: readonly string[];
  analyzersDir?: string | undefined;
  log?: Logger;
}

export interface Services {
  readonly settings: { prefix: string; secureCookies: boolean; sessionTtlSeconds: number };
  readonly gateway: GraphGateway;
  readonly redis: Redis;
  readonly accounts: AccountRepository;
  readonly sessions: SessionStore;
  readonly auth: AuthService;
  readonly users: UserService;
  readonly health: HealthService;
  readonly apiTokens: ApiTokenService;
  readonly uploads: UploadService;
  /** Change notifications for live subscriptions (server/live). */
  readonly live: LiveHub;
  /** Lenses: the queue, the lens page, lifecycle, notes, scope (server/engagements). */
  readonly engagements: EngagementService;
  /** Nodes, neighbours, paths and search (server/graph). */
  readonly graph: GraphService;
  /** Sigma rules and analyzers as loaded, with what was skipped (server/graph/detections.ts). */
  readonly detections: DetectionReports;
  /** Lens changes as they happen (the lensChanged subscription). */
  readonly lensFeed: LensFeed;
  readonly log: Logger;
  /** Release what the services opened themselves (queues); the gateway and Redis belong to the caller. */
  close(): Promise<void>;
}

export function createServices(deps: ServiceDeps): Services {
  const log = deps.log ?? createLogger({ component: 'api' });
  const scrypt = deps.scrypt ?? DEFAULT_SCRYPT;
  const sessionTtlSeconds = deps.sessionTtlHours * 3600;
  const accounts = new AccountRepository(deps.gateway);
  const sessions = new SessionStore(deps.redis, deps.prefix, sessionTtlSeconds);
  const limiter = new LoginRateLimiter(deps.redis, deps.prefix, deps.loginLimits ?? DEFAULT_LOGIN_LIMITS);
  const health = new HealthService({ redis: deps.redis, gateway: deps.gateway, prefix: deps.prefix, log });
  const apiTokens = new ApiTokenService({ tokens: new ApiTokenRepository(deps.gateway), log });
  const uploads = new UploadService({
    uploads: new Uploads(deps.redis, deps.prefix),
    redis: deps.redis,
    prefix: deps.prefix,
    log,
    ...(deps.livePollMs ? { pollMs: deps.livePollMs } : {}),
  });
  const live = new LiveHub(deps.redis, deps.prefix);
  const lensFeed = new LensFeed({
    gateway: deps.gateway,
    hub: live,
    ...(deps.livePollMs ? { pollMs: deps.livePollMs } : {}),
    onError: (err) => log.warn('lens feed', { err: err instanceof Error ? err.message : String(err) }),
  });
  const engagements = new EngagementService({ gateway: deps.gateway, onChange: () => lensFeed.notify() });
  return {
    settings: { prefix: deps.prefix, secureCookies: deps.secureCookies, sessionTtlSeconds },
    gateway: deps.gateway,
    redis: deps.redis,
    accounts,
    sessions,
    auth: new AuthService({
      accounts,
      sessions,
      limiter,
      scrypt,
      log,
      tokens: deps.tokens ?? apiTokens.verify,
    }),
    users: new UserService({ accounts, sessions, scrypt, log }),
    health,
    apiTokens,
    uploads,
    live,
    engagements,
    graph: new GraphService({ gateway: deps.gateway }),
    detections: new DetectionReports({
      sigmaDirs: deps.sigmaDirs ?? [],
      analyzersDir: deps.analyzersDir,
      log,
    }),
    lensFeed,
    log,
    close: async () => {
      await lensFeed.close();
      await Promise.all([health.close(), live.close()]);
    },
  };
}
