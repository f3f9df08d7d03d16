/**
 * docker-compose.yml is checked for real with `docker compose config -q` (scripts/check-compose.sh);
 * this test pins the properties the product relies on, so a careless edit fails here too.
 */
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { STAGES } from '../domain/stages';
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
};
const doc = yaml.load(text) as { services: Record<string, Service> };

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
    const files = (name: string) =>
      (doc.services[name]!.env_file ?? []).map((f) => (typeof f === 'string' ? f : f.path));
    // The generated file comes after .env, so its (empty) REDIS_PASSWORD wins over the admin password.
    for (const name of ['web', ...STAGES]) {
      expect(files(name)).toContain(`./data/compose/${name}.env`);
      expect(files(name).indexOf(`./data/compose/${name}.env`)).toBeGreaterThan(files(name).indexOf('.env'));
      for (const other of ['web', ...STAGES].filter((o) => o !== name))
        expect(files(name)).not.toContain(`./data/compose/${other}.env`);
    }
    // REDIS_URL in `environment` would override the web login from its env file.
    expect(doc.services.web!.environment?.REDIS_URL).toBeUndefined();
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
    expect(files['users.acl']!.content).toContain('user default reset off');
    expect(files['users.acl']!.content).not.toContain('admin-password-0123456789');
    expect(files['web.env']!.content).toMatch(
      /^REDIS_URL=redis:\/\/lg-web:[^@\s]+@redis:6379\nREDIS_PASSWORD=\n$/,
    );
    for (const stage of STAGES) {
      // Each stage's file holds its own login and no other.
      const users = /^LENSGRAPH_REDIS_USERS='(.*)'$/m.exec(files[`${stage}.env`]!.content)![1]!;
      expect(Object.keys(JSON.parse(users) as object)).toEqual([stage]);
      expect(files[`${stage}.env`]!.mode).toBe(0o600);
    }
    for (const name of ['passwords.json', 'web.env']) expect(files[name]!.mode).toBe(0o600);
  });

  it('holds no secret: passwords come from the env file', () => {
    expect(text).not.toMatch(/PASSWORD:\s*\S/);
    expect(text).not.toMatch(/NEO4J_AUTH:\s*\S/);
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
