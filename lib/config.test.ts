import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STAGES } from '../domain/stages';
import { ConfigError, NEO4J_STAGES, parseConfig, withRedisPassword, workerSettings } from './config';

describe('parseConfig', () => {
  it('applies defaults', () => {
    const c = parseConfig({});
    expect(c.PORT).toBe(3000);
    expect(c.HOST).toBe('127.0.0.1');
    expect(c.LENSGRAPH_QUEUE_PREFIX).toBe('lg');
    expect(c.sigmaDirs).toEqual([]);
  });

  it('names every bad variable', () => {
    try {
      parseConfig({ PORT: 'eighty', NEO4J_URI: 'http://x', LENSGRAPH_ADMIN_PASSWORD: 'short' });
      expect.fail('should throw');
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      const msg = (e as ConfigError).message;
      expect(msg).toContain('PORT');
      expect(msg).toContain('NEO4J_URI');
      expect(msg).toContain('LENSGRAPH_ADMIN_PASSWORD');
    }
  });

  it('takes an address or host name for HOST, nothing else', () => {
    expect(parseConfig({ HOST: '0.0.0.0' }).HOST).toBe('0.0.0.0');
    expect(parseConfig({ HOST: '::1' }).HOST).toBe('::1');
    expect(parseConfig({ HOST: 'lensgraph.example.org' }).HOST).toBe('lensgraph.example.org');
    expect(() => parseConfig({ HOST: '127.0.0.1 --inspect' })).toThrow(/HOST: must be an IP address or a host name/);
  });

  it('limits uploads in progress per caller: 4 by default, a positive integer when set', () => {
    expect(parseConfig({}).LENSGRAPH_MAX_CONCURRENT_UPLOADS).toBe(4);
    expect(parseConfig({ LENSGRAPH_MAX_CONCURRENT_UPLOADS: '1' }).LENSGRAPH_MAX_CONCURRENT_UPLOADS).toBe(1);
    for (const bad of ['0', '-2', '1.5', 'four', '100000']) {
      expect(() => parseConfig({ LENSGRAPH_MAX_CONCURRENT_UPLOADS: bad }), bad).toThrow(
        /LENSGRAPH_MAX_CONCURRENT_UPLOADS/,
      );
    }
  });

  it('spools uploads in the OS temp dir unless LENSGRAPH_SPOOL_DIR names an existing directory', () => {
    expect(parseConfig({}).LENSGRAPH_SPOOL_DIR).toBeUndefined();
    expect(parseConfig({ LENSGRAPH_SPOOL_DIR: os.tmpdir() }).LENSGRAPH_SPOOL_DIR).toBe(os.tmpdir());
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'lg-config-')), 'a-file');
    fs.writeFileSync(file, '');
    for (const bad of [file, path.join(os.tmpdir(), `no-such-dir-${process.pid}`)]) {
      expect(() => parseConfig({ LENSGRAPH_SPOOL_DIR: bad }), bad).toThrow(
        /LENSGRAPH_SPOOL_DIR: must name an existing directory/,
      );
    }
    fs.rmSync(path.dirname(file), { recursive: true });
  });

  it('refuses unknown LENSGRAPH_ keys (typos)', () => {
    expect(() => parseConfig({ LENSGRAPH_SIGMA_DIR: 'x' })).toThrow(/LENSGRAPH_SIGMA_DIR: unknown setting/);
  });

  it('requires a Neo4j password with an external Neo4j', () => {
    expect(() => parseConfig({ NEO4J_URI: 'bolt://db:7687' })).toThrow(/NEO4J_PASSWORD/);
  });

  it('splits sigma dirs and resolves them', () => {
    const c = parseConfig({ LENSGRAPH_SIGMA_DIRS: '/a, /b;/c' });
    expect(c.sigmaDirs).toEqual(['/a', '/b', '/c']);
  });

  it('withRedisPassword keeps a password already in the URL', () => {
    expect(withRedisPassword('redis://:a@h:1', 'b')).toBe('redis://:a@h:1');
  });
});

