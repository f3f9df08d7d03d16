/**
 * A local Neo4j 5.26 Community for development and tests. Neo4j is not packaged in Debian and there is
 * no Docker here, so tools/neo4j-local runs it embedded from Maven Central jars, with a Bolt connector
 * on 127.0.0.1. This module builds that launcher when needed and runs it as our own child process.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { assertPortFree, LOOPBACK } from './ports';
import {
  fileTail,
  findExecutable,
  isAlive,
  reclaimLeftover,
  sleep,
  spawnOwned,
  waitUntilReady,
} from './process';

export interface Neo4jHandle {
  uri: string;
  user: string;
  password: string;
  pid: number;
  stop(): Promise<void>;
}

export interface BuildNeo4jLauncherOptions {
  /** No progress lines (failures still throw with Maven's output). */
  quiet?: boolean;
  log?: (line: string) => void;
}

export interface StartNeo4jOptions {
  dataDir: string;
  boltPort: number;
  password: string;
  /** JVM heap, default 1024. */
  heapMb?: number;
  /** Neo4j page cache (off-heap), default 512. */
  pageCacheMb?: number;
  /** Every line the launcher prints (Neo4j's own logs are in DATA_DIR/logs). */
  log?: (line: string) => void;
}

export const LAUNCHER_DIR = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../tools/neo4j-local',
);
const MAIN_CLASS = 'dev.lensgraph.neo4jlocal.Main';
const CLASSES_DIR = path.join(LAUNCHER_DIR, 'target', 'classes');
const MAIN_CLASS_FILE = path.join(CLASSES_DIR, ...MAIN_CLASS.split('.')) + '.class';
const CLASSPATH_FILE = path.join(LAUNCHER_DIR, 'classpath.txt');
// Written last by a successful build: class files keep old mtimes when Maven has nothing to recompile.
const STAMP_FILE = path.join(LAUNCHER_DIR, 'target', 'launcher.stamp');

const READY_LINE = /^NEO4J READY (bolt:\/\/\S+)$/;
const READY_TIMEOUT_MS = 180_000;
// Neo4j checkpoints on shutdown; give it time before SIGKILL (which is still safe: it recovers on start).
const STOP_GRACE_MS = 60_000;

/**
 * JVM flags Neo4j 5 needs on Java 17, taken from what its own server launcher passes. Without the
 * --add-opens the page cache falls back to slower buffers ("Reflection access to java.nio.DirectByteBuffer
 * is not available") and log files lose their native fadvise hints ("Incorrect file descriptor").
 */
export function neo4jJvmFlags(heapMb: number): string[] {
  return [
    // Equal sizes avoid Neo4j's "initial heap memory has not been configured" warning and resizing.
    `-Xms${heapMb}m`,
    `-Xmx${heapMb}m`,
    '-XX:+UseG1GC',
    '-XX:+ExitOnOutOfMemoryError',
    '-XX:-OmitStackTraceInFastThrow',
    '-XX:+UnlockExperimentalVMOptions',
    '-XX:+TrustFinalNonStaticFields',
    '-XX:+DisableExplicitGC',
    '-Djdk.nio.maxCachedBufferSize=1024',
    '-Dio.netty.tryReflectionSetAccessible=true',
    '-Dlog4j2.disable.jmx=true',
    '-Dfile.encoding=UTF-8',
    '--add-opens=java.base/java.nio=ALL-UNNAMED',
    '--add-opens=java.base/java.io=ALL-UNNAMED',
    '--add-opens=java.base/sun.nio.ch=ALL-UNNAMED',
  ];
}

let building: Promise<void> | undefined;

/** Builds tools/neo4j-local with Maven unless the last build is newer than its sources. */
export async function buildNeo4jLauncher(opts: BuildNeo4jLauncherOptions = {}): Promise<void> {
  if (launcherIsFresh()) return;
  // One build per process even if several callers race; the next call re-checks freshness.
  building ??= withBuildLock(async () => {
    if (!launcherIsFresh()) await runMavenBuild(opts);
  }).finally(() => (building = undefined));
  return building;
}

/**
 * Several processes (a dev server, the test setup, another checkout's tests) may find the launcher
 * stale at once; two Maven builds writing one target/ directory can leave broken class files.
 */
