/**
 * Starts the whole platform: Redis and Neo4j (local ones unless REDIS_URL / NEO4J_URI point elsewhere),
 * the schema and first admin account, the pipeline workers and the web app (production build).
 * Used by `npm start` (scripts/start.ts) and by the browser tests' global setup, so both run the same
 * stack. Stops only what it started, by PID.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { STAGES, type StageName } from '../domain/stages';
import { parseConfig } from '../lib/config';
import { GraphGateway } from '../lib/neo4j';
import {
  ADMIN_USER,
  completeRedisPasswords,
  redisLoginUrl,
  redisUserName,
  redisUsersJson,
  renderAclFile,
  type RedisPasswords,
} from '../lib/redis-acl';
import { setupDatabase, type DatabaseSetup } from './stack/database';
import { buildNeo4jLauncher, startNeo4j, type Neo4jHandle } from './stack/neo4j';
import { freePort } from './stack/ports';
import { startRedis, type RedisHandle } from './stack/redis';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

export interface StackOptions {
  dataDir: string;
  webPort?: number;
  /** Fixed ports for the local services (npm start); free ones when absent (tests). */
  redisPort?: number;
  neo4jPort?: number;
  adminPassword?: string;
  queuePrefix?: string;
  /** Extra environment for workers and web (e.g. LENSGRAPH_SIGMA_DIRS). */
  env?: Record<string, string>;
  log?: (line: string) => void;
  /** Skip the web app (pipeline-only stacks in tests). */
  web?: boolean;
  /** Worker processes per stage (default 1; each process runs one stage). */
  workers?: number;
}

export interface Stack {
  baseUrl: string;
  /**
   * Where the services are, for tools run next to the stack (the CLI through runtime.json). With the
   * local Redis, REDIS_URL logs in as the `ingest` user, not as admin.
   */
  env: Record<string, string>;
  /** The local Redis's admin login (undefined with an external Redis). */
  redisAdminUrl?: string;
  adminPassword?: string;
  adminCreated: boolean;
  stop(): Promise<void>;
}

interface Secrets {
  /** The local Redis's `admin` user. */
  redisPassword: string;
  neo4jPassword: string;
  /** One per Redis ACL user (lib/redis-acl.ts): each stage, the ingester, the web app. */
  redisUsers: RedisPasswords;
}

/** Generated once per data directory and kept there (mode 0600), unless given by the environment. */
export function loadSecrets(dataDir: string, env: NodeJS.ProcessEnv): Secrets {
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, 'secrets.json');
  let stored: Partial<Secrets> = {};
  if (fs.existsSync(file)) stored = JSON.parse(fs.readFileSync(file, 'utf8')) as Partial<Secrets>;
  const secrets: Secrets = {
    redisPassword: env.REDIS_PASSWORD || stored.redisPassword || randomBytes(24).toString('base64url'),
    neo4jPassword: env.NEO4J_PASSWORD || stored.neo4jPassword || randomBytes(24).toString('base64url'),
    redisUsers: completeRedisPasswords(stored.redisUsers),
  };
  fs.writeFileSync(file, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}