describe('workerSettings', () => {
  const problems = (env: Record<string, string>): string[] => {
    try {
      workerSettings(parseConfig(env));
    } catch (e) {
      if (e instanceof ConfigError) return e.problems;
      throw e;
    }
    return [];
  };
  const redis = { REDIS_URL: 'redis://r:6379', REDIS_PASSWORD: 'p@ss' };
  const neo4j = { NEO4J_URI: 'bolt://n:7687', NEO4J_PASSWORD: 'x' };
  /** What docker-compose gives the parse and identify services: their own Redis login, nothing of Neo4j. */
  const login = (stage: string) => ({
    REDIS_URL: 'redis://redis:6379',
    LENSGRAPH_REDIS_USERS: JSON.stringify({ [stage]: `redis://lg-${stage}:secret@redis:6379` }),
  });

  it('needs no Neo4j settings for parse and identify, and gives none even when the environment has them', () => {
    expect(NEO4J_STAGES).toEqual(['merge', 'analyze', 'engage']);
    for (const stage of ['parse', 'identify']) {
      const s = workerSettings(parseConfig({ ...login(stage), LENSGRAPH_WORKER_STAGES: stage }));
      expect(s).toEqual({ stages: [stage], redisUrls: { [stage]: `redis://lg-${stage}:secret@redis:6379` }, neo4j: null });
    }
    const both = workerSettings(parseConfig({ ...redis, LENSGRAPH_WORKER_STAGES: 'parse, identify,parse' }));
    expect(both.stages).toEqual(['parse', 'identify']);
    expect(both.neo4j).toBeNull();
    expect(both.redisUrls).toEqual({ parse: 'redis://:p%40ss@r:6379', identify: 'redis://:p%40ss@r:6379' });
    // An env file that does carry Neo4j settings changes nothing: no driver is opened for these stages.
    expect(workerSettings(parseConfig({ ...redis, ...neo4j, LENSGRAPH_WORKER_STAGES: 'parse' })).neo4j).toBeNull();
  });

  it('requires Neo4j, naming the stage, as soon as one stage uses it', () => {
    for (const stage of NEO4J_STAGES) {
      expect(problems({ ...login(stage), LENSGRAPH_WORKER_STAGES: stage })).toEqual([
        `NEO4J_URI: required (used by stage ${stage}; npm start sets it for the local Neo4j)`,
        `NEO4J_PASSWORD: required (used by stage ${stage}; npm start sets it for the local Neo4j)`,
      ]);
    }
    expect(problems({ ...redis, LENSGRAPH_WORKER_STAGES: 'parse,merge' })[0]).toMatch(/^NEO4J_URI: required \(used by stage merge;/);
    // NEO4J_URI without a password is refused by parseConfig already, for every process.
    expect(() => parseConfig({ ...redis, NEO4J_URI: 'bolt://n:7687', LENSGRAPH_WORKER_STAGES: 'parse' })).toThrow(/NEO4J_PASSWORD/);
    const s = workerSettings(parseConfig({ ...redis, ...neo4j, NEO4J_USER: 'graph', LENSGRAPH_WORKER_STAGES: 'identify,engage' }));
    expect(s.neo4j).toEqual({ uri: 'bolt://n:7687', user: 'graph', password: 'x', database: 'neo4j' });
  });

  it('runs every stage by default, which needs both services', () => {
    expect(problems({})).toEqual([
      'REDIS_URL: required (npm start sets it for the local Redis)',
      'NEO4J_URI: required (used by stage merge, analyze, engage; npm start sets it for the local Neo4j)',
      'NEO4J_PASSWORD: required (used by stage merge, analyze, engage; npm start sets it for the local Neo4j)',
    ]);
    const s = workerSettings(parseConfig({ ...redis, ...neo4j }));
    expect(s.stages).toEqual([...STAGES]);
    expect(s.neo4j).toMatchObject({ uri: 'bolt://n:7687', user: 'neo4j' });
  });

  it('names unknown stages and missing Redis logins, all at once', () => {
    expect(problems({ ...redis, LENSGRAPH_WORKER_STAGES: 'parse,parsee' })).toEqual([
      'LENSGRAPH_WORKER_STAGES: unknown stage(s) parsee; known: parse, identify, merge, analyze, engage',
    ]);
    expect(problems({ ...redis, LENSGRAPH_WORKER_STAGES: ' , ' })[0]).toMatch(/names no stage/);
    // With per-stage logins, a stage without one is an error, never a fall back to REDIS_URL.
    expect(problems({ ...login('parse'), LENSGRAPH_WORKER_STAGES: 'parse,identify' })).toEqual([
      'LENSGRAPH_REDIS_USERS: no login for "identify"',
    ]);
  });
});
