/**
 * Integration-test harness for the API (used by *.int.test.ts only): real Neo4j and Redis from the
 * integration global setup, a private Redis namespace, the GraphQL server in-process (`yoga.fetch`), the
 * ingest endpoint's handler over a real Ingester, and helpers to make accounts, sign in, call GraphQL and
 * read a subscription's server-sent events.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { SseParser } from '../../components/sse';
import { createLogger } from '../../lib/log';
import { GraphGateway } from '../../lib/neo4j';
import { createRedis } from '../../lib/redis';
import { Ingester } from '../../pipeline/ingest';
import { AccountRepository } from '../auth/account-repository';
import { ApiTokenRepository } from '../auth/api-token-repository';
import { hashPassword } from '../auth/password';
import type { Role } from '../auth/roles';
import { createServices, type Services } from '../services';
import { createIngestHandler } from '../uploads/ingest-handler';
import { createYoga, type LensgraphYoga } from './yoga';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} must be set (the integration global setup provides it)`);
  return v;
};

export interface GqlBody {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

export interface Auth {
  cookie?: string;
  bearer?: string;
  /** Default: sent with cookies, not with bearer tokens. */
  csrf?: boolean;
}

export const unique = (label: string) => `t-${label}-${randomBytes(5).toString('hex')}`;

export const errorCode = (body: GqlBody) => body.errors?.[0]?.extensions?.code;

function authHeaders({ cookie, bearer, csrf }: Auth): Record<string, string> {
  const h: Record<string, string> = {};
  if (cookie) h.cookie = cookie;
  if (bearer) h.authorization = `Bearer ${bearer}`;
  if (csrf ?? !bearer) h['x-lensgraph-csrf'] = '1';
  return h;
}

export interface Harness {
  prefix: string;
  gateway: GraphGateway;
  redis: Redis;
  services: Services;
  yoga: LensgraphYoga;
  ingester: Ingester;
  accounts: AccountRepository;
  /** POST /api/ingest, handled in-process. */
  ingest: (request: Request) => Promise<Response>;
  gql: (
    query: string,
    variables?: Record<string, unknown>,
    auth?: Auth,
  ) => Promise<{ status: number; body: GqlBody }>;
  /** Subscribe over SSE; returns every `next` payload until `complete`, `until` holds, or `timeoutMs`. */
  subscribe: (
    query: string,
    variables: Record<string, unknown>,
    auth: Auth,
    timeoutMs?: number,
    until?: (events: GqlBody[]) => boolean,
  ) => Promise<{ status: number; events: GqlBody[]; completed: boolean }>;
  account: (role: Role) => Promise<{ username: string; password: string }>;
  /** A new account of this role, signed in: the Cookie header value. */
  signedIn: (role: Role) => Promise<{ username: string; cookie: string }>;
  close: () => Promise<void>;
}

export async function openHarness(
  opts: { chunkRecords?: number; sigmaDirs?: string[]; analyzersDir?: string } = {},
): Promise<Harness> {
  const prefix = unique('ns').replace(/-/g, '');
  const gateway = new GraphGateway({
    uri: env('NEO4J_URI'),
    user: process.env.NEO4J_USER ?? 'neo4j',
    password: env('NEO4J_PASSWORD'),
  });
  const redis = createRedis(env('REDIS_URL'), { connectionName: 'api-int-harness' });
  const accounts = new AccountRepository(gateway);
  await accounts.ensureSchema();
  await new ApiTokenRepository(gateway).ensureSchema();
  const services = createServices({
    gateway,
    redis,
    prefix,
    sessionTtlHours: 1,
    secureCookies: false,
    livePollMs: 100,
    sigmaDirs: opts.sigmaDirs ?? [],
    analyzersDir: opts.analyzersDir,
    log: createLogger({ test: 'api' }, 'error'),
  });
  const yoga = createYoga({ services });
  const ingester = new Ingester({
    redis,
    prefix,
    payloadTtlSeconds: 3600,
    chunkRecords: opts.chunkRecords ?? 100,
  });
  const ingest = createIngestHandler({ services, ingester });

  const post = (body: string, headers: Record<string, string>) =>
    yoga.fetch('http://localhost/api/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body,
    });

  const gql: Harness['gql'] = async (query, variables = {}, auth = {}) => {
    const res = await post(JSON.stringify({ query, variables }), authHeaders(auth));
    return { status: res.status, body: (await res.json()) as GqlBody };
  };

  const subscribe: Harness['subscribe'] = async (query, variables, auth, timeoutMs = 60_000, until) => {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), timeoutMs);
    const events: GqlBody[] = [];
    let completed = false;
    let status = 0;
    try {
      const res = await yoga.fetch('http://localhost/api/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream', ...authHeaders(auth) },
        body: JSON.stringify({ query, variables }),
        signal: ac.signal,
      });
      status = res.status;
      if (!res.body || !res.headers.get('content-type')?.startsWith('text/event-stream')) {
        events.push((await res.json()) as GqlBody);
        return { status, events, completed };
      }
      const parser = new SseParser();
      const decoder = new TextDecoder();
      const reader = res.body.getReader();
      try {
        while (!completed && !until?.(events)) {
          const r = await reader.read();
          if (r.done) break;
          for (const e of parser.push(decoder.decode(r.value, { stream: true }))) {
            if (e.event === 'next') events.push(JSON.parse(e.data) as GqlBody);
            if (e.event === 'complete') completed = true;
          }
        }
      } finally {
        await reader.cancel().catch(() => undefined);
      }
    } catch (err) {
      if (!ac.signal.aborted) throw err;
    } finally {
      clearTimeout(timer);
    }
    return { status, events, completed };
  };

  const account: Harness['account'] = async (role) => {
    const username = unique(role);
    const password = `pw-${randomBytes(6).toString('hex')}`;
    await accounts.create({
      username,
      role,
      passwordHash: await hashPassword(password, { N: 1024, r: 8, p: 1 }),
    });
    return { username, password };
  };

  const signedIn: Harness['signedIn'] = async (role) => {
    const { username, password } = await account(role);
    const res = await post(
      JSON.stringify({
        query: 'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { username } }',
        variables: { u: username, p: password },
      }),
      { 'x-lensgraph-csrf': '1' },
    );
    const cookie = res.headers
      .getSetCookie()
      .find((c) => c.startsWith('lg_session='))
      ?.split(';')[0];
    if (!cookie) throw new Error(`sign-in failed: ${await res.text()}`);
    return { username, cookie };
  };

  return {
    prefix,
    gateway,
    redis,
    services,
    yoga,
    ingester,
    accounts,
    ingest,
    gql,
    subscribe,
    account,
    signedIn,
    close: async () => {
      await services.close();
      await ingester.close();
      await redis.quit();
      await gateway.close();
    },
  };
}

/** A POST /api/ingest request. */
export function ingestRequest(
  body: BodyInit,
  auth: Auth,
  opts: { query?: string; headers?: Record<string, string> } = {},
): Request {
  return new Request(`http://localhost/api/ingest${opts.query ?? ''}`, {
    method: 'POST',
    headers: { ...authHeaders(auth), ...(opts.headers ?? {}) },
    body,
  });
}
