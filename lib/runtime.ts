/**
 * Where a running stack can be reached: written by `npm start` into the data directory so that the CLI
 * tools (ingest, findings, rules) find the local services without being told. Environment variables
 * (REDIS_URL, NEO4J_URI, NEO4J_USER, NEO4J_PASSWORD) take precedence.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError, withRedisPassword, type Config } from './config';

const Runtime = z.object({
  redisUrl: z.string(),
  neo4jUri: z.string(),
  neo4jUser: z.string(),
  neo4jPassword: z.string(),
  queuePrefix: z.string(),
  webUrl: z.string().optional(),
  pid: z.number(),
});
export type Runtime = z.infer<typeof Runtime>;

export function runtimeFile(dataDir: string): string {
  return path.join(dataDir, 'runtime.json');
}

export function writeRuntime(dataDir: string, rt: Runtime): void {
  fs.writeFileSync(runtimeFile(dataDir), JSON.stringify(rt, null, 2), { mode: 0o600 });
}

export function clearRuntime(dataDir: string): void {
  fs.rmSync(runtimeFile(dataDir), { force: true });
}

/** Connection settings for a CLI: environment first, then the running local stack. */
export function resolveServices(cfg: Config): {
  redisUrl: string;
  neo4j: { uri: string; user: string; password: string; database: string };
  queuePrefix: string;
} {
  let rt: Runtime | undefined;
  const file = runtimeFile(cfg.dataDir);
  if (fs.existsSync(file)) {
    const parsed = Runtime.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    if (parsed.success) rt = parsed.data;
  }
  const redisUrl = cfg.REDIS_URL ? withRedisPassword(cfg.REDIS_URL, cfg.REDIS_PASSWORD) : rt?.redisUrl;
  const uri = cfg.NEO4J_URI ?? rt?.neo4jUri;
  const password = cfg.NEO4J_PASSWORD ?? rt?.neo4jPassword;
  const problems: string[] = [];
  if (!redisUrl) problems.push('REDIS_URL: not set and no running local stack found (start one with `npm start`)');
  if (!uri || !password) problems.push('NEO4J_URI/NEO4J_PASSWORD: not set and no running local stack found (start one with `npm start`)');
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    redisUrl: redisUrl!,
    neo4j: { uri: uri!, user: cfg.NEO4J_URI ? cfg.NEO4J_USER : (rt?.neo4jUser ?? cfg.NEO4J_USER), password: password!, database: cfg.NEO4J_DATABASE },
    queuePrefix: process.env.LENSGRAPH_QUEUE_PREFIX ? cfg.LENSGRAPH_QUEUE_PREFIX : (rt?.queuePrefix ?? cfg.LENSGRAPH_QUEUE_PREFIX),
  };
}
