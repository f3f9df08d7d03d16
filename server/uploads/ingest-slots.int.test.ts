/**
 * The per-caller limit of uploads in progress (issue #10) against real Redis and a real Ingester: the
 * slots are taken through the web app's own Redis ACL login (lib/redis-acl.ts, created on the shared test
 * server for this namespace), so the Lua scripts are proven to run with exactly the rights production
 * gives them. Bodies are streams this test holds open, so uploads stay in flight until it lets them end.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedis, keys } from '../../lib/redis';
import { aclRules, aclUserSpec, redisLoginUrl, redisUserName } from '../../lib/redis-acl';
import { Uploads } from '../../lib/uploads';
import type { Viewer } from '../auth/roles';
import { openHarness, type Harness } from '../graphql/test-harness';
import { createIngestHandler } from './ingest-handler';
import { UploadSlots, uploadCaller } from './upload-slots';

const LINE = JSON.stringify({ EventID: 1, Hostname: 'H1', UtcTime: '2024-01-01 00:00:00.000', Image: 'C:\\a.exe' });
const jsonl = (n: number) => Array.from({ length: n }, () => LINE).join('\n') + '\n';
const MAX_BYTES = 64 * 1024;

let h: Harness;
let web: Redis;
let webUser: string;
let admin: Viewer;

beforeAll(async () => {
  h = await openHarness();
  // Tokens are only honoured while the account that made them exists and is enabled.
  admin = { username: (await h.account('admin')).username, role: 'admin', via: 'session' };
  // The web app's ACL user of this namespace, as rendered for production.
  webUser = redisUserName(h.prefix, 'web');
  const password = randomBytes(16).toString('hex');
  await h.redis.call('ACL', 'SETUSER', webUser, 'reset', 'on', `>${password}`, ...aclRules(aclUserSpec(h.prefix, 'web')));
  const u = new URL(process.env.REDIS_URL!);
  web = createRedis(redisLoginUrl({ host: u.hostname, port: Number(u.port) }, webUser, password), {
    connectionName: 'slots-int-web',
  });
});

afterAll(async () => {
  web?.disconnect();
  if (webUser) await h?.redis.call('ACL', 'DELUSER', webUser);
  await h?.close();
});

/** A new ingest token: its bearer secret and the viewer it authenticates as. */
async function ingestToken(): Promise<{ bearer: string; viewer: Viewer }> {
  const { token, secret } = await h.services.apiTokens.create(admin, {
    name: `slots-${randomBytes(3).toString('hex')}`,
    scope: 'ingest',
  });
  return {
    bearer: secret,
    viewer: { username: `token:${token.name}`, role: 'viewer', via: 'token', token },
  };
}

function handlerWith(slots: UploadSlots) {
  return createIngestHandler({ services: h.services, ingester: h.ingester, slots, maxBytes: MAX_BYTES });
}

/**
 * A request body that stays open: `reading` resolves when the server first asks for bytes (it holds a
 * slot by then); `finish` sends the telemetry and ends it, `fail` breaks it like a client going away.
 * With no internal buffer (highWaterMark 0) nothing is pulled before the server reads.
 */
function heldBody() {
  let started = false;
  let reading!: () => void;
  const readingP = new Promise<void>((resolve) => (reading = resolve));
  let ctl!: ReadableStreamDefaultController<Uint8Array>;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const stream = new ReadableStream<Uint8Array>(
    {
      start(c) {
        ctl = c;
      },
      async pull() {
        started = true;
        reading();
        await released;
      },
    },
    { highWaterMark: 0 },
  );
  return {
    stream,
    reading: readingP,
    started: () => started,
    finish(text = jsonl(3)) {
      ctl.enqueue(new TextEncoder().encode(text));
      ctl.close();
      release();
    },
    fail() {
      ctl.error(new Error('client went away'));
      release();
    },
  };
}

