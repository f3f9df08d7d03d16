/**
 * The GraphQL API in-process (`yoga.fetch`) against the real Neo4j and Redis from the integration
 * harness (REDIS_URL, NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD). Every test gets its own Redis namespace
 * and unique usernames, so files and tests run in parallel against one server.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STAGES } from '../../domain/stages';
import { GraphGateway } from '../../lib/neo4j';
import { createRedis, keys } from '../../lib/redis';
import { createLogger, type Logger } from '../../lib/log';
import { AccountRepository } from '../auth/account-repository';
import { ensureSchemaAndAdmin } from '../auth/bootstrap';
import { hashPassword } from '../auth/password';
import type { Role } from '../auth/roles';
import { createServices, type Services } from '../services';
import { createYoga, type LensgraphYoga } from './yoga';

const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} must be set (the integration global setup provides it)`);
  return v;
};

let gateway: GraphGateway;
let redis: Redis;
let accounts: AccountRepository;
const opened: Services[] = [];

beforeAll(async () => {
  gateway = new GraphGateway({
    uri: env('NEO4J_URI'),
    user: process.env.NEO4J_USER ?? 'neo4j',
    password: env('NEO4J_PASSWORD'),
  });
  redis = createRedis(env('REDIS_URL'), { connectionName: 'api-int-test' });
  accounts = new AccountRepository(gateway);
  await accounts.ensureSchema();
});

afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await redis.quit();
  await gateway.close();
});

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

const unique = (label: string) => `t-${label}-${randomBytes(5).toString('hex')}`;

interface Api {
  prefix: string;
  services: Services;
  yoga: LensgraphYoga;
  call: (
    query: string,
    variables?: Record<string, unknown>,
    opts?: { cookie?: string; csrf?: boolean; headers?: Record<string, string> },
  ) => Promise<{ status: number; body: GqlBody; setCookies: string[] }>;
}

interface GqlBody {
  data?: Record<string, unknown> | null;
  errors?: Array<{ message: string; extensions?: Record<string, unknown> }>;
}

/** A private API instance: its own Redis namespace (sessions, rate limits, queues). */
function api(): Api {
  const prefix = unique('ns');
  const services = createServices({
    gateway,
    redis,
    prefix,
    sessionTtlHours: 1,
    secureCookies: false,
    log: createLogger({ test: 'api' }, 'error'),
  });
  opened.push(services);
  const yoga = createYoga({ services });
  return {
    prefix,
    services,
    yoga,
    call: async (query, variables = {}, { cookie, csrf = true, headers = {} } = {}) => {
      const res = await yoga.fetch('http://localhost/api/graphql', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(csrf ? { 'x-lensgraph-csrf': '1' } : {}),
          ...(cookie ? { cookie } : {}),
          ...headers,
        },
        body: JSON.stringify({ query, variables }),
      });
      return {
        status: res.status,
        body: (await res.json()) as GqlBody,
        setCookies: res.headers.getSetCookie(),
      };
    },
  };
}

async function account(role: Role, password = `pw-${randomBytes(6).toString('hex')}`) {
  const username = unique(role);
  await accounts.create({ username, role, passwordHash: await hashPassword(password) });
  return { username, password };
}

const LOGIN = 'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { username role } }';
const ME = '{ me { username role } }';
const code = (body: GqlBody) => body.errors?.[0]?.extensions?.code;

/** Sign in; returns the Cookie header value for later calls. */
async function signIn(
  a: Api,
  username: string,
  password: string,
  headers: Record<string, string> = {},
): Promise<string> {
  const { body, setCookies } = await a.call(LOGIN, { u: username, p: password }, { headers });
  expect(body.errors).toBeUndefined();
  const c = setCookies.find((s) => s.startsWith('lg_session='));
  expect(c).toBeDefined();
  return c!.split(';')[0]!;
}

