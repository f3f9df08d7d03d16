/**
 * A throw-away stack for the pipeline benchmarks: its own Redis and Neo4j (scripts/stack) on free loopback
 * ports with data in a temporary directory, and pipeline worker processes (`pipeline/main.ts`, as in
 * production) with Sigma rules loaded through LENSGRAPH_SIGMA_DIRS. Every process is started by us and
 * stopped by its PID (spawnOwned ties each to our life with PDEATHSIG as well); the directory is removed.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tsxCommand } from '../../scripts/run-stack';
import { buildNeo4jLauncher, startNeo4j, type Neo4jHandle } from '../../scripts/stack/neo4j';
import { freePort } from '../../scripts/stack/ports';
import { spawnOwned, waitUntilReady, describeExit, type OwnedProcess } from '../../scripts/stack/process';
import { startRedis, type RedisHandle } from '../../scripts/stack/redis';
import { REPO_ROOT } from './data';

export interface BatchLog {
  stage: string;
  ms: number;
  jobs: number;
  chunks: number;
  at: number;
}

export interface WorkerProc {
  name: string;
  stages: string;
  pid: number;
  proc: OwnedProcess;
  batches: BatchLog[];
  warnings: string[];
}

export interface BenchStackOptions {
  /** One entry per worker process: the stages it runs ('' = every stage). */
  workers: string[];
  sigmaDirs: string[];
  log: (line: string) => void;
  neo4jHeapMb?: number;
  neo4jPageCacheMb?: number;
  /** Keep the temporary directory, with each worker's log (`<worker>.log`). */
  keep?: boolean;
  /** Workers write V8 CPU profiles into `<dir>/profiles` (written when they exit; needs keep to be read). */
  cpuProf?: boolean | undefined;
  readyTimeoutMs?: number;
}

export interface BenchStack {
  dir: string;
  prefix: string;
  redisUrl: string;
  neo4j: { uri: string; user: string; password: string };
  redisPid: number;
  neo4jPid: number;
  workers: WorkerProc[];
  /** Every process we started, for RSS and CPU accounting. */
  processes(): Array<{ name: string; pid: number }>;
  startupMs: { redis: number; neo4j: number; workers: number };
  stop(): Promise<void>;
}

/** The parent's environment without settings of ours, so the children get exactly what we give them. */
function cleanEnv(): NodeJS.ProcessEnv {
  const out = {} as NodeJS.ProcessEnv;
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith('LENSGRAPH_') || k.startsWith('REDIS_') || k.startsWith('NEO4J_')) continue;
    out[k] = v;
  }
  return out;
}

function parseLogLine(line: string, w: Pick<WorkerProc, 'batches' | 'warnings'>): void {
  if (!line.startsWith('{')) return;
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return;
  }
  if (entry.msg === 'batch done' && typeof entry.stage === 'string' && typeof entry.ms === 'number') {
    w.batches.push({
      stage: entry.stage,
      ms: entry.ms,
      jobs: typeof entry.jobs === 'number' ? entry.jobs : 1,
      chunks: typeof entry.chunks === 'number' ? entry.chunks : 1,
      at: Date.now(),
    });
  } else if ((entry.level === 'warn' || entry.level === 'error') && w.warnings.length < 50) {
    w.warnings.push(line.slice(0, 1000));
  }
}