export async function startStack(opts: StackOptions): Promise<Stack> {
  const log = opts.log ?? ((l: string) => console.log(l));
  const cfg = parseConfig({ ...process.env, ...opts.env });
  const dataDir = path.resolve(opts.dataDir);
  const cleanups: Array<() => Promise<void>> = [];
  const stopAll = async () => {
    for (const c of cleanups.reverse()) await c().catch((e: unknown) => log(`stop failed: ${String(e)}`));
    cleanups.length = 0;
  };

  try {
    const secrets = loadSecrets(dataDir, process.env);
    const prefix = opts.queuePrefix ?? cfg.LENSGRAPH_QUEUE_PREFIX;
    // Redis logins of the children. Local Redis: each its own ACL user (lib/redis-acl.ts), admin kept
    // for this process only. External Redis: REDIS_URL (and LENSGRAPH_REDIS_USERS, if the operator set
    // up users) as given, for everyone.
    let redisAdminUrl: string | undefined;
    // A stage's own Redis login (none with an external Redis: REDIS_URL is used as given).
    let stageRedisEnv: (stage: StageName) => Record<string, string> = () => ({});
    let webRedisEnv: Record<string, string> = {};
    let toolRedisUrl: string;
    if (!cfg.REDIS_URL) {
      const port = opts.redisPort ?? (await freePort());
      const redisDir = path.join(dataDir, 'redis');
      fs.mkdirSync(redisDir, { recursive: true, mode: 0o700 });
      const aclFile = path.join(redisDir, 'users.acl');
      fs.writeFileSync(
        aclFile,
        renderAclFile({ prefix, adminPassword: secrets.redisPassword, passwords: secrets.redisUsers }),
        { mode: 0o600 },
      );
      fs.chmodSync(aclFile, 0o600);
      log(`Starting Redis on 127.0.0.1:${port} (one ACL user per stage) ...`);
      const redis: RedisHandle = await startRedis({
        dataDir: redisDir,
        port,
        user: ADMIN_USER,
        password: secrets.redisPassword,
        aclFile,
      });
      cleanups.push(() => redis.stop());
      redisAdminUrl = redis.url;
      const where = { host: redis.host, port: redis.port };
      const login = (role: 'ingest' | 'web') =>
        redisLoginUrl(where, redisUserName(prefix, role), secrets.redisUsers[role]);
      // REDIS_PASSWORD is emptied so a value inherited from this process never overrides a login.
      stageRedisEnv = (stage) => ({
        REDIS_URL: `redis://${redis.host}:${redis.port}`,
        REDIS_PASSWORD: '',
        LENSGRAPH_REDIS_USERS: redisUsersJson(where, prefix, secrets.redisUsers, [stage]),
      });
      webRedisEnv = { REDIS_URL: login('web'), REDIS_PASSWORD: '', LENSGRAPH_REDIS_USERS: '' };
      toolRedisUrl = login('ingest');
    } else {
      log('Using external Redis from REDIS_URL');
      toolRedisUrl = cfg.REDIS_URL;
    }

    let neo4jUri = cfg.NEO4J_URI;
    let neo4jUser = cfg.NEO4J_USER;
    let neo4jPassword = cfg.NEO4J_PASSWORD ?? secrets.neo4jPassword;
    if (!neo4jUri) {
      log('Preparing Neo4j (the first start downloads it through Maven) ...');
      await buildNeo4jLauncher({ log });
      const port = opts.neo4jPort ?? (await freePort());
      log(`Starting Neo4j on bolt://127.0.0.1:${port} ...`);
      const neo: Neo4jHandle = await startNeo4j({
        dataDir: path.join(dataDir, 'neo4j'),
        boltPort: port,
        password: secrets.neo4jPassword,
        log: (l) => (process.env.LENSGRAPH_LOG_LEVEL === 'debug' ? log(l) : undefined),
      });
      cleanups.push(() => neo.stop());
      neo4jUri = neo.uri;
      neo4jUser = neo.user;
      neo4jPassword = neo.password;
    } else {
      log('Using external Neo4j from NEO4J_URI');
    }

    const env: Record<string, string> = {
      ...(opts.env ?? {}),
      REDIS_URL: toolRedisUrl,
      NEO4J_URI: neo4jUri,
      NEO4J_USER: neo4jUser,
      NEO4J_PASSWORD: neo4jPassword,
      LENSGRAPH_DATA_DIR: dataDir,
      LENSGRAPH_QUEUE_PREFIX: prefix,
    };

    // Schema and the first admin, before anything can log in or write (scripts/stack/database.ts).
    const gateway = new GraphGateway({ uri: neo4jUri, user: neo4jUser, password: neo4jPassword });
    let setup: DatabaseSetup;
    try {
      setup = await setupDatabase(gateway, opts.adminPassword ?? cfg.LENSGRAPH_ADMIN_PASSWORD, log);
    } finally {
      await gateway.close();
    }

    // One process per stage (Grapl's service per stage): a CPU-bound stage (parse, identify with Sigma)
    // can never hold up the event loop of an I/O-bound one (merge's and analyze's Neo4j round trips),
    // and each process holds only its own stage's Redis login.
    const perStage = Math.max(1, opts.workers ?? 1);
    const started = await Promise.allSettled(
      STAGES.flatMap((stage) =>
        Array.from({ length: perStage }, (_, i) =>
          startChild(
            perStage > 1 ? `${stage}-${i + 1}` : stage,
            tsxCommand('pipeline/main.ts'),
            { ...env, ...stageRedisEnv(stage), LENSGRAPH_WORKER_STAGES: stage },
            /WORKERS READY/,
            log,
            300_000,
          ),
        ),
      ),
    );
    for (const r of started) if (r.status === 'fulfilled') cleanups.push(() => stopChild(r.value));
    const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));

    let baseUrl = '';
    if (opts.web !== false) {
      const port = opts.webPort ?? (await freePort());
      const nextBin = path.join(ROOT, 'node_modules', 'next', 'dist', 'bin', 'next');
      const web = await startChild(
        'web',
        [process.execPath, nextBin, 'start', '-H', cfg.HOST, '-p', String(port)],
        { ...env, ...webRedisEnv, PORT: String(port), NODE_ENV: 'production' },
        /Ready in|started server on|Local:/,
        log,
        120_000,
      );
      cleanups.push(() => stopChild(web));
      // Bound to every interface (HOST=0.0.0.0 or ::): reach it, and show it, on the loopback address.
      const reach = cfg.HOST === '0.0.0.0' || cfg.HOST === '::' ? '127.0.0.1' : cfg.HOST;
      baseUrl = `http://${reach.includes(':') ? `[${reach}]` : reach}:${port}`;
      await waitForHttp(`${baseUrl}/login`, 60_000);
    }

    return {
      baseUrl,
      env,
      ...(redisAdminUrl ? { redisAdminUrl } : {}),
      adminCreated: setup.adminCreated,
      ...(setup.adminPassword ? { adminPassword: setup.adminPassword } : {}),
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}

