/**
 * Process-wide singletons for the Next.js server, created on first use from the parsed configuration.
 * The connections (Neo4j gateway, Redis client) live on `globalThis`: Next.js may load this module more
 * than once (route handlers and server components are bundled separately, and dev mode re-evaluates
 * modules on every edit), and each copy must reuse the same connections rather than open new ones.
 * Services and the GraphQL server are cheap and hold no connections of their own, so they stay per
 * module copy (an edit in dev takes effect without a restart).
 */
import type { Redis } from 'ioredis';
import { config } from '../lib/config';
import { createLogger } from '../lib/log';
import { GraphGateway } from '../lib/neo4j';
import { createRedis } from '../lib/redis';
import { AppError } from '../domain/errors';
import { createServices, type Services } from './services';
import { createYoga, type LensgraphYoga } from './graphql/yoga';

interface Connections {
  gateway?: GraphGateway;
  redis?: Redis;
}

const KEY = Symbol.for('lensgraph.server.connections');
const store = globalThis as unknown as Record<symbol, Connections | undefined>;
const connections = (): Connections => (store[KEY] ??= {});

let current: { services: Services; yoga?: LensgraphYoga } | undefined;

export function services(): Services {
  if (current) return current.services;
  const s = connections();
  const cfg = config();
  if (!cfg.NEO4J_URI || !cfg.NEO4J_PASSWORD) throw new AppError('UNAVAILABLE', 'NEO4J_URI is not configured');
  if (!cfg.REDIS_URL) throw new AppError('UNAVAILABLE', 'REDIS_URL is not configured');
  const log = createLogger({ component: 'web' });
  s.gateway ??= new GraphGateway({
    uri: cfg.NEO4J_URI,
    user: cfg.NEO4J_USER,
    password: cfg.NEO4J_PASSWORD,
    database: cfg.NEO4J_DATABASE,
  });
  if (!s.redis) {
    s.redis = createRedis(cfg.REDIS_URL, {
      connectionName: 'lensgraph-web',
      ...(cfg.REDIS_PASSWORD ? { password: cfg.REDIS_PASSWORD } : {}),
      // A web request should fail (and show "Redis down") rather than wait for a reconnect forever.
      maxRetriesPerRequest: 2,
      commandTimeout: 5000,
    });
    // ioredis reports every failed reconnect; log a changed error at once, a repeated one every 30 s.
    let last = { message: '', at: 0 };
    s.redis.on('error', (err: Error) => {
      const now = Date.now();
      if (err.message === last.message && now - last.at < 30_000) return;
      last = { message: err.message, at: now };
      log.warn('redis connection error', { err: err.message });
    });
  }
  const created = createServices({
    gateway: s.gateway,
    redis: s.redis,
    prefix: cfg.LENSGRAPH_QUEUE_PREFIX,
    sessionTtlHours: cfg.LENSGRAPH_SESSION_TTL_HOURS,
    secureCookies: cfg.LENSGRAPH_SECURE_COOKIES,
    sigmaDirs: cfg.sigmaDirs,
    analyzersDir: cfg.LENSGRAPH_ANALYZERS_DIR,
    log,
  });
  current = { services: created };
  return created;
}

export function yoga(): LensgraphYoga {
  const svc = services();
  if (current?.yoga) return current.yoga;
  const created = createYoga({
    services: svc,
    graphiql: process.env.NODE_ENV === 'development',
    fetchAPI: { Response },
  });
  if (current) current.yoga = created;
  return created;
}

/** Close everything (tests and graceful shutdown). */
export async function closeServices(): Promise<void> {
  const s = connections();
  await current?.services.close();
  current = undefined;
  await s.redis?.quit().catch(() => undefined);
  await s.gateway?.close();
  store[KEY] = {};
}
