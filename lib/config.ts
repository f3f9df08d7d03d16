/**
 * Configuration, parsed once at boot from the environment (ENGINEERING.md §8). Every problem is reported
 * with the variable's name; unknown LENSGRAPH_* keys are an error so that a typo never silently becomes a
 * default. Secrets are kept out of `describeConfig`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { STAGES, StageRegistry, type StageName } from '../domain/stages';
import type { Neo4jSettings } from './neo4j';

const PREFIX = 'LENSGRAPH_';

const port = z.coerce.number().int().min(1).max(65535);
const positiveInt = z.coerce.number().int().positive();
function isDirectory(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

const optionalNonEmpty = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));

const redisUrl = z
  .string()
  .refine((v) => /^rediss?:\/\//.test(v), 'must be a redis:// or rediss:// URL')
  .refine((v) => {
    try {
      new URL(v);
      return true;
    } catch {
      return false;
    }
  }, 'is not a valid URL');

/**
 * The Redis users of an installation with per-role ACLs (lib/redis-acl.ts): one per pipeline stage, the
 * ingester (CLI) and the web app. Declared here, next to the setting that carries their credentials.
 */
export const REDIS_ROLES = [...STAGES, 'ingest', 'web'] as const;
export type RedisRole = (typeof REDIS_ROLES)[number];
/** The roles a worker process logs in as. */
export const STAGES_AS_ROLES: readonly RedisRole[] = STAGES;

/** `{"parse": "redis://lg-parse:secret@host:6379", ...}`: each role's own login; secrets masked in logs. */
const redisUsers = z
  .string()
  .optional()
  .transform((v, ctx): Partial<Record<RedisRole, string>> | undefined => {
    if (v === undefined || v.trim() === '') return undefined;
    let raw: unknown;
    try {
      raw = JSON.parse(v);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object {"<role>": "redis://user:password@host:port"}' });
      return z.NEVER;
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      ctx.addIssue({ code: 'custom', message: 'must be a JSON object {"<role>": "redis://user:password@host:port"}' });
      return z.NEVER;
    }
    const out: Partial<Record<RedisRole, string>> = {};
    for (const [role, url] of Object.entries(raw)) {
      if (!(REDIS_ROLES as readonly string[]).includes(role)) {
        ctx.addIssue({ code: 'custom', message: `unknown role "${role}" (known: ${REDIS_ROLES.join(', ')})` });
        continue;
      }
      const checked = redisUrl.safeParse(url);
      let named = false;
      if (checked.success) {
        const u = new URL(checked.data);
        named = u.username !== '' && u.password !== '';
      }
      if (!named) {
        // Never echo the value: it holds a password.
        ctx.addIssue({ code: 'custom', message: `${role}: must be a redis:// URL with a user name and a password` });
        continue;
      }
      out[role as RedisRole] = url as string;
    }
    return out;
  });

const neo4jUri = z
  .string()
  .refine((v) => /^(bolt|neo4j)(\+s|\+ssc)?:\/\/[^/]+/.test(v), 'must be a bolt:// or neo4j:// URI');

