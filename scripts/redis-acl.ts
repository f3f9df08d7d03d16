/**
 * `npx tsx scripts/redis-acl.ts [--out DIR] [--host redis] [--port 6379]`
 *
 * Writes the Redis users of the docker compose stack (docker-compose.yml) into DIR (default
 * ./data/compose, git-ignored), from the same rules `npm start` uses (lib/redis-acl.ts):
 *   users.acl       mounted read-only into the redis service; SHA-256 digests only, no password
 *   passwords.json  each role's password (0600), kept so a second run changes nothing
 *   <stage>.env     LENSGRAPH_REDIS_USERS for that stage's service: its own login only (0600); nothing of
 *                   Neo4j: its password stays in .env, which the parse and identify services do not read
 *   web.env         REDIS_URL of the web app's own login (0600)
 * The admin user's password is REDIS_PASSWORD (from the environment or ./.env); the queue prefix is
 * LENSGRAPH_QUEUE_PREFIX (default lg). Run it again after changing either; restart the stack afterwards.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { STAGES_AS_ROLES } from '../lib/config';
import {
  completeRedisPasswords,
  redisLoginUrl,
  redisUserName,
  redisUsersJson,
  renderAclFile,
} from '../lib/redis-acl';

const ROOT = path.resolve(import.meta.dirname, '..');

/** KEY=VALUE lines of an env file (the subset compose reads: comments, blank lines, optional quotes). */
export function readEnvFile(file: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (!fs.existsSync(file)) return out;
  for (const line of fs.readFileSync(file, 'utf8').split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2]!.trim();
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    out[m[1]!] = v;
  }
  return out;
}

/** Files to write for compose: name -> { content, mode }. Pure, for the test. */
export function composeRedisFiles(opts: {
  prefix: string;
  adminPassword: string;
  passwords: ReturnType<typeof completeRedisPasswords>;
  host: string;
  port: number;
}): Record<string, { content: string; mode: number }> {
  const where = { host: opts.host, port: opts.port };
  const web = redisLoginUrl(where, redisUserName(opts.prefix, 'web'), opts.passwords.web);
  return {
    // Readable by the container's redis user (uid 999): digests of random passwords reveal nothing usable.
    'users.acl': {
      content: renderAclFile({
        prefix: opts.prefix,
        adminPassword: opts.adminPassword,
        passwords: opts.passwords,
      }),
      mode: 0o644,
    },
    'passwords.json': { content: `${JSON.stringify(opts.passwords, null, 2)}\n`, mode: 0o600 },
    // REDIS_PASSWORD emptied: the admin password from .env (merge, analyze and engage read it) must not
    // override these logins.
    ...Object.fromEntries(
      STAGES_AS_ROLES.map((stage) => [
        `${stage}.env`,
        {
          content: `LENSGRAPH_REDIS_USERS='${redisUsersJson(where, opts.prefix, opts.passwords, [stage])}'\nREDIS_PASSWORD=\n`,
          mode: 0o600,
        },
      ]),
    ),
    'web.env': { content: `REDIS_URL=${web}\nREDIS_PASSWORD=\n`, mode: 0o600 },
  };
}

function main(): number {
  const { values } = parseArgs({
    options: {
      out: { type: 'string', default: path.join(ROOT, 'data', 'compose') },
      host: { type: 'string', default: 'redis' },
      port: { type: 'string', default: '6379' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log('usage: npx tsx scripts/redis-acl.ts [--out DIR] [--host redis] [--port 6379]');
    return 0;
  }
  const dotenv = readEnvFile(path.join(ROOT, '.env'));
  const adminPassword = process.env.REDIS_PASSWORD || dotenv.REDIS_PASSWORD;
  if (!adminPassword) {
    console.error('REDIS_PASSWORD is not set (put it in .env, see .env.example)');
    return 2;
  }
  const prefix = process.env.LENSGRAPH_QUEUE_PREFIX || dotenv.LENSGRAPH_QUEUE_PREFIX || 'lg';
  if (!/^[a-zA-Z0-9_-]+$/.test(prefix)) {
    console.error('LENSGRAPH_QUEUE_PREFIX: letters, digits, _ and - only');
    return 2;
  }
  const out = path.resolve(values.out);
  fs.mkdirSync(out, { recursive: true, mode: 0o700 });
  const pwFile = path.join(out, 'passwords.json');
  const stored = fs.existsSync(pwFile)
    ? (JSON.parse(fs.readFileSync(pwFile, 'utf8')) as Record<string, string>)
    : {};
  const files = composeRedisFiles({
    prefix,
    adminPassword,
    passwords: completeRedisPasswords(stored),
    host: values.host,
    port: Number(values.port),
  });
  for (const [name, { content, mode }] of Object.entries(files)) {
    const file = path.join(out, name);
    fs.writeFileSync(file, content, { mode });
    fs.chmodSync(file, mode);
  }
  console.log(`Redis users for prefix "${prefix}" written to ${out} (${Object.keys(files).join(', ')})`);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(import.meta.filename))
  process.exit(main());