function post(body: BodyInit, bearer: string): Request {
  return new Request('http://localhost/api/ingest?name=slots.jsonl', {
    method: 'POST',
    headers: { authorization: `Bearer ${bearer}` },
    body,
    ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit);
}

const slotKey = (viewer: Viewer) => keys(h.prefix).uploadSlots(uploadCaller(viewer));
const uploadIds = async () => new Set(await new Uploads(h.redis, h.prefix).list(1000));

describe('uploads in progress per caller', () => {
  it('refuses the N+1th upload of a token with 429 and Retry-After, creating nothing; other tokens go on', async () => {
    const handle = handlerWith(new UploadSlots(web, h.prefix, { limit: 2 }));
    const a = await ingestToken();
    const b = await ingestToken();
    const before = await uploadIds();

    const held = [heldBody(), heldBody()];
    const inFlight = held.map((body) => handle(post(body.stream, a.bearer)));
    await Promise.all(held.map((body) => body.reading));
    expect(await h.redis.zcard(slotKey(a.viewer))).toBe(2);

    const third = heldBody();
    const refused = await handle(post(third.stream, a.bearer));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('5');
    expect(await refused.json()).toEqual({
      error: { code: 'RATE_LIMITED', message: expect.stringContaining('At most 2 uploads at a time') },
    });
    expect(third.started()).toBe(false);

    // Another token has its own slots.
    const other = heldBody();
    const otherDone = handle(post(other.stream, b.bearer));
    await other.reading;
    other.finish();
    expect((await otherDone).status).toBe(202);

    // One of the two ends: its slot is given back, and a new upload of the token is taken.
    held[0]!.finish();
    expect((await inFlight[0]!).status).toBe(202);
    expect(await h.redis.zcard(slotKey(a.viewer))).toBe(1);
    const next = await handle(post(jsonl(2), a.bearer));
    expect(next.status).toBe(202);
    held[1]!.finish();
    expect((await inFlight[1]!).status).toBe(202);

    // Four uploads made (two held, the other token's, the next one), none by the refused request.
    const made = [...(await uploadIds())].filter((id) => !before.has(id));
    expect(made).toHaveLength(4);
    expect(await h.redis.exists(slotKey(a.viewer), slotKey(b.viewer))).toBe(0);
  });

  it('gives the slot back when the upload fails and when the client goes away', async () => {
    const handle = handlerWith(new UploadSlots(web, h.prefix, { limit: 1 }));
    const a = await ingestToken();

    const tooLarge = await handle(post(jsonl(2000), a.bearer));
    expect(tooLarge.status).toBe(413);
    expect(await h.redis.zcard(slotKey(a.viewer))).toBe(0);

    const aborted = heldBody();
    const answer = handle(post(aborted.stream, a.bearer));
    await aborted.reading;
    // While it is read, the only slot is taken.
    expect((await handle(post(jsonl(1), a.bearer))).status).toBe(429);
    aborted.fail();
    expect((await answer).status).toBeGreaterThanOrEqual(400);
    expect(await h.redis.zcard(slotKey(a.viewer))).toBe(0);

    expect((await handle(post(jsonl(1), a.bearer))).status).toBe(202);
  });

  it('lets the slot of a crashed upload expire, while a live one is renewed past its lifetime', async () => {
    const a = await ingestToken();
    const ttlMs = 400;
    // "Another web process" takes a slot and dies: its timers never run again, nothing is released.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      await new UploadSlots(web, h.prefix, { limit: 1, ttlMs }).acquire(a.viewer);
    } finally {
      vi.clearAllTimers();
      vi.useRealTimers();
    }
    const handle = handlerWith(new UploadSlots(web, h.prefix, { limit: 1, ttlMs }));
    expect((await handle(post(jsonl(1), a.bearer))).status).toBe(429);

    // Wait until Redis's clock passes the dead slot's expiry (the one thing here that is only time).
    const [, expiry] = await h.redis.zrange(slotKey(a.viewer), '0', '0', 'WITHSCORES');
    const [sec, usec] = await h.redis.time();
    const redisNow = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Number(expiry) - redisNow) + 20));
    expect((await handle(post(jsonl(1), a.bearer))).status).toBe(202);

    // A live upload renews its slot: held for three lifetimes, it still counts.
    const held = heldBody();
    const answer = handle(post(held.stream, a.bearer));
    await held.reading;
    await new Promise((resolve) => setTimeout(resolve, 3 * ttlMs));
    expect((await handle(post(jsonl(1), a.bearer))).status).toBe(429);
    held.finish();
    expect((await answer).status).toBe(202);
    expect(await h.redis.exists(slotKey(a.viewer))).toBe(0);
  });

  it('grants the web login the slot commands on slot keys only', async () => {
    const k = keys(h.prefix);
    // The web user may ZADD the upload index (root rules), but the slot selector does not widen that.
    await expect(web.zremrangebyscore(k.uploadIndex, '-inf', '+inf')).rejects.toThrow(/NOPERM/);
    await expect(web.zcard(`${h.prefix}:elsewhere`)).rejects.toThrow(/NOPERM/);
    expect(await web.zcard(k.uploadSlots('x'))).toBe(0);
  });
});