export const ConfigSchema = z.object({
  PORT: port.default(3000),
  HOST: z
    .string()
    .regex(/^[A-Za-z0-9.:-]{1,253}$/, 'must be an IP address or a host name')
    .default('127.0.0.1'),
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  REDIS_URL: redisUrl.optional(),
  REDIS_PASSWORD: optionalNonEmpty,
  NEO4J_URI: neo4jUri.optional(),
  NEO4J_USER: z.string().min(1).default('neo4j'),
  NEO4J_PASSWORD: optionalNonEmpty,
  NEO4J_DATABASE: z.string().min(1).default('neo4j'),
  LENSGRAPH_DATA_DIR: z.string().min(1).default('./data'),
  LENSGRAPH_ADMIN_PASSWORD: optionalNonEmpty.refine(
    (v) => v === undefined || v.length >= 8,
    'must be at least 8 characters',
  ),
  LENSGRAPH_SIGMA_DIRS: optionalNonEmpty,
  LENSGRAPH_ANALYZERS_DIR: optionalNonEmpty,
  LENSGRAPH_LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** Namespace for every Redis key and queue; tests use a random one each. */
  LENSGRAPH_QUEUE_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9_-]+$/, 'letters, digits, _ and - only')
    .default('lg'),
  /** How long stored payloads are kept (hours). */
  LENSGRAPH_PAYLOAD_TTL_HOURS: positiveInt.default(48),
  /** Comma-separated stages this worker process runs (default: all). */
  LENSGRAPH_WORKER_STAGES: optionalNonEmpty,
  LENSGRAPH_SESSION_TTL_HOURS: positiveInt.default(12),
  /** Records per stored payload when an upload is cut. */
  LENSGRAPH_CHUNK_RECORDS: positiveInt.default(2000),
  /**
   * Uploads to POST /api/ingest one caller (API token, or account for session uploads) may have in
   * progress at once, across every web process (server/uploads/upload-slots.ts); one more gets 429.
   */
  LENSGRAPH_MAX_CONCURRENT_UPLOADS: positiveInt.max(1000).default(4),
  /**
   * Where the web process keeps an HTTP upload while it reads it twice (clock pre-pass, then chunks): one
   * private file per upload (mode 0600), removed when the upload ends. Default: the OS temp directory.
   * Needs room for the largest uploads in progress at once, as sent (compressed uploads stay compressed).
   */
  LENSGRAPH_SPOOL_DIR: optionalNonEmpty.refine(
    (v) => v === undefined || isDirectory(v),
    'must name an existing directory',
  ),
  /**
   * Per-role Redis logins (JSON object role -> URL), for a Redis with per-stage ACL users (docs/security.md).
   * Unset: every process uses REDIS_URL. Set: a worker runs only the stages that have a login here.
   */
  LENSGRAPH_REDIS_USERS: redisUsers,
  /**
   * How long a worker holds a job before another worker may take it over (ms); renewed at half of it.
   * A killed worker's jobs are picked up again after at most about twice this.
   */
  LENSGRAPH_WORKER_LOCK_MS: z.coerce.number().int().min(1000).max(3_600_000).default(60_000),
  /** Mark cookies Secure (set behind HTTPS). */
  LENSGRAPH_SECURE_COOKIES: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});

export type Config = z.infer<typeof ConfigSchema> & { dataDir: string; sigmaDirs: string[] };

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

const KNOWN = new Set(Object.keys(ConfigSchema.shape));

