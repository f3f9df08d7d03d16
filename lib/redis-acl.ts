/**
 * Least privilege in Redis: one ACL user per pipeline stage, one for the ingester and one for the web app,
 * each allowed only the keys and commands its work needs (docs/security.md has the table and the why).
 * Everything is derived from the stage registry (domain/stages.ts) and the key names (lib/redis.ts), so a
 * new stage or key gets its rules here or fails the isolation tests.
 *
 * The file this module renders is loaded by redis-server (`aclfile`); it holds SHA-256 digests of the
 * passwords, never the passwords themselves. The passwords live with the other generated secrets in the
 * data directory (scripts/run-stack.ts) or in the compose secrets folder (scripts/redis-acl.ts).
 *
 * Shape of a stage user (`<prefix>-<stage>`):
 *   root:      its own queue's keys (every data command BullMQ's Lua scripts use), the payload keys, its
 *              own parts of the upload bookkeeping, the heartbeat hash, and what the stage needs beyond
 *              that (identify: process sessions and Sigma correlation windows)
 *   selector:  the next stage's queue keys, producer commands only (add a job, read a job's state): no
 *              pop, no delete, no rename, so a stage can feed its successor but never take or drop its work
 *   never:     KEYS/SCAN (and every other keyspace listing), FLUSH*, CONFIG, DEBUG, MODULE, ACL, pub/sub,
 *              other stages' queues and state.
 */
import { createHash, randomBytes } from 'node:crypto';
import { STAGES, StageRegistry, queueName, type StageName } from '../domain/stages';
import { REDIS_ROLES, type RedisRole } from './config';
import { keys } from './redis';

/** What every connection does: log in, name itself, ioredis's ready check and BullMQ's version check (INFO). */
export const CONNECTION_COMMANDS = ['auth', 'hello', 'ping', 'echo', 'info', 'client|setname', 'quit'] as const;

/** Lua scripts (BullMQ's, identity sessions, Sigma windows) and how ioredis loads them in pipelines. */
export const SCRIPT_COMMANDS = ['evalsha', 'eval', 'script|load', 'script|exists'] as const;

export const TRANSACTION_COMMANDS = ['multi', 'exec', 'discard'] as const;

/**
 * Data commands of BullMQ's Lua scripts (node_modules/bullmq/dist/esm/commands, without the relay,
 * obliterate and paginate scripts this product never runs). redis-acl.test.ts re-reads the scripts and
 * fails when a BullMQ upgrade calls a command missing here.
 */
export const BULL_QUEUE_COMMANDS = [
  'del', 'exists', 'get', 'hdel', 'hexists', 'hget', 'hgetall', 'hincrby', 'hlen', 'hmget', 'hmset', 'hset',
  'incr', 'lindex', 'llen', 'lpop', 'lpos', 'lpush', 'lrange', 'lrem', 'lset', 'ltrim', 'persist', 'pexpire',
  'pttl', 'rename', 'rpop', 'rpoplpush', 'rpush', 'sadd', 'scard', 'set', 'sismember', 'smembers', 'srem',
  'type', 'xadd', 'xtrim', 'zadd', 'zcard', 'zcount', 'zpopmin', 'zrange', 'zrangebyscore', 'zrem',
  'zremrangebyrank', 'zremrangebyscore', 'zrevrange', 'zrevrangebyscore', 'zscore',
  // The worker's blocking wait for new jobs (not in a script).
  'bzpopmin',
] as const;

/**
 * Adding a job to a queue (addStandardJob without deduplication or parents) and asking a job's state
 * (getState/getStateV2), and the queue's meta hash that `new Queue()` writes: no pop, no delete, no LREM.
 */
export const BULL_PRODUCER_COMMANDS = [
  'exists', 'get', 'hget', 'hmget', 'hmset', 'hset', 'incr', 'llen', 'lpush', 'rpush', 'lrange', 'lpos', 'pttl',
  'scard', 'xadd', 'zadd', 'zrange', 'zrevrangebyscore', 'zscore',
] as const;

/** Job counts per state (BullMQ's getCounts script), for the web app's pipeline page. */
export const BULL_COUNT_COMMANDS = ['llen', 'lindex', 'zcard', 'zcount'] as const;

/** Commands no role but admin may run: checked by the unit and isolation tests. */
export const FORBIDDEN_COMMANDS = [
  'keys', 'scan', 'flushall', 'flushdb', 'config', 'debug', 'module', 'acl', 'shutdown', 'save', 'bgsave',
  'bgrewriteaof', 'replicaof', 'slaveof', 'migrate', 'monitor', 'client|kill', 'client|list', 'script|flush',
  'function', 'randomkey', 'swapdb', 'move', 'object', 'dump', 'restore', 'sort', 'psubscribe',
] as const;