async function withBuildLock(fn: () => Promise<void>): Promise<void> {
  const lock = path.join(LAUNCHER_DIR, 'target', 'build.lock');
  fs.mkdirSync(path.dirname(lock), { recursive: true });
  for (let waited = 0; ; waited += 500) {
    try {
      fs.writeFileSync(lock, String(process.pid), { flag: 'wx' });
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (lockIsStale(lock)) {
      fs.rmSync(lock, { force: true });
      continue;
    }
    if (waited > 0 && waited % 30_000 === 0)
      console.warn(`Waiting for another Maven build of tools/neo4j-local (${lock})`);
    await sleep(500);
  }
  try {
    await fn();
  } finally {
    fs.rmSync(lock, { force: true });
  }
}

function lockIsStale(lock: string): boolean {
  try {
    const owner = Number(fs.readFileSync(lock, 'utf8').trim());
    // Empty for a moment between its creation and the write of the PID.
    if (!Number.isInteger(owner) || owner <= 0) return Date.now() - fs.statSync(lock).mtimeMs > 10_000;
    return !isAlive(owner);
  } catch {
    return false; // vanished meanwhile: the next attempt to create it decides
  }
}

function launcherIsFresh(): boolean {
  const built = mtimeMs(STAMP_FILE);
  if (built === undefined || !fs.existsSync(MAIN_CLASS_FILE) || !fs.existsSync(CLASSPATH_FILE)) return false;
  const sources = [path.join(LAUNCHER_DIR, 'pom.xml'), ...listFiles(path.join(LAUNCHER_DIR, 'src'))];
  if (sources.some((file) => (mtimeMs(file) ?? Infinity) >= built)) return false;
  // A cleaned ~/.m2 leaves a classpath pointing at nothing.
  return readClasspath().every((jar) => fs.existsSync(jar));
}

async function runMavenBuild(opts: BuildNeo4jLauncherOptions): Promise<void> {
  const log = opts.quiet ? () => undefined : (opts.log ?? ((line: string) => console.log(line)));
  const mvn = findExecutable('mvn');
  if (!mvn) {
    throw new Error(
      'Maven (mvn) is not installed, and it is needed to fetch Neo4j from Maven Central; install it with: ' +
        'apt-get install maven openjdk-17-jdk-headless (or run scripts/ensure-system.sh as root)',
    );
  }
  const started = Date.now();
  log('Building tools/neo4j-local with Maven (the first build downloads Neo4j, about 160 MB) ...');
  // Written under another name and renamed, so a half-written classpath is never taken as a build.
  const partialClasspath = path.join(LAUNCHER_DIR, 'target', 'classpath.txt.partial');
  const proc = spawnOwned({
    command: mvn,
    args: ['-q', '-B', 'package', 'dependency:build-classpath', `-Dmdep.outputFile=${partialClasspath}`],
    cwd: LAUNCHER_DIR,
  });
  const exit = await proc.exited;
  if (exit.code !== 0) {
    throw new Error(
      `Maven build of tools/neo4j-local failed (${exit.error?.message ?? `exit ${String(exit.code ?? exit.signal)}`}).\n` +
        proc.tail(),
    );
  }
  fs.renameSync(partialClasspath, CLASSPATH_FILE);
  fs.writeFileSync(STAMP_FILE, `${new Date().toISOString()}\n`);
  log(`Built tools/neo4j-local in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

export async function startNeo4j(opts: StartNeo4jOptions): Promise<Neo4jHandle> {
  const java = javaExecutable();
  if (!opts.password) throw new Error('startNeo4j: a non-empty password is required');
  const heapMb = opts.heapMb ?? 1024;
  const pageCacheMb = opts.pageCacheMb ?? 512;
  const log = opts.log ?? (() => undefined);
  await buildNeo4jLauncher({ quiet: true });

  const dataDir = path.resolve(opts.dataDir);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const pidFile = path.join(dataDir, 'neo4j-local.pid.json');
  await reclaimLeftover(pidFile, 'Neo4j', log, STOP_GRACE_MS);
  await assertPortFree(opts.boltPort, 'Neo4j Bolt');

  let onReady: (uri: string) => void = () => undefined;
  const ready = new Promise<string>((resolve) => (onReady = resolve));
  const proc = spawnOwned({
    command: java,
    args: [
      ...neo4jJvmFlags(heapMb),
      MAIN_CLASS,
      '--home',
      dataDir,
      '--bolt-port',
      String(opts.boltPort),
      '--pagecache',
      `${pageCacheMb}m`,
      '--exit-on-stdin-close',
    ],
    cwd: dataDir,
    env: {
      ...process.env,
      // Through the environment, not argv: `ps` shows argv to every user, and 200 jar paths are noise.
      CLASSPATH: [CLASSES_DIR, ...readClasspath()].join(path.delimiter),
      NEO4J_LOCAL_PASSWORD: opts.password,
    },
    pidFile,
    onLine: (line) => {
      const match = READY_LINE.exec(line);
      if (match?.[1]) onReady(match[1]);
      log(line);
    },
  });

  const debugLog = path.join(dataDir, 'logs', 'debug.log');
  const explain = (reason: string): string =>
    `Neo4j (bolt://${LOOPBACK}:${opts.boltPort}, data ${dataDir}) ${reason}.\n` +
    `--- launcher output ---\n${proc.tail()}\n--- ${debugLog} (tail) ---\n${fileTail(debugLog, 20)}`;
  try {
    await waitUntilReady(proc, ready, READY_TIMEOUT_MS, explain);
  } catch (err) {
    await proc.stop(10_000);
    throw err;
  }

  return {
    uri: `bolt://${LOOPBACK}:${opts.boltPort}`,
    user: 'neo4j',
    password: opts.password,
    pid: proc.pid,
    stop: () => proc.stop(STOP_GRACE_MS),
  };
}

function javaExecutable(): string {
  const fromHome = process.env.JAVA_HOME ? path.join(process.env.JAVA_HOME, 'bin', 'java') : undefined;
  const java = fromHome && fs.existsSync(fromHome) ? fromHome : findExecutable('java');
  if (!java) {
    throw new Error(
      'Java 17+ is not installed, and Neo4j runs on it; install it with: apt-get install openjdk-17-jdk-headless ' +
        '(or run scripts/ensure-system.sh as root)',
    );
  }
  return java;
}

function readClasspath(): string[] {
  return fs
    .readFileSync(CLASSPATH_FILE, 'utf8')
    .trim()
    .split(path.delimiter)
    .filter((entry) => entry.length > 0);
}

function mtimeMs(file: string): number | undefined {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

function listFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    return entry.isDirectory() ? listFiles(full) : entry.isFile() ? [full] : [];
  });
}
