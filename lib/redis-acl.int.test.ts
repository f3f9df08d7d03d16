/**
 * The generated ACL file across a restart of a real Redis (append-only, as `npm start` and docker-compose run
 * it): what the stages wrote through transactions and multi-key Lua scripts is still there afterwards, and
 * the `default` user, which needs every right for that (renderAclFile), still lets nobody in. This file owns
 * its Redis (free port, temporary directory), because it restarts it.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueName } from '../domain/stages';
import { freePort } from '../scripts/stack/ports';
import { startRedis, type RedisHandle } from '../scripts/stack/redis';
import { createRedis, keys } from './redis';
import { ADMIN_USER, completeRedisPasswords, redisLoginUrl, redisUserName, renderAclFile } from './redis-acl';

const prefix = `acl${randomBytes(4).toString('hex')}`;
const adminPassword = randomBytes(18).toString('base64url');
const passwords = completeRedisPasswords();
let dir: string;
let port: number;
let server: RedisHandle;

function start(): Promise<RedisHandle> {
  return startRedis({
    dataDir: path.join(dir, 'redis'),
    port,
    user: ADMIN_USER,
    password: adminPassword,
    aclFile: path.join(dir, 'users.acl'),
    appendOnly: true,
  });
}

/**
 * The first line of Redis's reply to each command, sent one after another on a connection that never
 * logged in (a client library would try to log in or negotiate first, and give up).
 */
async function rawReplies(...commands: string[][]): Promise<string[]> {
  const socket = net.connect(port, server.host);
  const lines: string[] = [];
  let buffered = '';
  const done = new Promise<void>((resolve, reject) => {
    socket.on('data', (d) => {
      buffered += d.toString('utf8');
      for (let i = buffered.indexOf('\r\n'); i >= 0; i = buffered.indexOf('\r\n')) {
        lines.push(buffered.slice(0, i));
        buffered = buffered.slice(i + 2);
      }
      if (lines.length >= commands.length) resolve();
    });
    socket.on('error', reject);
    socket.on('close', () => resolve());
  });
  for (const c of commands)
    socket.write(`*${c.length}\r\n${c.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  try {
    await done;
  } finally {
    socket.destroy();
  }
  return lines;
}

/** A connection logged in as one role's user, as the stages and the ingester log in. */
function loginAs(role: 'ingest'): Redis {
  return createRedis(redisLoginUrl(server, redisUserName(prefix, role), passwords[role]), {
    connectionName: `acl-${role}`,
  });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-acl-'));
  fs.writeFileSync(path.join(dir, 'users.acl'), renderAclFile({ prefix, adminPassword, passwords }), {
    mode: 0o600,
  });
  port = await freePort();
  server = await start();
});

afterAll(async () => {
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('Redis with the generated ACL file, restarted', () => {
  it("keeps the queues' jobs and what transactions wrote, and the default user still lets nobody in", async () => {
    // The ingester's real work: jobs on the parse queue (BullMQ adds each with one Lua script writing the job,
    // the wait list, the event stream and the id counter), and an upload record written in one transaction.
    const ingest = loginAs('ingest');
    const queue = new Queue(queueName('parse'), { connection: ingest, prefix: keys(prefix).bullPrefix });
    for (let i = 0; i < 3; i++) await queue.add('chunk', { i }, { jobId: `acl-${i}` });
    const upload = keys(prefix).upload('acl-upload');
    await ingest.multi().hset(upload, 'name', 'a.jsonl', 'records', '3').expire(upload, 3600).exec();
    await queue.close();
    await ingest.quit();
    const waiting = async () => {
      const admin = createRedis(server.url, { connectionName: 'acl-admin' });
      const q = new Queue(queueName('parse'), { connection: admin, prefix: keys(prefix).bullPrefix });
      try {
        return {
          counts: await q.getJobCounts('wait'),
          job: (await q.getJob('acl-1'))?.data,
          upload: await admin.hgetall(upload),
        };
      } finally {
        await q.close();
        await admin.quit();
      }
    };
    const before = await waiting();
    expect(before).toEqual({ counts: { wait: 3 }, job: { i: 1 }, upload: { name: 'a.jsonl', records: '3' } });

    // SIGTERM: Redis fsyncs its append-only file and exits; it replays the file when it starts again.
    await server.stop();
    server = await start();
    const log = fs.readFileSync(path.join(dir, 'redis', 'redis.log'), 'utf8');
    expect(log).not.toMatch(/NOPERM/);

    expect(await waiting()).toEqual(before);

    // The rights `default` needs for that replay are no way in: a connection that has not logged in is
    // refused every command, and nobody can log in as `default`.
    expect(
      await rawReplies(
        ['GET', upload],
        ['AUTH', 'default', ''],
        ['AUTH', 'default', passwords.parse],
        ['HELLO', '3', 'AUTH', 'default', ''],
      ),
    ).toEqual([
      expect.stringMatching(/^-NOAUTH/),
      expect.stringMatching(/^-WRONGPASS/),
      expect.stringMatching(/^-WRONGPASS/),
      expect.stringMatching(/^-WRONGPASS/),
    ]);
  }, 120_000);
});