const PAYLOAD_COMMANDS = ['set', 'get', 'del', 'exists'];
const HEARTBEAT_COMMANDS = ['hset', 'expire', 'hdel'];
/** Upload bookkeeping a stage writes (lib/uploads.ts): per-chunk hash fields and sets. */
const STAGE_UPLOAD_COMMANDS = ['hset', 'expire', 'sadd', 'sismember'];
/** Upload bookkeeping of the ingester: create, seal, index, read progress (waitFor). */
const INGEST_UPLOAD_COMMANDS = ['hset', 'expire', 'zadd', 'hgetall', 'hvals', 'hlen', 'scard'];
/** identify: sessions (pipeline/identity/redis-store.ts) and Sigma windows (pipeline/sigma/correlation-redis.ts). */
const IDENTIFY_COMMANDS = ['hmget', 'hget', 'hset', 'pexpire', 'zscore', 'zadd', 'zremrangebyscore', 'zcard', 'hgetall', 'del'];
/**
 * Upload slots of /api/ingest (server/uploads/upload-slots.ts): its Lua scripts prune, count, take, renew
 * and give back slots, reading Redis's clock. Granted on the slot keys only (a selector of the web user).
 */
const UPLOAD_SLOT_COMMANDS = ['zadd', 'zcard', 'zrem', 'zremrangebyscore', 'zscore', 'pexpire', 'time'];
/** The web app: sessions, login limits, token uploads (server/auth), upload list, live updates, health. */
const WEB_COMMANDS = [
  'get', 'set', 'del', 'mget', 'ttl', 'incr', 'expire', 'sadd', 'srem', 'smembers', 'sismember', 'zrevrange',
  'hgetall', 'publish', 'subscribe', 'unsubscribe',
];

export interface AclSelector {
  /** Key patterns with their ACL prefix: `~pattern` (read and write) or `%R~pattern` (read only). */
  keys: string[];
  commands: string[];
}

export interface AclUserSpec {
  role: RedisRole;
  name: string;
  keys: string[];
  /** Pub/sub channel patterns (without `&`). */
  channels: string[];
  commands: string[];
  selectors: AclSelector[];
}

/** Redis user name of a role: the namespace prefix keeps installations sharing one Redis apart. */
export function redisUserName(prefix: string, role: RedisRole): string {
  return `${prefix}-${role}`;
}

const uniq = (xs: readonly string[]): string[] => [...new Set(xs)].sort();
const queueKeys = (prefix: string, stage: StageName): string => `~${keys(prefix).queueBase(queueName(stage))}:*`;

/** The rules of one role, as data (rendered by `aclUserLine`, asserted by the tests). */
export function aclUserSpec(prefix: string, role: RedisRole): AclUserSpec {
  const k = keys(prefix);
  const name = redisUserName(prefix, role);
  const base = [...CONNECTION_COMMANDS, ...SCRIPT_COMMANDS, ...TRANSACTION_COMMANDS];
  const producer = (stage: StageName): AclSelector => ({
    keys: [queueKeys(prefix, stage)],
    commands: uniq([...SCRIPT_COMMANDS, ...BULL_PRODUCER_COMMANDS]),
  });
  const ingestKeys = [`~${k.payload('*')}`, `~${k.upload('*')}`, `~${k.uploadIndex}`];

  if ((STAGES as readonly string[]).includes(role)) {
    const stage = role as StageName;
    const next = StageRegistry[stage].next;
    const up = (part: string) => `~${k.uploadPart('*', part)}`;
    const keyPatterns = [queueKeys(prefix, stage), `~${k.payload('*')}`, `~${k.heartbeats}`, up(`done:${stage}`), up('failed')];
    const commands = [...base, ...BULL_QUEUE_COMMANDS, ...PAYLOAD_COMMANDS, ...HEARTBEAT_COMMANDS, ...STAGE_UPLOAD_COMMANDS];
    if (stage === 'parse') keyPatterns.push(up('stats'), up('rejected'));
    if (stage === 'identify') {
      keyPatterns.push(`~${k.identity}:*`, `~${k.sigmaCorrelation}:*`);
      commands.push(...IDENTIFY_COMMANDS);
    }
    if (stage === 'merge') keyPatterns.push(up('graph'));
    if (stage === 'engage') keyPatterns.push(up('findings'));
    return {
      role,
      name,
      keys: keyPatterns,
      channels: [],
      commands: uniq(commands),
      selectors: next ? [producer(next)] : [],
    };
  }
  if (role === 'ingest') {
    return {
      role,
      name,
      keys: ingestKeys,
      channels: [],
      commands: uniq([...base, ...PAYLOAD_COMMANDS, ...INGEST_UPLOAD_COMMANDS]),
      selectors: [producer('parse')],
    };
  }
  // web: read-mostly, plus what /api/ingest needs (it runs the ingester in the web process).
  return {
    role,
    name,
    keys: [...ingestKeys, `%R~${k.heartbeats}`, `~${k.authBase}:*`],
    channels: [`${k.liveBase}:*`],
    commands: uniq([...base, ...PAYLOAD_COMMANDS, ...INGEST_UPLOAD_COMMANDS, ...WEB_COMMANDS]),
    selectors: [
      producer('parse'),
      // Job counts of every stage's queue: the script may only count, whatever it is asked to do.
      { keys: [`~${k.bullPrefix}:*`], commands: uniq([...SCRIPT_COMMANDS, ...BULL_COUNT_COMMANDS]) },
      // Uploads in progress per caller (the concurrency limit of /api/ingest).
      { keys: [`~${k.uploadSlots('*')}`], commands: uniq([...SCRIPT_COMMANDS, ...UPLOAD_SLOT_COMMANDS]) },
    ],
  };
}