export function tsxCommand(script: string): string[] {
  return [process.execPath, '--import', 'tsx', path.join(ROOT, script)];
}

export interface Child {
  name: string;
  proc: ChildProcess;
  exited: Promise<number | null>;
}

export function startChild(
  name: string,
  argv: string[],
  env: Record<string, string>,
  ready: RegExp,
  log: (l: string) => void,
  timeoutMs: number,
): Promise<Child> {
  const [cmd, ...args] = argv;
  const proc = spawn(cmd!, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  const tail: string[] = [];
  return new Promise<Child>((resolve, reject) => {
    let isReady = false;
    const timer = setTimeout(() => {
      if (!isReady) {
        proc.kill('SIGTERM');
        reject(new Error(`${name} did not become ready in ${timeoutMs / 1000}s:\n${tail.join('\n')}`));
      }
    }, timeoutMs);
    const onLine = (line: string) => {
      tail.push(line);
      if (tail.length > 40) tail.shift();
      if (process.env.LENSGRAPH_LOG_LEVEL === 'debug' || isReady) {
        if (!line.includes('"level":"info"') || process.env.LENSGRAPH_LOG_LEVEL === 'debug')
          log(`[${name}] ${line}`);
      }
      if (!isReady && ready.test(line)) {
        isReady = true;
        clearTimeout(timer);
        resolve({ name, proc, exited });
      }
    };
    lines(proc.stdout!, onLine);
    lines(proc.stderr!, onLine);
    proc.on('exit', (code) => {
      if (!isReady) {
        clearTimeout(timer);
        reject(new Error(`${name} exited with code ${code} before it was ready:\n${tail.join('\n')}`));
      }
    });
  });
}

export async function stopChild(child: Child, timeoutMs = 20_000): Promise<void> {
  if (child.proc.exitCode !== null || child.proc.signalCode !== null) return;
  child.proc.kill('SIGTERM');
  const t = setTimeout(() => child.proc.kill('SIGKILL'), timeoutMs);
  await child.exited;
  clearTimeout(t);
}

function lines(stream: NodeJS.ReadableStream, onLine: (l: string) => void): void {
  let buf = '';
  stream.setEncoding('utf8');
  stream.on('data', (d: string) => {
    buf += d;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
    if (buf.length > 65536) buf = buf.slice(-65536);
  });
}

async function waitForHttp(url: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const res = await fetch(url, { redirect: 'manual' });
      if (res.status < 500) return;
    } catch {
      // not up yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer in ${timeoutMs / 1000}s`);
    await new Promise((r) => setTimeout(r, 300));
  }
}