describe('login', () => {
  it('signs in with the right password, sets a hardened cookie, and the session identifies the user', async () => {
    const a = api();
    const { username, password } = await account('analyst');
    const { body, setCookies } = await a.call(LOGIN, { u: username.toUpperCase(), p: password });
    expect(body.data).toEqual({ login: { username, role: 'analyst' } });
    const cookie = setCookies.find((s) => s.startsWith('lg_session='))!;
    expect(cookie).toMatch(/^lg_session=[A-Za-z0-9_-]{43}; /);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    expect(cookie).toContain('Path=/');
    expect(cookie).toContain('Max-Age=3600');

    const me = await a.call(ME, {}, { cookie: cookie.split(';')[0]! });
    expect(me.body.data).toEqual({ me: { username, role: 'analyst' } });
    // Redis holds only a hash of the id.
    const id = cookie.split(';')[0]!.slice('lg_session='.length);
    expect(await redis.keys(`${a.prefix}:*${id}*`)).toEqual([]);
  });

  it('refuses a wrong password and an unknown user alike, without a cookie', async () => {
    const a = api();
    const { username } = await account('viewer');
    for (const u of [username, unique('nobody')]) {
      const { body, setCookies } = await a.call(LOGIN, { u, p: 'not-the-password' });
      expect(code(body)).toBe('UNAUTHENTICATED');
      expect(body.errors?.[0]?.message).toBe('Invalid username or password.');
      expect(setCookies).toEqual([]);
    }
  });

  it('rate-limits 10 failures per username and address, then refuses even the right password', async () => {
    const a = api();
    const { username, password } = await account('viewer');
    const from = { 'x-forwarded-for': '198.51.100.7' };
    for (let i = 0; i < 10; i++) {
      const { body } = await a.call(LOGIN, { u: username, p: `wrong-${i}` }, { headers: from });
      expect(code(body)).toBe('UNAUTHENTICATED');
    }
    const limited = await a.call(LOGIN, { u: username, p: password }, { headers: from });
    expect(code(limited.body)).toBe('RATE_LIMITED');
    expect(limited.body.errors?.[0]?.extensions?.retryAfterSeconds).toBeGreaterThan(0);
    expect(limited.setCookies).toEqual([]);
    // Another address is not blocked by this one's failures.
    await signIn(a, username, password, { 'x-forwarded-for': '198.51.100.8' });
  });

  it('refuses a disabled account', async () => {
    const a = api();
    const { username, password } = await account('analyst');
    await accounts.update(username, { disabled: true }, () => {});
    const { body } = await a.call(LOGIN, { u: username, p: password });
    expect(code(body)).toBe('FORBIDDEN');
  });

  it('refuses cookie requests without the CSRF header', async () => {
    const a = api();
    const { status, body } = await a.call(ME, {}, { csrf: false });
    expect(status).toBe(403);
    expect(code(body)).toBe('CSRF');
    const login = await a.call(LOGIN, { u: 'x', p: 'y' }, { csrf: false });
    expect(code(login.body)).toBe('CSRF');
  });

  it('sends no CORS headers, so other origins cannot read responses', async () => {
    const a = api();
    const res = await a.yoga.fetch('http://localhost/api/graphql', {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });
});

describe('sessions', () => {
  it('requires a session for me', async () => {
    const a = api();
    expect(code((await a.call(ME)).body)).toBe('UNAUTHENTICATED');
    expect(code((await a.call(ME, {}, { cookie: `lg_session=${'A'.repeat(43)}` })).body)).toBe(
      'UNAUTHENTICATED',
    );
    expect(code((await a.call(ME, {}, { cookie: 'lg_session=garbage' })).body)).toBe('UNAUTHENTICATED');
  });

  it('refuses an unknown bearer token rather than treating it as anonymous', async () => {
    const a = api();
    const { body } = await a.call(ME, {}, { csrf: false, headers: { authorization: 'Bearer nope' } });
    expect(code(body)).toBe('UNAUTHENTICATED');
  });

  it('signing in again replaces the session the browser held', async () => {
    const a = api();
    const { username, password } = await account('viewer');
    const first = await signIn(a, username, password);
    const second = await signIn(a, username, password, { cookie: first });
    expect(second).not.toBe(first);
    expect(code((await a.call(ME, {}, { cookie: first })).body)).toBe('UNAUTHENTICATED');
    expect((await a.call(ME, {}, { cookie: second })).body.data).toEqual({
      me: { username, role: 'viewer' },
    });
  });

  it('marks API answers uncacheable', async () => {
    const res = await api().yoga.fetch('http://localhost/api/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-lensgraph-csrf': '1' },
      body: JSON.stringify({ query: ME }),
    });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('logout ends the session on the server and clears the cookie', async () => {
    const a = api();
    const { username, password } = await account('viewer');
    const cookie = await signIn(a, username, password);
    const out = await a.call('mutation { logout }', {}, { cookie });
    expect(out.body.data).toEqual({ logout: true });
    expect(out.setCookies.some((c) => c.startsWith('lg_session=;') && c.includes('Max-Age=0'))).toBe(true);
    expect(code((await a.call(ME, {}, { cookie })).body)).toBe('UNAUTHENTICATED');
  });
});

describe('roles', () => {
  const CREATE = `mutation($u: String!, $r: Role!, $p: String!) {
    createUser(username: $u, role: $r, password: $p) { username role disabled createdAt } }`;
  const SET_ROLE =
    'mutation($u: String!, $r: Role!) { setUserRole(username: $u, role: $r) { username role } }';
  const DISABLE = 'mutation($u: String!) { disableUser(username: $u) { username disabled } }';

  it('refuses a viewer on admin operations', async () => {
    const a = api();
    const v = await account('viewer');
    const other = await account('analyst');
    const cookie = await signIn(a, v.username, v.password);
    expect(code((await a.call(SET_ROLE, { u: other.username, r: 'admin' }, { cookie })).body)).toBe(
      'FORBIDDEN',
    );
    expect(code((await a.call(DISABLE, { u: other.username }, { cookie })).body)).toBe('FORBIDDEN');
    expect(code((await a.call('{ users { username } }', {}, { cookie })).body)).toBe('FORBIDDEN');
    expect((await accounts.find(other.username))?.role).toBe('analyst');
  });

  it('refuses an analyst on createUser', async () => {
    const a = api();
    const an = await account('analyst');
    const cookie = await signIn(a, an.username, an.password);
    const target = unique('new');
    const { body } = await a.call(CREATE, { u: target, r: 'admin', p: 'password-123' }, { cookie });
    expect(code(body)).toBe('FORBIDDEN');
    expect(body.data).toBeNull();
    expect(await accounts.find(target)).toBeNull();
  });

  it('lets an admin create, list, re-role and disable accounts; changes end the target’s sessions', async () => {
    const a = api();
    const admin = await account('admin');
    const cookie = await signIn(a, admin.username, admin.password);

    const target = unique('made');
    const created = await a.call(CREATE, { u: target, r: 'viewer', p: 'password-123' }, { cookie });
    expect(created.body.data?.createUser).toMatchObject({
      username: target,
      role: 'viewer',
      disabled: false,
    });
    const dup = await a.call(CREATE, { u: target, r: 'viewer', p: 'password-123' }, { cookie });
    expect(code(dup.body)).toBe('CONFLICT');
    const bad = await a.call(CREATE, { u: unique('short'), r: 'viewer', p: 'short' }, { cookie });
    expect(code(bad.body)).toBe('BAD_INPUT');
    expect(bad.body.errors?.[0]?.message).toMatch(/^password:/);

    const list = await a.call('{ users { username role disabled } }', {}, { cookie });
    expect(list.body.data?.users).toEqual(
      expect.arrayContaining([{ username: target, role: 'viewer', disabled: false }]),
    );

    const targetCookie = await signIn(a, target, 'password-123');
    const promoted = await a.call(SET_ROLE, { u: target, r: 'analyst' }, { cookie });
    expect(promoted.body.data?.setUserRole).toEqual({ username: target, role: 'analyst' });
    expect(code((await a.call(ME, {}, { cookie: targetCookie })).body)).toBe('UNAUTHENTICATED');
    expect((await a.call(ME, {}, { cookie: await signIn(a, target, 'password-123') })).body.data).toEqual({
      me: { username: target, role: 'analyst' },
    });

    const disabled = await a.call(DISABLE, { u: target }, { cookie });
    expect(disabled.body.data?.disableUser).toEqual({ username: target, disabled: true });
    expect(code((await a.call(LOGIN, { u: target, p: 'password-123' })).body)).toBe('FORBIDDEN');

    expect(code((await a.call(DISABLE, { u: admin.username }, { cookie })).body)).toBe('BAD_INPUT');
    expect(code((await a.call(SET_ROLE, { u: unique('ghost'), r: 'viewer' }, { cookie })).body)).toBe(
      'NOT_FOUND',
    );
  });
});

describe('limits', () => {
  it('rejects queries deeper than 12 levels', async () => {
    const a = api();
    const v = await account('viewer');
    const cookie = await signIn(a, v.username, v.password);
    // Introspection types nest without end, so this query is valid apart from its depth.
    const deep = `{ __type(name: "Query") { fields { type { ofType { ofType { ofType { ofType { ofType {
      ofType { ofType { ofType { ofType { name } } } } } } } } } } } } }`;
    const { body } = await a.call(deep, {}, { cookie });
    expect(body.data ?? null).toBeNull();
    expect(code(body)).toBe('BAD_INPUT');
    expect(body.errors?.some((e) => /depth limit of 12/i.test(e.message))).toBe(true);
  });

  it('answers invalid and malformed queries with BAD_INPUT and no field suggestions', async () => {
    const a = api();
    const v = await account('viewer');
    const cookie = await signIn(a, v.username, v.password);
    const invalid = await a.call('{ me { usernam } }', {}, { cookie });
    expect(invalid.body.errors?.map((e) => e.extensions?.code)).toEqual(['BAD_INPUT']);
    expect(invalid.body.errors?.[0]?.message).not.toContain('Did you mean');
    const malformed = await a.call('{ me { username ', {}, { cookie });
    expect(code(malformed.body)).toBe('BAD_INPUT');
  });
});

describe('health', () => {
  const HEALTH = `{ health { redis neo4j checkedAt
    workers { stage workerId up lastSeen processed failed }
    stages { name waiting active delayed failed completed workersUp perMinute } } }`;

  it('needs a session', async () => {
    expect(code((await api().call(HEALTH)).body)).toBe('UNAUTHENTICATED');
  });

  it('reports Redis and Neo4j up, every stage’s queue, and workers from their heartbeats', async () => {
    const a = api();
    const v = await account('viewer');
    const cookie = await signIn(a, v.username, v.password);
    const now = Date.now();
    const beat = (workerId: string, at: number) =>
      JSON.stringify({
        stage: 'merge',
        workerId,
        pid: 7,
        host: 'test',
        startedAt: now - 60_000,
        at,
        processed: 3,
        failed: 0,
        perMinute: 12,
      });
    await redis.hset(keys(a.prefix).heartbeats, {
      'merge:w1': beat('w1', now),
      'merge:w0': beat('w0', now - 60_000),
    });

    const { body } = await a.call(HEALTH, {}, { cookie });
    expect(body.errors).toBeUndefined();
    const h = body.data?.health as {
      redis: boolean;
      neo4j: boolean;
      workers: Array<{ workerId: string; up: boolean; processed: number }>;
      stages: Array<{ name: string; waiting: number; workersUp: number; perMinute: number }>;
    };
    expect(h.redis).toBe(true);
    expect(h.neo4j).toBe(true);
    expect(h.stages.map((s) => s.name)).toEqual([...STAGES]);
    expect(h.stages.every((s) => s.waiting === 0)).toBe(true);
    expect(h.stages.find((s) => s.name === 'merge')?.workersUp).toBe(1);
    // throughput counts live workers only: the silent w0's last minute is not this minute
    expect(h.stages.find((s) => s.name === 'merge')?.perMinute).toBe(12);
    expect(h.stages.find((s) => s.name === 'parse')?.perMinute).toBe(0);
    expect(h.workers.map((w) => [w.workerId, w.up])).toEqual([
      ['w0', false],
      ['w1', true],
    ]);
  });
});

describe('failures', () => {
  it('masks unexpected errors as INTERNAL without their message', async () => {
    const a = api();
    const admin = await account('admin');
    const cookie = await signIn(a, admin.username, admin.password);
    const failing = {
      ...a.services,
      users: { list: () => Promise.reject(new Error('neo4j://secret-host password=hunter2')) },
    } as unknown as Services;
    const yoga = createYoga({ services: { ...failing, log: silent } as Services });
    const res = await yoga.fetch('http://localhost/api/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-lensgraph-csrf': '1', cookie },
      body: JSON.stringify({ query: '{ users { username } }' }),
    });
    const text = await res.text();
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('secret-host');
    expect(code(JSON.parse(text) as GqlBody)).toBe('INTERNAL');
  });

  it('reports Neo4j down when it cannot be reached, without failing the health query', async () => {
    const a = api();
    const v = await account('viewer');
    const cookie = await signIn(a, v.username, v.password);
    const deadGateway = new GraphGateway({ uri: 'bolt://127.0.0.1:1', user: 'neo4j', password: 'x' });
    try {
      const services = createServices({
        gateway: deadGateway,
        redis,
        prefix: a.prefix,
        sessionTtlHours: 1,
        secureCookies: false,
        log: createLogger({ test: 'api' }, 'error'),
      });
      opened.push(services);
      const res = await createYoga({ services }).fetch('http://localhost/api/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-lensgraph-csrf': '1', cookie },
        body: JSON.stringify({ query: '{ health { redis neo4j } }' }),
      });
      expect(((await res.json()) as GqlBody).data).toEqual({ health: { redis: true, neo4j: false } });
    } finally {
      await deadGateway.close();
    }
  });
});

describe('bootstrap', () => {
  it('creates the schema and an admin once; a second run changes nothing', async () => {
    const first = await ensureSchemaAndAdmin(gateway);
    if (first.created) {
      // This run made the admin: the returned password signs in.
      expect(first.password).toMatch(/^[A-Za-z0-9_-]{24}$/);
      const a = api();
      await signIn(a, 'admin', first.password!);
    }
    expect(await ensureSchemaAndAdmin(gateway, 'some-other-password')).toEqual({ created: false });
    const admins = (await accounts.list()).filter((x) => x.role === 'admin' && !x.disabled);
    expect(admins.length).toBeGreaterThan(0);
  });
});
