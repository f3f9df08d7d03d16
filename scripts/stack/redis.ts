/**
 * A local Redis for development and tests: Debian's redis-server as our own child process, on
 * 127.0.0.1 only, password required, configured for BullMQ (noeviction).
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { assertPortFree, LOOPBACK } from './ports';
import { fileTail, findExecutable, reclaimLeftover, sleep, spawnOwned, waitUntilReady } from './process';

export interface RedisHandle {
  /** Logs in as `user` (with an ACL file) or as the default user. */
  url: string;
  host: string;
  port: number;
  /** The user `url` logs in as; undefined: Redis's `default` user. */
  user?: string;
  password: string;
  pid: number;
  stop(): Promise<void>;
}

export interface StartRedisOptions {
  dataDir: string;
  port: number;
  /**
   * With `aclFile`, the password of the file's user `user` (or of its `default` user when `user` is not
   * given): the login `url` uses and the readiness probe checks.
   */
  password: string;
  aclFile?: string;
  /** The ACL file's user to log in as (e.g. `admin` when the file disables `default`). */
  user?: string;
  /** Default true. */
  appendOnly?: boolean;
}

const READY_TIMEOUT_MS = 30_000;
// SIGTERM makes Redis save (RDB/AOF fsync) before exiting; a large dataset can take a while.
const STOP_GRACE_MS = 30_000;

export async function startRedis(opts: StartRedisOptions): Promise<RedisHandle> {
  const redisServer = findExecutable('redis-server');
  if (!redisServer) {
    throw new Error(
      'redis-server is not installed (Debian package redis-server); install it with: ' +
        'apt-get install redis-server (or run scripts/ensure-system.sh as root)',
    );
  }
  if (!opts.password) throw new Error('startRedis: a non-empty password is required');
  const dataDir = path.resolve(opts.dataDir);
  const aclFile = opts.aclFile === undefined ? undefined : path.resolve(opts.aclFile);
  if (aclFile !== undefined && !fs.existsSync(aclFile)) {
    throw new Error(`startRedis: ACL file ${aclFile} does not exist`);
  }
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });

  const pidFile = path.join(dataDir, 'redis-server.pid.json');
  await reclaimLeftover(pidFile, 'Redis', (line) => console.warn(line), STOP_GRACE_MS);
  await assertPortFree(opts.port, 'Redis');

  // The password goes in a private config file, not argv, where any local user could read it in `ps`.
  const confFile = path.join(dataDir, 'redis.conf');
  const logFile = path.join(dataDir, 'redis.log');
  fs.writeFileSync(
    confFile,
    redisConfig({ ...opts, dataDir, aclFile, logFile, appendOnly: opts.appendOnly ?? true }),
    { mode: 0o600 },
  );
  fs.chmodSync(confFile, 0o600); // writeFileSync's mode applies only when it creates the file

  const proc = spawnOwned({ command: redisServer, args: [confFile], cwd: dataDir, pidFile });
  const explain = (reason: string): string =>
    `Redis on ${LOOPBACK}:${opts.port} ${reason}.\n` +
    `--- redis-server output ---\n${proc.tail()}\n--- ${logFile} (tail) ---\n${fileTail(logFile)}`;
  try {
    await waitUntilReady(
      proc,
      pollUntilPong(opts.port, opts.user, opts.password, proc.hasExited),
      READY_TIMEOUT_MS,
      explain,
    );
  } catch (err) {
    await proc.stop(5_000);
    throw err;
  }

  const user = opts.user === undefined ? '' : encodeURIComponent(opts.user);
  return {
    url: `redis://${user}:${encodeURIComponent(opts.password)}@${LOOPBACK}:${opts.port}`,
    host: LOOPBACK,
    port: opts.port,
    ...(opts.user === undefined ? {} : { user: opts.user }),
    password: opts.password,
    pid: proc.pid,
    stop: () => proc.stop(STOP_GRACE_MS),
  };
}

function redisConfig(o: {
  dataDir: string;
  port: number;
  password: string;
  aclFile: string | undefined;
  logFile: string;
  appendOnly: boolean;
}): string {
  return [
    '# Written by scripts/stack/redis.ts on every start; edits here are overwritten.',
    `bind ${LOOPBACK}`,
    'protected-mode yes',
    `port ${o.port}`,
    'daemonize no',
    `dir ${quote(o.dataDir)}`,
    `logfile ${quote(o.logFile)}`,
    // An ACL file and requirepass both define the default user; Redis refuses to load with both.
    o.aclFile === undefined ? `requirepass ${quote(o.password)}` : `aclfile ${quote(o.aclFile)}`,
    `appendonly ${o.appendOnly ? 'yes' : 'no'}`,
    // BullMQ loses jobs if Redis may evict keys.
    'maxmemory-policy noeviction',
    '',
  ].join('\n');
}

/** A double-quoted redis.conf argument; Redis unescapes \\, \" and \xHH inside it. */
function quote(value: string): string {
  let out = '"';
  for (const byte of Buffer.from(value, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (ch === '"' || ch === '\\') out += `\\${ch}`;
    else if (byte < 0x20 || byte >= 0x7f) out += `\\x${byte.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** RESP encoding of one command. */
function command(...args: string[]): string {
  return `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`;
}

type Probe = { kind: 'pong' } | { kind: 'retry' } | { kind: 'fatal'; message: string };

/** One AUTH + PING over a raw socket: no client library, no hidden reconnect logic. */
function probe(port: number, user: string | undefined, password: string): Promise<Probe> {
  return new Promise<Probe>((resolve) => {
    const socket = net.connect({ host: LOOPBACK, port });
    let received = '';
    const finish = (result: Probe): void => {
      socket.destroy();
      resolve(result);
    };
    socket.setTimeout(2_000, () => finish({ kind: 'retry' }));
    socket.on('error', () => finish({ kind: 'retry' })); // not listening yet
    socket.on('close', () => finish({ kind: 'retry' }));
    const auth = user === undefined ? command('AUTH', password) : command('AUTH', user, password);
    socket.on('connect', () => socket.write(auth + command('PING')));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
      const replies = received.split('\r\n');
      if (replies.length < 3) return; // two complete single-line replies expected
      const [auth = '', ping = ''] = replies;
      if (auth === '+OK' && ping === '+PONG') finish({ kind: 'pong' });
      else if (auth.startsWith('-LOADING') || ping.startsWith('-LOADING')) finish({ kind: 'retry' });
      else finish({ kind: 'fatal', message: `unexpected replies to AUTH/PING: ${auth} / ${ping}` });
    });
  });
}

async function pollUntilPong(
  port: number,
  user: string | undefined,
  password: string,
  stopped: () => boolean,
): Promise<void> {
  while (!stopped()) {
    const result = await probe(port, user, password);
    if (result.kind === 'pong') return;
    if (result.kind === 'fatal') throw new Error(result.message);
    await sleep(100);
  }
  throw new Error('exited before answering PING');
}