/** The ACL rules of a spec, after `reset on <password>` (the password part is the caller's). */
export function aclRules(spec: AclUserSpec): string[] {
  const selector = (s: AclSelector) => `(${[...s.keys, ...s.commands.map((c) => `+${c}`)].join(' ')})`;
  return [
    '-@all',
    ...spec.commands.map((c) => `+${c}`),
    ...spec.keys,
    ...(spec.channels.length ? spec.channels.map((c) => `&${c}`) : ['resetchannels']),
    ...spec.selectors.map(selector),
  ];
}

/** `#<sha256>`: Redis compares digests, so the ACL file never holds a usable password. */
export function passwordDigest(password: string): string {
  return `#${createHash('sha256').update(password, 'utf8').digest('hex')}`;
}

export function aclUserLine(spec: AclUserSpec, password: string): string {
  return ['user', spec.name, 'reset', 'on', passwordDigest(password), ...aclRules(spec)].join(' ');
}

export type RedisPasswords = Record<RedisRole, string>;

export function newRedisPassword(): string {
  return randomBytes(24).toString('base64url');
}

/** Passwords for every role: the given ones kept, missing ones generated. */
export function completeRedisPasswords(existing: Partial<Record<string, string>> = {}): RedisPasswords {
  const out = {} as RedisPasswords;
  for (const role of REDIS_ROLES) {
    const v = existing[role];
    out[role] = typeof v === 'string' && v.length >= 16 ? v : newRedisPassword();
  }
  return out;
}

/** Name of the administrative user (everything; for operators, `npm start` itself and tests). */
export const ADMIN_USER = 'admin';

/**
 * The whole ACL file: `default` disabled (a connection must log in as someone), `admin` with every right,
 * then one user per role of this namespace.
 *
 * `default` is disabled but keeps every right, and must: Redis 7.0 (Debian's) replays the append-only file
 * as the `default` user and checks its rights again at each EXEC, and every transaction and every Lua script
 * that writes more than one key (BullMQ moves each job with one) is stored there as MULTI ... EXEC. With no
 * rights, each of them was refused on the replay, so a restart of Redis silently lost every queue move, every
 * upload record and the identity state (redis/redis#14541, fixed upstream after 7.0). Disabled, the user
 * cannot be logged into (AUTH as it fails, and a connection that has not logged in is refused every
 * command), so the rights serve only that replay. `redis-acl.int.test.ts` restarts Redis with this file.
 */
export function renderAclFile(opts: { prefix: string; adminPassword: string; passwords: RedisPasswords }): string {
  if (!opts.adminPassword) throw new Error('renderAclFile: the admin password is empty');
  // Redis's ACL file format has no comments: the file says nothing but the users.
  return [
    'user default reset off ~* &* +@all',
    `user ${ADMIN_USER} reset on ${passwordDigest(opts.adminPassword)} ~* &* +@all`,
    ...REDIS_ROLES.map((role) => aclUserLine(aclUserSpec(opts.prefix, role), opts.passwords[role])),
    '',
  ].join('\n');
}

/** `redis://<user>:<password>@host:port` for one login (the password URL-encoded). */
export function redisLoginUrl(where: { host: string; port: number; tls?: boolean }, user: string, password: string): string {
  const u = new URL(`${where.tls ? 'rediss' : 'redis'}://${where.host}:${where.port}`);
  u.username = encodeURIComponent(user);
  u.password = encodeURIComponent(password);
  return u.toString().replace(/\/$/, '');
}

/** The LENSGRAPH_REDIS_USERS value for a set of roles. */
export function redisUsersJson(
  where: { host: string; port: number; tls?: boolean },
  prefix: string,
  passwords: RedisPasswords,
  roles: readonly RedisRole[] = REDIS_ROLES,
): string {
  const out: Record<string, string> = {};
  for (const role of roles) out[role] = redisLoginUrl(where, redisUserName(prefix, role), passwords[role]);
  return JSON.stringify(out);
}
