/**
 * docker-compose.yml is checked for real with `docker compose config -q` (scripts/check-compose.sh);
 * this test pins the properties the product relies on, so a careless edit fails here too.
 */
import fs from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';
import { describe, expect, it } from 'vitest';

const file = path.resolve(import.meta.dirname, '../docker-compose.yml');
const text = fs.readFileSync(file, 'utf8');
type Service = { image?: string; command?: string[]; ports?: string[]; environment?: Record<string, string>; build?: unknown };
const doc = yaml.load(text) as { services: Record<string, Service> };

describe('docker-compose.yml', () => {
  it('has the four services', () => {
    expect(Object.keys(doc.services).sort()).toEqual(['neo4j', 'redis', 'web', 'workers']);
    expect(doc.services.neo4j!.image).toBe('neo4j:5.26-community');
    expect(doc.services.redis!.image).toBe('redis:7');
  });

  it('runs Redis with a password, AOF and the eviction policy BullMQ requires', () => {
    const cmd = doc.services.redis!.command!.join(' ');
    expect(cmd).toContain('--requirepass');
    expect(cmd).toContain('--appendonly yes');
    expect(cmd).toContain('--maxmemory-policy noeviction');
  });

  it('holds no secret: passwords come from the env file', () => {
    expect(text).not.toMatch(/PASSWORD:\s*\S/);
    expect(text).not.toMatch(/NEO4J_AUTH:\s*\S/);
    expect(text).toContain('.env');
  });

  it('publishes the web app on loopback only, and nothing else', () => {
    expect(doc.services.web!.ports).toEqual(['127.0.0.1:3000:3000']);
    for (const name of ['neo4j', 'redis', 'workers']) expect(doc.services[name]!.ports).toBeUndefined();
  });

  it('builds web and workers from the repo, workers scalable (no container name, no ports)', () => {
    expect(doc.services.web!.build).toBe('.');
    expect(doc.services.workers!.build).toBe('.');
    expect(text).not.toContain('container_name');
  });
});
