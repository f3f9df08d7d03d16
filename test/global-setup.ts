/**
 * Integration-test harness: one real Redis and one real Neo4j on free loopback ports, in a temporary
 * data directory, for the whole run; stopped (by PID) at the end. Tests find them through the usual
 * environment variables (REDIS_URL, NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD) and each test owns its own
 * namespace (a random queue prefix, its own host names), so files run in parallel against one server.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildNeo4jLauncher, startNeo4j } from '../scripts/stack/neo4j';
import { freePort } from '../scripts/stack/ports';
import { startRedis } from '../scripts/stack/redis';

export default async function setup(): Promise<() => Promise<void>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lensgraph-it-'));
  const password = randomBytes(16).toString('hex');
  const t0 = Date.now();
  await buildNeo4jLauncher({ quiet: true });
  const [redis, neo4j] = await Promise.all([
    freePort().then((port) => startRedis({ dataDir: path.join(dir, 'redis'), port, password, appendOnly: false })),
    freePort().then((boltPort) =>
      startNeo4j({ dataDir: path.join(dir, 'neo4j'), boltPort, password, heapMb: 1536, pageCacheMb: 512 }),
    ),
  ]);
  process.env.REDIS_URL = redis.url;
  process.env.NEO4J_URI = neo4j.uri;
  process.env.NEO4J_USER = neo4j.user;
  process.env.NEO4J_PASSWORD = neo4j.password;
  console.log(`[integration] Redis ${redis.host}:${redis.port} and Neo4j ${neo4j.uri} ready in ${Date.now() - t0} ms`);
  return async () => {
    await Promise.allSettled([redis.stop(), neo4j.stop()]);
    fs.rmSync(dir, { recursive: true, force: true });
  };
}
