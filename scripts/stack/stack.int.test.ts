/**
 * The local stack itself, against the real servers. Starts its own Redis and Neo4j on free ports in a
 * temporary directory (not the integration global setup's), so it also proves that setup's building blocks.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import neo4j from 'neo4j-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildNeo4jLauncher, startNeo4j } from './neo4j';
import { freePort } from './ports';
import { sleep } from './process';
import { startRedis } from './redis';

const HERE = path.dirname(fileURLToPath(import.meta.url));
// Characters that must be escaped in a URL and in redis.conf, to prove both encodings.
const AWKWARD_PASSWORD = 'p@ss:w/rd %"\\ü#?';

let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lensgraph-stack-'));
  await buildNeo4jLauncher({ quiet: true });
}, 300_000);

afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (isRunning(pid) && Date.now() < deadline) await sleep(100);
  return !isRunning(pid);
}

async function neo4jQuery(
  uri: string,
  password: string,
  cypher: string,
  params: Record<string, unknown> = {},
): Promise<unknown[]> {
  const driver = neo4j.driver(uri, neo4j.auth.basic('neo4j', password));
  try {
    const { records } = await driver.executeQuery(cypher, params);
    return records.map((record) => record.get(0) as unknown);
  } finally {
    await driver.close();
  }
}

async function firstReply(port: number, request: string): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => socket.write(request));
    socket.once('error', reject);
    socket.once('data', (chunk: Buffer) => {
      socket.destroy();
      resolve(chunk.toString('utf8').split('\r\n')[0] ?? '');
    });
  });
}

describe('local stack', () => {
  it('starts Redis and Neo4j on loopback, serves clients with the password, and stops by PID', async () => {
    const [redisPort, boltPort] = [await freePort(), await freePort()];
    const redis = await startRedis({
      dataDir: path.join(dir, 'a', 'redis'),
      port: redisPort,
      password: AWKWARD_PASSWORD,
    });
    const graph = await startNeo4j({ dataDir: path.join(dir, 'a', 'neo4j'), boltPort, password: 'first-pw' });
    try {
      expect(redis.url).toBe(`redis://:${encodeURIComponent(AWKWARD_PASSWORD)}@127.0.0.1:${redisPort}`);
      const client = new Redis(redis.url, { maxRetriesPerRequest: 1, lazyConnect: true });
      try {
        await client.connect();
        expect(await client.ping()).toBe('PONG');
        await client.set('stack:key', 'value');
        expect(await client.get('stack:key')).toBe('value');
        expect(await client.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
        expect(await client.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
      } finally {
        client.disconnect();
      }
      // A raw socket, because a client library would hide the refusal behind its own handshake.
      expect(await firstReply(redisPort, 'PING\r\n')).toMatch(/^-NOAUTH/);

      expect(graph.uri).toBe(`bolt://127.0.0.1:${boltPort}`);
      expect(graph.user).toBe('neo4j');
      await neo4jQuery(graph.uri, graph.password, 'CREATE (:StackProbe {name: $name})', { name: 'written' });
      expect(await neo4jQuery(graph.uri, graph.password, 'MATCH (n:StackProbe) RETURN n.name')).toEqual([
        'written',
      ]);
      await expect(neo4jQuery(graph.uri, 'wrong-pw', 'RETURN 1')).rejects.toThrow(/authentication failure/);
    } finally {
      await Promise.allSettled([redis.stop(), graph.stop()]);
    }
    expect(isRunning(redis.pid)).toBe(false);
    expect(isRunning(graph.pid)).toBe(false);
  });

  it('takes the servers down with a killed parent; the next run reuses the data, even with a new password', async () => {
    const [redisPort, boltPort] = [await freePort(), await freePort()];
    const redisDir = path.join(dir, 'b', 'redis');
    const neo4jDir = path.join(dir, 'b', 'neo4j');
    // A separate Node process starts the servers and is then SIGKILLed, as a crashed dev server or CI job would be.
    const parentScript = `
      import { startRedis } from ${JSON.stringify(path.join(HERE, 'redis.ts'))};
      import { startNeo4j } from ${JSON.stringify(path.join(HERE, 'neo4j.ts'))};
      const [redis, graph] = await Promise.all([
        startRedis({ dataDir: ${JSON.stringify(redisDir)}, port: ${redisPort}, password: 'redis-pw' }),
        startNeo4j({ dataDir: ${JSON.stringify(neo4jDir)}, boltPort: ${boltPort}, password: 'old-pw' }),
      ]);
      console.log(JSON.stringify({ redisPid: redis.pid, neo4jPid: graph.pid }));
      setInterval(() => undefined, 60_000);
    `;
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', parentScript], {
      cwd: path.resolve(HERE, '../..'),
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const parentExited = new Promise((resolve) => parent.once('exit', resolve));
    try {
      const firstLine = await new Promise<string>((resolve, reject) => {
        readline.createInterface({ input: parent.stdout }).once('line', resolve);
        parent.once('exit', (code) => reject(new Error(`stack parent exited with ${String(code)}`)));
      });
      const pids = JSON.parse(firstLine) as { redisPid: number; neo4jPid: number };

      const client = new Redis(`redis://:redis-pw@127.0.0.1:${redisPort}`, { maxRetriesPerRequest: 1 });
      await client.set('survives', 'yes');
      client.disconnect();
      await neo4jQuery(
        `bolt://127.0.0.1:${boltPort}`,
        'old-pw',
        'CREATE (:StackProbe {name: "before-crash"})',
      );

      parent.kill('SIGKILL');
      await parentExited;
      expect(await waitGone(pids.redisPid, 30_000)).toBe(true);
      expect(await waitGone(pids.neo4jPid, 60_000)).toBe(true);
    } finally {
      if (parent.exitCode === null && parent.signalCode === null) parent.kill('SIGKILL');
    }

    const redis = await startRedis({ dataDir: redisDir, port: redisPort, password: 'redis-pw' });
    const graph = await startNeo4j({ dataDir: neo4jDir, boltPort, password: 'new-pw' });
    try {
      const client = new Redis(redis.url, { maxRetriesPerRequest: 1 });
      try {
        expect(await client.get('survives')).toBe('yes');
      } finally {
        client.disconnect();
      }
      expect(
        await neo4jQuery(graph.uri, 'new-pw', 'MATCH (n:StackProbe {name: "before-crash"}) RETURN n.name'),
      ).toEqual(['before-crash']);
      await expect(neo4jQuery(graph.uri, 'old-pw', 'RETURN 1')).rejects.toThrow(/authentication failure/);
    } finally {
      await Promise.allSettled([redis.stop(), graph.stop()]);
    }
    expect(isRunning(redis.pid)).toBe(false);
    expect(isRunning(graph.pid)).toBe(false);
  });

  it('refuses a data directory in use by a live run, and stops an orphan an earlier run left', async () => {
    const redisDir = path.join(dir, 'c', 'redis');
    const redis = await startRedis({ dataDir: redisDir, port: await freePort(), password: 'pw' });
    try {
      await expect(startRedis({ dataDir: redisDir, port: await freePort(), password: 'pw' })).rejects.toThrow(
        /already running on this data directory as PID/,
      );
    } finally {
      await redis.stop();
    }

    // An orphan: its parent (a shell) exits at once. The PID file names that shell as the parent, as
    // spawnOwned would have recorded it, plus the orphan's start time.
    const shell = spawn('sh', ['-c', 'sleep 300 & echo $!'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const [orphanLine] = await Promise.all([
      new Promise<string>((resolve) =>
        readline.createInterface({ input: shell.stdout }).once('line', resolve),
      ),
      new Promise((resolve) => shell.once('exit', resolve)),
    ]);
    const orphan = Number(orphanLine);
    try {
      const startTicks = fs.readFileSync(`/proc/${orphan}/stat`, 'utf8').split(') ')[1]?.split(' ')[19];
      fs.writeFileSync(
        path.join(redisDir, 'redis-server.pid.json'),
        JSON.stringify({ pid: orphan, parentPid: shell.pid, startTicks }),
      );
      const again = await startRedis({ dataDir: redisDir, port: await freePort(), password: 'pw' });
      await again.stop();
      expect(await waitGone(orphan, 5_000)).toBe(true);
    } finally {
      if (isRunning(orphan)) process.kill(orphan, 'SIGKILL');
    }
  });
});
