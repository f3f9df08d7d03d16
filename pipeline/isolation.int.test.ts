/**
 * Isolation, proven against a real Redis started with the generated ACL file (lib/redis-acl.ts) and the
 * real worker process (pipeline/main.ts):
 *   - every stage runs end to end logged in as its own Redis user, and Redis denies none of its commands;
 *   - a stage cannot read or write another stage's queue (beyond adding to its successor's), identity
 *     state, or the keyspace (KEYS/SCAN), nor administer Redis; Lua scripts do not widen any of that;
 *   - the ingester can only feed the parse queue; the web app reads every queue's counts and heartbeats
 *     but cannot add work past parse or forge a heartbeat; the default user is disabled;
 *   - a worker process opens no listening port.
 * This file owns its Redis (free port, temporary directory); Neo4j is the shared test server.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { STAGES, StageRegistry, queueName, type Envelope, type StageName } from '../domain/stages';
import { REDIS_ROLES, STAGES_AS_ROLES, type RedisRole } from '../lib/config';
import { newPayloadKey } from '../lib/payload-store';
import { createRedis, keys } from '../lib/redis';
import {
  completeRedisPasswords,
  redisLoginUrl,
  redisUserName,
  redisUsersJson,
  renderAclFile,
  type RedisPasswords,
} from '../lib/redis-acl';
import { freePort } from '../scripts/stack/ports';
import { startRedis, type RedisHandle } from '../scripts/stack/redis';
import { Ingester } from './ingest';
import { jobOptions, successorJobId } from './runner';
import { listeningSockets, SHARED_DATA, startWorkerProcess, type WorkerProcess } from './worker-test-support';

const prefix = `iso${randomBytes(4).toString('hex')}`;
const k = keys(prefix);
const bull = k.bullPrefix;
const qkey = (stage: StageName, part: string) => `${k.queueBase(queueName(stage))}:${part}`;

let dir: string;
let server: RedisHandle;
let admin: Redis;
let passwords: RedisPasswords;
const logins = new Map<RedisRole, Redis>();
const queues: Queue[] = [];
let worker: WorkerProcess | undefined;

function login(role: RedisRole): Redis {
  let r = logins.get(role);
  if (!r) {
    const url = redisLoginUrl({ host: server.host, port: server.port }, redisUserName(prefix, role), passwords[role]);
    r = createRedis(url, { connectionName: `iso-${role}` });
    logins.set(role, r);
  }
  return r;
}

function queueAs(role: RedisRole, stage: StageName): Queue {
  const q = new Queue(queueName(stage), { connection: login(role), prefix: bull });
  // `new Queue` writes the queue's meta hash, which only the owning stage may: a denied write is expected.
  q.on('error', () => undefined);
  queues.push(q);
  return q;
}

async function denied(work: Promise<unknown>, what: string): Promise<void> {
  // NOPERM for a command; inside a Lua script Redis words it "The user executing the script can't ...".
  await expect(work, what).rejects.toThrow(/NOPERM|user executing the script can't/);
}

function envelope(): Envelope {
  return { traceId: 'iso', chunks: [`${newPayloadKey()}/0`], createdAt: Date.now(), payloadKeys: [newPayloadKey()] };
}

/** Commands over a bare socket (no client library, no automatic HELLO or retries): one reply line each. */
function rawReplies(commands: string[][]): Promise<string[]> {
  const resp = commands.map((c) => `*${c.length}\r\n${c.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: server.host, port: server.port });
    let buf = '';
    socket.setTimeout(10_000, () => {
      socket.destroy();
      reject(new Error(`no reply: ${buf}`));
    });
    socket.on('error', reject);
    socket.on('connect', () => socket.write(resp.join('')));
    socket.on('data', (d: Buffer) => {
      buf += d.toString('utf8');
      const lines = buf.split('\r\n').filter(Boolean);
      if (lines.length >= commands.length) {
        socket.destroy();
        resolve(lines.slice(0, commands.length));
      }
    });
  });
}

/** Entries of Redis's ACL log for this file's users (every denial Redis recorded). */
async function aclDenials(): Promise<string[]> {
  const log = (await admin.call('ACL', 'LOG', '128')) as unknown[];
  const ours = new Set(REDIS_ROLES.map((r) => redisUserName(prefix, r)));
  const out: string[] = [];
  for (const entry of log) {
    const flat = entry as unknown[];
    const f = new Map<string, unknown>();
    for (let i = 0; i + 1 < flat.length; i += 2) f.set(String(flat[i]), flat[i + 1]);
    if (ours.has(String(f.get('username')))) out.push(`${String(f.get('username'))}: ${String(f.get('reason'))} ${String(f.get('object'))}`);
  }
  return out;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-iso-'));
  passwords = completeRedisPasswords();
  const adminPassword = randomBytes(18).toString('base64url');
  const aclFile = path.join(dir, 'users.acl');
  fs.writeFileSync(aclFile, renderAclFile({ prefix, adminPassword, passwords }), { mode: 0o600 });
  server = await startRedis({
    dataDir: path.join(dir, 'redis'),
    port: await freePort(),
    user: 'admin',
    password: adminPassword,
    aclFile,
    appendOnly: false,
  });
  admin = createRedis(server.url, { connectionName: 'iso-admin' });
});

afterAll(async () => {
  if (worker) await worker.proc.stop(20_000);
  await Promise.allSettled(queues.map((q) => q.close()));
  for (const r of logins.values()) r.disconnect();
  admin?.disconnect();
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('Redis ACL users', () => {
  it('disables the default user: no password, a wrong one or another role\'s password gets nothing', async () => {
    const parse = redisUserName(prefix, 'parse');
    expect(await rawReplies([['PING']])).toEqual([expect.stringMatching(/^-NOAUTH/)]);
    for (const auth of [
      ['AUTH', passwords.parse],
      ['AUTH', 'default', passwords.parse],
      ['AUTH', parse, 'not-the-password'],
      ['AUTH', parse, passwords.merge],
    ]) {
      expect(await rawReplies([auth, ['PING']])).toEqual([
        expect.stringMatching(/^-WRONGPASS/),
        expect.stringMatching(/^-NOAUTH/),
      ]);
    }
    expect(await rawReplies([['AUTH', parse, passwords.parse], ['PING']])).toEqual(['+OK', '+PONG']);
  });

  it('keeps every stage out of other stages\' queues (scripts included), identity state and the keyspace', async () => {
    for (const stage of STAGES) {
      const me = login(stage);
      const next = StageRegistry[stage].next;
      for (const other of STAGES.filter((s) => s !== stage && s !== next)) {
        await denied(me.llen(qkey(other, 'wait')), `${stage} reads ${other}'s wait list`);
        await denied(me.hgetall(qkey(other, 'meta')), `${stage} reads ${other}'s meta`);
        await denied(queueAs(stage, other).add(other, envelope(), { jobId: `x-${stage}` }), `${stage} adds to ${other}`);
        // A script runs with its caller's rights: every command inside is checked too.
        await denied(me.eval("return redis.call('LLEN', KEYS[1])", 1, qkey(other, 'wait')), `${stage} scripts ${other}`);
        await denied(me.sadd(k.uploadPart(newPayloadKey(), `done:${other}`), 'c/0'), `${stage} marks ${other} done`);
      }
      if (stage !== 'identify') {
        await denied(me.hgetall(`${k.identity}:HOST:4242`), `${stage} reads identity sessions`);
        await denied(me.zcard(`${k.sigmaCorrelation}:x:w`), `${stage} reads Sigma windows`);
      }
      await denied(me.scan('0'), `${stage} SCAN`);
      await denied(me.keys('*'), `${stage} KEYS`);
      await denied(me.call('RANDOMKEY'), `${stage} RANDOMKEY`);
      await denied(me.call('FLUSHALL'), `${stage} FLUSHALL`);
      await denied(me.call('CONFIG', 'GET', 'requirepass'), `${stage} CONFIG`);
      await denied(me.call('ACL', 'LIST'), `${stage} ACL`);
      await denied(me.call('SCRIPT', 'FLUSH'), `${stage} SCRIPT FLUSH`);
      await denied(me.publish(`${k.liveBase}:x`, '1'), `${stage} PUBLISH`);
    }
  });

  it('lets a stage add to its successor\'s queue and read job states there, never take or drop its jobs', async () => {
    const parse = login('parse');
    const toIdentify = queueAs('parse', 'identify');
    const id = successorJobId('identify', [`${newPayloadKey()}/0`]);
    await toIdentify.add('identify', envelope(), jobOptions('identify', id));
    expect(await toIdentify.getJobState(id)).toBe('waiting');
    await denied(parse.eval("return redis.call('RPOPLPUSH', KEYS[1], KEYS[2])", 2, qkey('identify', 'wait'), qkey('identify', 'active')), 'take');
    await denied(parse.eval("return redis.call('DEL', KEYS[1])", 1, qkey('identify', 'wait')), 'drop the wait list');
    await denied(parse.eval("return redis.call('LREM', KEYS[1], 0, ARGV[1])", 1, qkey('identify', 'wait'), id), 'drop a job');
    await denied(parse.del(`${qkey('identify', id)}`), 'delete the job hash');
    // The identify stage itself sees the job and may take it.
    expect(await login('identify').lrange(qkey('identify', 'wait'), 0, -1)).toContain(id);
  });

  it('lets the ingester feed the parse queue and its uploads, nothing further', async () => {
    const ingest = login('ingest');
    const id = successorJobId('parse', [`${newPayloadKey()}/0`]);
    await queueAs('ingest', 'parse').add('parse', envelope(), jobOptions('parse', id));
    await denied(queueAs('ingest', 'identify').add('identify', envelope(), { jobId: 'i1' }), 'ingest adds to identify');
    await denied(ingest.eval("return redis.call('RPOPLPUSH', KEYS[1], KEYS[2])", 2, qkey('parse', 'wait'), qkey('parse', 'active')), 'ingest takes parse jobs');
    await denied(ingest.hset(k.heartbeats, 'parse:fake', '{}'), 'ingest forges a heartbeat');
    await denied(ingest.get(`${k.authBase}:s:x`), 'ingest reads sessions');
  });

  it('lets the web app read counts of every queue and heartbeats, keep sessions and publish live topics, no more', async () => {
    const web = login('web');
    for (const stage of STAGES) {
      const counts = await queueAs('web', stage).getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
      expect(Object.keys(counts).sort()).toEqual(['active', 'completed', 'delayed', 'failed', 'waiting']);
    }
    await login('parse').hset(k.heartbeats, 'parse:x', '{}');
    expect(await web.hgetall(k.heartbeats)).toHaveProperty('parse:x');
    await denied(web.hset(k.heartbeats, 'parse:x', '{"forged":1}'), 'web forges a heartbeat');
    await denied(queueAs('web', 'identify').add('identify', envelope(), { jobId: 'w1' }), 'web adds to identify');
    // The counting script may only count, whatever the caller asks it to do.
    await denied(web.eval("return redis.call('DEL', KEYS[1])", 1, qkey('merge', 'wait')), 'web drops merge jobs');
    await denied(web.eval("return redis.call('LRANGE', KEYS[1], 0, -1)", 1, qkey('merge', 'wait')), 'web lists merge jobs');
    await web.set(`${k.authBase}:s:abc`, '{}', 'EX', 60);
    expect(await web.get(`${k.authBase}:s:abc`)).toBe('{}');
    await web.publish(`${k.liveBase}:upload:x`, '1');
    await denied(web.publish('elsewhere', '1'), 'web publishes outside its channels');
    await denied(web.hgetall(`${k.identity}:HOST:1`), 'web reads identity sessions');
    await denied(web.scan('0'), 'web SCAN');
  });

  it('runs every stage end to end as its own user, with nothing denied, in a worker that listens on no port', async () => {
    const gatewayEnv = {
      NEO4J_URI: process.env.NEO4J_URI!,
      NEO4J_USER: process.env.NEO4J_USER!,
      NEO4J_PASSWORD: process.env.NEO4J_PASSWORD!,
    };
    // A correlation rule as well, so identify's Sigma windows in Redis are exercised under its user.
    const rules = path.join(dir, 'rules');
    fs.mkdirSync(rules);
    // A threshold no window reaches: a window that fires is reset (removed), and the test looks for the
    // windows identify keeps in Redis under its own login.
    fs.writeFileSync(
      path.join(rules, 'corr.yml'),
      `title: Process creation (isolation test)
id: 5a1e0c2e-0000-4000-8000-000000000001
name: iso_proc
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        Image|endswith: '.exe'
    condition: selection
level: low
---
title: Many process creations (isolation test)
id: 5a1e0c2e-0000-4000-8000-000000000002
level: low
correlation:
    type: event_count
    rules:
        - iso_proc
    group-by:
        - Image
    timespan: 1h
    condition:
        gte: 1000
`,
    );
    await admin.call('ACL', 'LOG', 'RESET');
    worker = await startWorkerProcess('iso-workers', {
      ...gatewayEnv,
      // Where Redis is, without credentials: every stage logs in with its own entry below.
      REDIS_URL: `redis://${server.host}:${server.port}`,
      LENSGRAPH_REDIS_USERS: redisUsersJson(server, prefix, passwords, STAGES_AS_ROLES),
      LENSGRAPH_QUEUE_PREFIX: prefix,
      LENSGRAPH_DATA_DIR: dir,
      LENSGRAPH_SIGMA_DIRS: [path.join(SHARED_DATA, 'sigma/rules/windows/process_creation'), rules].join(','),
    });

    // No listening socket, but the sockets it does hold (Redis, Neo4j) are visible to the check.
    const { listening, seen } = listeningSockets(worker.pid);
    expect(listening).toEqual([]);
    expect(seen).toBeGreaterThanOrEqual(2);

    const file = path.join(SHARED_DATA, 'sysmon-json/psh_lsass_memory_dump_comsvcs.jsonl');
    const ingester = new Ingester({ redis: login('ingest'), prefix, payloadTtlSeconds: 3600, chunkRecords: 40 });
    try {
      const { uploadId, chunks } = await ingester.ingestFile(file, { name: 'iso.jsonl', replay: `i${randomBytes(3).toString('hex')}` });
      expect(chunks).toBeGreaterThan(1);
      const [p] = await ingester.waitFor([uploadId], { timeoutMs: 240_000 });
      expect(p!.failed).toBe(0);
      expect(p!.error).toBeUndefined();
      for (const stage of STAGES) expect(p!.stages[stage]).toBe(chunks);
      expect(p!.records.read).toBe(184);
      expect(p!.graph.nodesWritten).toBeGreaterThan(0);
      expect(p!.findings).toBeGreaterThan(0);
    } finally {
      await ingester.close();
    }
    // Identify kept its state where only it may; every stage sent heartbeats as itself.
    expect(await admin.scan('0', 'MATCH', `${k.sigmaCorrelation}:*`, 'COUNT', '10000').then(([, ks]) => ks.length)).toBeGreaterThan(0);
    const beats = Object.keys(await login('web').hgetall(k.heartbeats)).map((f) => f.split(':')[0]);
    for (const stage of STAGES) expect(beats).toContain(stage);
    expect(await aclDenials()).toEqual([]);

    // Still no listening port after a whole upload went through.
    expect(listeningSockets(worker.pid).listening).toEqual([]);
  });
});