export async function startBenchStack(opts: BenchStackOptions): Promise<BenchStack> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-bench-'));
  const prefix = `bench${randomBytes(3).toString('hex')}`;
  const workers: WorkerProc[] = [];
  let redis: RedisHandle | undefined;
  let neo: Neo4jHandle | undefined;
  let stopping = false;
  const stop = async () => {
    stopping = true;
    // Workers first (they hold connections to both servers), then Neo4j (checkpoint), then Redis.
    await Promise.allSettled(workers.map((w) => w.proc.stop(30_000)));
    if (neo) await neo.stop().catch((e: unknown) => opts.log(`stopping Neo4j failed: ${String(e)}`));
    if (redis) await redis.stop().catch((e: unknown) => opts.log(`stopping Redis failed: ${String(e)}`));
    if (!opts.keep) fs.rmSync(dir, { recursive: true, force: true });
    else opts.log(`stack data kept in ${dir}`);
  };
  try {
    const t0 = Date.now();
    const redisPassword = randomBytes(18).toString('base64url');
    redis = await startRedis({ dataDir: path.join(dir, 'redis'), port: await freePort(), password: redisPassword });
    const t1 = Date.now();
    opts.log(`stack: Redis up on ${redis.host}:${redis.port} (pid ${redis.pid}) in ${t1 - t0} ms`);
    await buildNeo4jLauncher({ log: opts.log });
    neo = await startNeo4j({
      dataDir: path.join(dir, 'neo4j'),
      boltPort: await freePort(),
      password: randomBytes(18).toString('base64url'),
      ...(opts.neo4jHeapMb ? { heapMb: opts.neo4jHeapMb } : {}),
      ...(opts.neo4jPageCacheMb ? { pageCacheMb: opts.neo4jPageCacheMb } : {}),
    });
    const t2 = Date.now();
    opts.log(`stack: Neo4j up on ${neo.uri} (pid ${neo.pid}) in ${t2 - t1} ms`);

    const env: Record<string, string> = {
      REDIS_URL: redis.url,
      NEO4J_URI: neo.uri,
      NEO4J_USER: neo.user,
      NEO4J_PASSWORD: neo.password,
      LENSGRAPH_QUEUE_PREFIX: prefix,
      LENSGRAPH_DATA_DIR: dir,
      LENSGRAPH_LOG_LEVEL: 'info',
      ...(opts.sigmaDirs.length > 0 ? { LENSGRAPH_SIGMA_DIRS: opts.sigmaDirs.join(',') } : {}),
    };
    const [cmd, ...args] = tsxCommand('pipeline/main.ts');
    const readyAll = opts.workers.map(async (stages, i) => {
      let onReady: () => void = () => undefined;
      const ready = new Promise<void>((resolve) => (onReady = resolve));
      const sink: Pick<WorkerProc, 'batches' | 'warnings'> = { batches: [], warnings: [] };
      const name = `worker${i + 1}`;
      const logFile = opts.keep ? fs.createWriteStream(path.join(dir, `${name}.log`)) : undefined;
      const profile = opts.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${path.join(dir, 'profiles')}`] : [];
      const proc = spawnOwned({
        command: cmd!,
        args: [...profile, ...args],
        cwd: REPO_ROOT,
        env: { ...cleanEnv(), ...env, ...(stages ? { LENSGRAPH_WORKER_STAGES: stages } : {}) },
        onLine: (line) => {
          logFile?.write(`${line}\n`);
          if (line.startsWith('WORKERS READY')) onReady();
          else parseLogLine(line, sink);
        },
      });
      void proc.exited.then(() => logFile?.end());
      const w: WorkerProc = { name, stages: stages || 'all', pid: proc.pid, proc, ...sink };
      workers.push(w);
      await waitUntilReady(proc, ready, opts.readyTimeoutMs ?? 300_000, (reason) => `${w.name} ${reason}:\n${proc.tail()}`);
      void proc.exited.then((info) => {
        if (!stopping) opts.log(`${w.name} (pid ${w.pid}) ${describeExit(info)} during the benchmark:\n${proc.tail()}`);
      });
    });
    await Promise.all(readyAll);
    const t3 = Date.now();
    opts.log(`stack: ${workers.length} worker process(es) ready in ${t3 - t2} ms (${workers.map((w) => `${w.name}=${w.stages} pid ${w.pid}`).join(', ')})`);
    const r = redis;
    const n = neo;
    return {
      dir,
      prefix,
      redisUrl: r.url,
      neo4j: { uri: n.uri, user: n.user, password: n.password },
      redisPid: r.pid,
      neo4jPid: n.pid,
      workers,
      processes: () => [
        { name: 'bench', pid: process.pid },
        ...workers.map((w) => ({ name: w.name, pid: w.pid })),
        { name: 'redis', pid: r.pid },
        { name: 'neo4j', pid: n.pid },
      ],
      startupMs: { redis: t1 - t0, neo4j: t2 - t1, workers: t3 - t2 },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
