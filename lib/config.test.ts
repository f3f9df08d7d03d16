import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, serviceSettings, withRedisPassword } from './config';

describe('parseConfig', () => {
  it('applies defaults', () => {
    const c = parseConfig({});
    expect(c.PORT).toBe(3000);
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

  it('serviceSettings demands both services', () => {
    expect(() => serviceSettings(parseConfig({}))).toThrow(/REDIS_URL[\s\S]*NEO4J_URI/);
    const s = serviceSettings(
      parseConfig({ REDIS_URL: 'redis://r:6379', REDIS_PASSWORD: 'p@ss', NEO4J_URI: 'bolt://n:7687', NEO4J_PASSWORD: 'x' }),
    );
    expect(s.redisUrl).toBe('redis://:p%40ss@r:6379');
  });

  it('withRedisPassword keeps a password already in the URL', () => {
    expect(withRedisPassword('redis://:a@h:1', 'b')).toBe('redis://:a@h:1');
  });
});
