/**
 * docker-compose.yml is checked for real with `docker compose config -q` (scripts/check-compose.sh);
 * this test pins the properties the product relies on, so a careless edit fails here too.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { STAGES } from '../domain/stages';
import { NEO4J_STAGES } from '../lib/config';
import { completeRedisPasswords } from '../lib/redis-acl';
import { composeRedisFiles } from './redis-acl';

const file = path.resolve(import.meta.dirname, '../docker-compose.yml');
const text = fs.readFileSync(file, 'utf8');
type Service = {
  image?: string;
  command?: string[];
  ports?: string[];
  environment?: Record<string, string>;
  build?: unknown;
  volumes?: Array<
    string | { type?: string; source?: string; target?: string; read_only?: boolean; bind?: unknown }
  >;
  env_file?: Array<string | { path: string; required?: boolean }>;
  depends_on?: Record<string, unknown>;
};
const doc = yaml.load(text) as { services: Record<string, Service> };
const envFiles = (name: string) =>
  (doc.services[name]!.env_file ?? []).map((f) => (typeof f === 'string' ? f : f.path));
/** The stages that never talk to Neo4j. */
const GRAPHLESS = STAGES.filter((s) => !NEO4J_STAGES.includes(s));

/** `docker compose config` works without a Docker engine; skip what needs it where it is not installed. */
const hasCompose = (() => {
  try {
    execFileSync('docker', ['compose', 'version'], { stdio: 'ignore', timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
})();

describe('docker-compose.yml', () => {
  it('has Neo4j, Redis, the web app and one service per pipeline stage', () => {
    expect(Object.keys(doc.services).sort()).toEqual([
      'analyze',
      'engage',
      'identify',
      'merge',
      'neo4j',
      'parse',
      'redis',
      'setup',
      'web',
    ]);
    for (const stage of STAGES) {
      expect(doc.services[stage]!.environment?.LENSGRAPH_WORKER_STAGES).toBe(stage);
      expect(doc.services[stage]!.command).toEqual(['node', '--import', 'tsx', 'pipeline/main.ts']);
    }
    // Sigma rules are mounted where they are evaluated, nowhere else.
    expect(STAGES.filter((s) => doc.services[s]!.environment?.LENSGRAPH_SIGMA_DIRS)).toEqual(['identify']);
    expect(doc.services.neo4j!.image).toBe('neo4j:5.26-community');
    expect(doc.services.redis!.image).toBe('redis:7');
  });

  it('runs Redis with the generated ACL users (no requirepass), AOF and the eviction policy BullMQ requires', () => {
    const cmd = doc.services.redis!.command!.join(' ');
    expect(cmd).toContain('--aclfile /etc/lensgraph/users.acl');
    expect(cmd).not.toContain('--requirepass');
    expect(cmd).toContain('--appendonly yes');
    expect(cmd).toContain('--maxmemory-policy noeviction');
    // Not through `sh -c`: the image's entrypoint then drops root and runs redis-server as `redis`.
    expect(doc.services.redis!.command![0]).toBe('redis-server');
    const acl = doc.services.redis!.volumes!.find(
      (v) => typeof v === 'object' && v.target === '/etc/lensgraph/users.acl',
    );
    expect(acl).toMatchObject({
      type: 'bind',
      source: './data/compose/users.acl',
      read_only: true,
      bind: { create_host_path: false },
    });
  });

  it('gives web and every stage their own Redis login from the generated env files, never the admin one', () => {
    const files = envFiles;
    // The generated file comes after .env, so its (empty) REDIS_PASSWORD wins over the admin password.
    for (const name of ['web', ...STAGES]) {
      expect(files(name)).toContain(`./data/compose/${name}.env`);
      if (files(name).includes('.env'))
        expect(files(name).indexOf(`./data/compose/${name}.env`)).toBeGreaterThan(files(name).indexOf('.env'));
      for (const other of ['web', ...STAGES].filter((o) => o !== name))
        expect(files(name)).not.toContain(`./data/compose/${other}.env`);
    }
    // REDIS_URL in `environment` would override the web login from its env file.
    expect(doc.services.web!.environment?.REDIS_URL).toBeUndefined();
  });

  it('gives parse and identify nothing of Neo4j: no NEO4J_* setting, not the env file with its password, no wait for it', () => {
    expect(GRAPHLESS).toEqual(['parse', 'identify']);
    for (const name of GRAPHLESS) {
      const env = doc.services[name]!.environment ?? {};
      expect(Object.keys(env).filter((k) => /^NEO4J_|PASSWORD|AUTH/.test(k))).toEqual([]);
      expect(Object.values(env).filter((v) => /NEO4J|PASSWORD|AUTH|neo4j/i.test(String(v)))).toEqual([]);
      // .env holds NEO4J_PASSWORD and NEO4J_AUTH: only the stage's generated file (its Redis login) is read.
      expect(envFiles(name)).toEqual([`./data/compose/${name}.env`]);
      expect(Object.keys(doc.services[name]!.depends_on ?? {})).toEqual(['redis']);
      // The settings every worker must share with the others still arrive, by name, from .env.
      expect(env.LENSGRAPH_QUEUE_PREFIX).toBe('${LENSGRAPH_QUEUE_PREFIX:-}');
      expect(env.REDIS_URL).toBe('redis://redis:6379');
    }
    // The web app and the stages that use Neo4j keep its address. The web app reads .env (the first admin's
    // password); the stages take only the Neo4j password from it, by name, with the shared settings.
    for (const name of ['web', ...NEO4J_STAGES]) {
      expect(doc.services[name]!.environment).toMatchObject({ NEO4J_URI: 'bolt://neo4j:7687', NEO4J_USER: 'neo4j' });
      expect(doc.services[name]!.depends_on).toEqual({
        neo4j: { condition: 'service_healthy' },
        redis: { condition: 'service_healthy' },
        setup: { condition: 'service_completed_successfully' },
      });
    }
    expect(envFiles('web')).toContain('.env');
    for (const name of NEO4J_STAGES) {
      expect(envFiles(name)).toEqual([`./data/compose/${name}.env`]);
      const env = doc.services[name]!.environment ?? {};
      expect(env.NEO4J_PASSWORD).toBe('${NEO4J_PASSWORD:-}');
      expect(Object.keys(env).filter((k) => /PASSWORD|AUTH/.test(k))).toEqual(['NEO4J_PASSWORD']);
      expect(env.LENSGRAPH_QUEUE_PREFIX).toBe('${LENSGRAPH_QUEUE_PREFIX:-}');
    }
  });

  it('prepares Neo4j once, before web and the Neo4j stages, with only the two passwords it needs', () => {
    const setup = doc.services.setup!;
    expect(setup.command).toEqual(['node', '--import', 'tsx', 'scripts/setup.ts']);
    expect((setup as { restart?: string }).restart).toBe('no');
    expect(setup.depends_on).toEqual({ neo4j: { condition: 'service_healthy' } });
    expect(envFiles('setup')).toEqual([]);
    const env = setup.environment ?? {};
    expect(env).toMatchObject({ NEO4J_URI: 'bolt://neo4j:7687', NEO4J_PASSWORD: '${NEO4J_PASSWORD:-}' });
    expect(Object.keys(env).filter((k) => /PASSWORD|AUTH|REDIS/.test(k)).sort()).toEqual([
      'LENSGRAPH_ADMIN_PASSWORD',
      'NEO4J_PASSWORD',
    ]);
    expect(env.LENSGRAPH_ADMIN_PASSWORD).toBe('${LENSGRAPH_ADMIN_PASSWORD:-}');
    expect((setup as { ports?: unknown }).ports).toBeUndefined();
  });

  it('gives Neo4j and Redis only their own secret, by name, and not the env file', () => {
    expect(envFiles('neo4j')).toEqual([]);
    expect(doc.services.neo4j!.environment?.NEO4J_AUTH).toBe('${NEO4J_AUTH:-}');
    expect(Object.keys(doc.services.neo4j!.environment ?? {}).filter((k) => /PASSWORD|AUTH/.test(k))).toEqual(['NEO4J_AUTH']);
    expect(envFiles('redis')).toEqual([]);
    expect(doc.services.redis!.environment).toEqual({ REDIS_PASSWORD: '${REDIS_PASSWORD:-}' });
  });

  it.skipIf(!hasCompose)('resolves to no Neo4j variable and no Neo4j password for parse and identify (docker compose config)', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lensgraph-compose-'));
    try {
      fs.copyFileSync(file, path.join(dir, 'docker-compose.yml'));
      const neo4jPassword = 'neo4j-secret-0123456789';
      fs.writeFileSync(
        path.join(dir, '.env'),
        [
          'REDIS_PASSWORD=admin-password-0123456789',
          `NEO4J_PASSWORD=${neo4jPassword}`,
          `NEO4J_AUTH=neo4j/${neo4jPassword}`,
          'NEO4J_URI=bolt://elsewhere:7687',
          'LENSGRAPH_QUEUE_PREFIX=acme',
          'LENSGRAPH_ADMIN_PASSWORD=first-admin-0123456789',
          '',
        ].join('\n'),
      );
      const generated = composeRedisFiles({
        prefix: 'acme',
        adminPassword: 'admin-password-0123456789',
        passwords: completeRedisPasswords(),
        host: 'redis',
        port: 6379,
      });
      fs.mkdirSync(path.join(dir, 'data', 'compose'), { recursive: true });
      for (const [name, { content }] of Object.entries(generated))
        fs.writeFileSync(path.join(dir, 'data', 'compose', name), content);
      // Compose takes ${NAME} from its own environment before .env: run it without ours (the test harness
      // exports NEO4J_PASSWORD and the like for the integration tests).
      const ownEnv = {
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(NEO4J_|REDIS_|LENSGRAPH_)/.test(k))),
        NODE_ENV: process.env.NODE_ENV,
      } as NodeJS.ProcessEnv;
      const out = execFileSync('docker', ['compose', '--project-directory', dir, 'config', '--format', 'json'], {
        cwd: dir,
        env: ownEnv,
        encoding: 'utf8',
        timeout: 60_000,
      });
      const resolved = JSON.parse(out) as { services: Record<string, { environment?: Record<string, string | null> }> };
      const env = (name: string) => resolved.services[name]!.environment ?? {};
      for (const name of GRAPHLESS) {
        expect(Object.keys(env(name)).filter((k) => k.startsWith('NEO4J_'))).toEqual([]);
        expect(JSON.stringify(resolved.services[name])).not.toContain(neo4jPassword);
        expect(JSON.stringify(resolved.services[name])).not.toContain('admin-password-0123456789');
        expect(env(name)).toMatchObject({ LENSGRAPH_QUEUE_PREFIX: 'acme', LENSGRAPH_WORKER_STAGES: name });
        expect(Object.keys(JSON.parse(env(name).LENSGRAPH_REDIS_USERS!) as object)).toEqual([name]);
      }
      for (const name of NEO4J_STAGES) {
        // The compose network's Neo4j (not .env's NEO4J_URI), with the password from .env, and nothing else
        // secret of it: no Redis admin password, no Neo4j AUTH string, no first-admin password.
        expect(env(name)).toMatchObject({ NEO4J_URI: 'bolt://neo4j:7687', NEO4J_PASSWORD: neo4jPassword, LENSGRAPH_QUEUE_PREFIX: 'acme' });
        expect(env(name).NEO4J_AUTH).toBeUndefined();
        expect(JSON.stringify(resolved.services[name])).not.toContain('admin-password-0123456789');
        expect(JSON.stringify(resolved.services[name])).not.toContain('first-admin-0123456789');
      }
      expect(env('web').LENSGRAPH_ADMIN_PASSWORD).toBe('first-admin-0123456789');
      expect(env('setup')).toMatchObject({
        NEO4J_URI: 'bolt://neo4j:7687',
        NEO4J_PASSWORD: neo4jPassword,
        LENSGRAPH_ADMIN_PASSWORD: 'first-admin-0123456789',
      });
      expect(JSON.stringify(resolved.services.setup)).not.toContain('admin-password-0123456789');
      expect(Object.keys(env('setup')).filter((k) => k.startsWith('REDIS') || k === 'NEO4J_AUTH')).toEqual([]);
      expect(env('neo4j')).toMatchObject({ NEO4J_AUTH: `neo4j/${neo4jPassword}` });
      for (const secret of ['admin-password-0123456789', 'first-admin-0123456789'])
        expect(JSON.stringify(resolved.services.neo4j)).not.toContain(secret);
      expect(env('redis')).toEqual({ REDIS_PASSWORD: 'admin-password-0123456789' });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('generates env files compose reads as intended (scripts/redis-acl.ts)', () => {
    const files = composeRedisFiles({
      prefix: 'lg',
      adminPassword: 'admin-password-0123456789',
      passwords: completeRedisPasswords(),
      host: 'redis',
      port: 6379,
    });
    expect(Object.keys(files).sort()).toEqual([
      'analyze.env',
      'engage.env',
      'identify.env',
      'merge.env',
      'parse.env',
      'passwords.json',
      'users.acl',
      'web.env',
    ]);
    expect(files['users.acl']!.content).toContain('user default reset off ~* &* +@all');
    expect(files['users.acl']!.content).not.toContain('admin-password-0123456789');
    expect(files['web.env']!.content).toMatch(
      /^REDIS_URL=redis:\/\/lg-web:[^@\s]+@redis:6379\nREDIS_PASSWORD=\n$/,
    );
    for (const stage of STAGES) {
      // Each stage's file holds its own login and no other.
      const users = /^LENSGRAPH_REDIS_USERS='(.*)'$/m.exec(files[`${stage}.env`]!.content)![1]!;
      expect(Object.keys(JSON.parse(users) as object)).toEqual([stage]);
      expect(files[`${stage}.env`]!.mode).toBe(0o600);
      // Neo4j's settings never travel through these files (merge, analyze and engage read them from .env).
      expect(files[`${stage}.env`]!.content).not.toMatch(/NEO4J/);
    }
    for (const name of ['passwords.json', 'web.env']) expect(files[name]!.mode).toBe(0o600);
  });

  it('holds no secret: passwords come from the env file', () => {
    // Only references to the env file's values (`KEY: ${NAME:-}`), never a value.
    expect(text).not.toMatch(/^\s*[A-Z0-9_]*PASSWORD:\s*(?!\$\{[A-Z0-9_]+:-\}\s*$)\S/m);
    expect(text).not.toMatch(/^\s*NEO4J_AUTH:\s*(?!\$\{NEO4J_AUTH:-\}\s*$)\S/m);
    expect(text).toContain('.env');
  });

  it('publishes the web app on loopback only, and nothing else', () => {
    expect(doc.services.web!.ports).toEqual(['127.0.0.1:3000:3000']);
    for (const name of ['neo4j', 'redis', ...STAGES]) expect(doc.services[name]!.ports).toBeUndefined();
  });

  it('builds web and the stage services from the repo, each scalable (no container name, no ports)', () => {
    for (const name of ['web', ...STAGES]) expect(doc.services[name]!.build).toBe('.');
    expect(text).not.toContain('container_name');
  });
});