/** Parse an environment; throws ConfigError listing every problem by variable name. */
export function parseConfig(env: Record<string, string | undefined>): Config {
  const problems: string[] = [];
  for (const key of Object.keys(env)) {
    if (key.startsWith(PREFIX) && !KNOWN.has(key)) problems.push(`${key}: unknown setting (typo?)`);
  }
  const input: Record<string, string | undefined> = {};
  for (const key of KNOWN) input[key] = env[key] === '' ? undefined : env[key];
  const parsed = ConfigSchema.safeParse(input);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${issue.path.join('.') || '(root)'}: ${issue.message}`);
    }
  }
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);
  const c = parsed.data;
  if (c.NEO4J_URI && !c.NEO4J_PASSWORD) {
    throw new ConfigError(['NEO4J_PASSWORD: required when NEO4J_URI is set']);
  }
  return {
    ...c,
    dataDir: path.resolve(c.LENSGRAPH_DATA_DIR),
    sigmaDirs: (c.LENSGRAPH_SIGMA_DIRS ?? '')
      .split(/[,;]/)
      .map((d) => d.trim())
      .filter(Boolean)
      .map((d) => path.resolve(d)),
  };
}

let cached: Config | undefined;

/** The process's configuration; on the first call a bad environment prints every problem and exits. */
export function config(): Config {
  if (cached) return cached;
  try {
    cached = parseConfig(process.env);
    return cached;
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
}

/** For logs: every setting, secrets masked. */
export function describeConfig(c: Config): Record<string, string | number | boolean | undefined> {
  const mask = (v: string | undefined) => (v ? '********' : undefined);
  const maskUrl = (v: string | undefined) => (v ? v.replace(/\/\/[^@/]*@/, '//***@') : undefined);
  return {
    PORT: c.PORT,
    HOST: c.HOST,
    REDIS_URL: maskUrl(c.REDIS_URL),
    REDIS_PASSWORD: mask(c.REDIS_PASSWORD),
    NEO4J_URI: c.NEO4J_URI,
    NEO4J_USER: c.NEO4J_USER,
    NEO4J_PASSWORD: mask(c.NEO4J_PASSWORD),
    LENSGRAPH_DATA_DIR: c.dataDir,
    LENSGRAPH_SIGMA_DIRS: c.sigmaDirs.join(','),
    LENSGRAPH_QUEUE_PREFIX: c.LENSGRAPH_QUEUE_PREFIX,
    // Roles only: the URLs hold passwords.
    LENSGRAPH_REDIS_USERS: c.LENSGRAPH_REDIS_USERS ? Object.keys(c.LENSGRAPH_REDIS_USERS).join(',') : undefined,
    LENSGRAPH_WORKER_LOCK_MS: c.LENSGRAPH_WORKER_LOCK_MS,
    LENSGRAPH_MAX_CONCURRENT_UPLOADS: c.LENSGRAPH_MAX_CONCURRENT_UPLOADS,
    LENSGRAPH_SPOOL_DIR: c.LENSGRAPH_SPOOL_DIR,
  };
}

/**
 * The Redis URL a role logs in with: its own user from LENSGRAPH_REDIS_USERS when that is set (a role
 * missing there is an error, never a silent fall back to a more powerful login), else REDIS_URL.
 */
export function redisUrlFor(c: Config, role: RedisRole): string {
  const users = c.LENSGRAPH_REDIS_USERS;
  if (users) {
    const url = users[role];
    if (!url) throw new ConfigError([`LENSGRAPH_REDIS_USERS: no login for "${role}"`]);
    return url;
  }
  if (!c.REDIS_URL) throw new ConfigError(['REDIS_URL: required (npm start sets it for the local Redis)']);
  return withRedisPassword(c.REDIS_URL, c.REDIS_PASSWORD);
}

/**
 * The stages that talk to Neo4j (StageRegistry's usesNeo4j). parse and identify work on stored payloads and
 * Redis only, so a worker process running just those needs no Neo4j settings, and docker-compose gives them
 * none (least privilege).
 */
export const NEO4J_STAGES: readonly StageName[] = STAGES.filter((s) => StageRegistry[s].usesNeo4j);

export interface WorkerSettings {
  /** LENSGRAPH_WORKER_STAGES, in the order given, without repeats (default: every stage). */
  stages: StageName[];
  /** Each stage's Redis login (redisUrlFor). */
  redisUrls: Partial<Record<StageName, string>>;
  /** Only when one of the stages is in NEO4J_STAGES; null otherwise, whatever the environment holds. */
  neo4j: (Neo4jSettings & { database: string }) | null;
}

/**
 * What a worker process (pipeline/main.ts) connects to, checked at boot with every problem listed: the
 * stages it runs, a Redis login for each, and Neo4j only when one of its stages uses it.
 */
export function workerSettings(c: Config): WorkerSettings {
  const problems: string[] = [];
  const wanted = (c.LENSGRAPH_WORKER_STAGES ?? STAGES.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = wanted.filter((s) => !(STAGES as readonly string[]).includes(s));
  if (unknown.length > 0)
    problems.push(`LENSGRAPH_WORKER_STAGES: unknown stage(s) ${unknown.join(', ')}; known: ${STAGES.join(', ')}`);
  else if (wanted.length === 0) problems.push(`LENSGRAPH_WORKER_STAGES: names no stage; known: ${STAGES.join(', ')}`);
  const stages = [...new Set(wanted)].filter((s): s is StageName => (STAGES as readonly string[]).includes(s));

  const redisUrls: Partial<Record<StageName, string>> = {};
  for (const stage of stages) {
    try {
      redisUrls[stage] = redisUrlFor(c, stage);
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      for (const p of err.problems) if (!problems.includes(p)) problems.push(p);
    }
  }

  const usesNeo4j = stages.filter((s) => NEO4J_STAGES.includes(s));
  if (usesNeo4j.length > 0) {
    const why = `(used by stage ${usesNeo4j.join(', ')}; npm start sets it for the local Neo4j)`;
    if (!c.NEO4J_URI) problems.push(`NEO4J_URI: required ${why}`);
    if (!c.NEO4J_PASSWORD) problems.push(`NEO4J_PASSWORD: required ${why}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    stages,
    redisUrls,
    neo4j:
      usesNeo4j.length > 0
        ? { uri: c.NEO4J_URI!, user: c.NEO4J_USER, password: c.NEO4J_PASSWORD!, database: c.NEO4J_DATABASE }
        : null,
  };
}

/** A REDIS_URL without credentials takes REDIS_PASSWORD (so compose files never hold the secret). */
export function withRedisPassword(url: string, password: string | undefined): string {
  if (!password) return url;
  const u = new URL(url);
  if (u.password) return url;
  u.password = encodeURIComponent(password);
  return u.toString();
}
