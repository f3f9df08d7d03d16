/**
 * The ACL rules as data: what each role may touch, that the rendered file holds no password, that the
 * command lists still cover BullMQ's Lua scripts, and the settings that carry the logins. The same rules
 * against a real Redis: pipeline/isolation.int.test.ts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { STAGES, StageRegistry } from '../domain/stages';
import { ConfigError, describeConfig, parseConfig, redisUrlFor, REDIS_ROLES } from './config';
import {
  aclUserSpec,
  BULL_PRODUCER_COMMANDS,
  BULL_QUEUE_COMMANDS,
  completeRedisPasswords,
  FORBIDDEN_COMMANDS,
  passwordDigest,
  redisLoginUrl,
  redisUsersJson,
  renderAclFile,
} from './redis-acl';

const BULL_SCRIPTS = path.resolve(import.meta.dirname, '../node_modules/bullmq/dist/esm/commands');

describe('ACL users per role', () => {
  it('gives a stage its own queue, payloads, its bookkeeping and heartbeats, and the next queue only to add', () => {
    for (const stage of STAGES) {
      const spec = aclUserSpec('lg', stage);
      expect(spec.name).toBe(`lg-${stage}`);
      expect(spec.keys).toContain(`~lg:q:stage-${stage}:*`);
      expect(spec.keys).toContain('~lg:p:*');
      expect(spec.keys).toContain('~lg:hb');
      expect(spec.keys).toContain(`~lg:up:*:done:${stage}`);
      // No other stage's queue in the root, no catch-all pattern.
      for (const other of STAGES.filter((s) => s !== stage)) {
        expect(spec.keys.join(' ')).not.toContain(`stage-${other}`);
      }
      expect(spec.keys.some((k) => k === '~*' || k === '~lg:*' || k === '~lg:q:*')).toBe(false);
      const next = StageRegistry[stage].next;
      expect(spec.selectors.map((s) => s.keys)).toEqual(next ? [[`~lg:q:stage-${next}:*`]] : []);
      expect(spec.channels).toEqual([]);
    }
    expect(aclUserSpec('lg', 'identify').keys).toEqual(expect.arrayContaining(['~lg:id:*', '~lg:sigma:corr:*']));
    expect(aclUserSpec('lg', 'parse').keys.join(' ')).not.toContain('lg:id:');
  });

  it('never allows keyspace listing or administration to any role', () => {
    for (const role of REDIS_ROLES) {
      const spec = aclUserSpec('lg', role);
      const all = [...spec.commands, ...spec.selectors.flatMap((s) => s.commands)];
      for (const c of FORBIDDEN_COMMANDS) expect(all, `${role}: ${c}`).not.toContain(c);
      expect(all.some((c) => c.startsWith('@'))).toBe(false);
    }
  });

  it('lets a producer add jobs and read states, never take or destroy them', () => {
    for (const c of ['del', 'unlink', 'lpop', 'rpop', 'rpoplpush', 'lmove', 'zpopmin', 'lrem', 'zrem', 'rename', 'ltrim']) {
      expect(BULL_PRODUCER_COMMANDS as readonly string[]).not.toContain(c);
    }
    const web = aclUserSpec('lg', 'web');
    const counts = web.selectors.find((s) => s.keys.includes('~lg:q:*'))!;
    expect(counts.commands.filter((c) => !['eval', 'evalsha', 'script|load', 'script|exists'].includes(c))).toEqual([
      'lindex',
      'llen',
      'zcard',
      'zcount',
    ]);
    expect(web.keys).toContain('%R~lg:hb');
    expect(web.channels).toEqual(['lg:live:*']);
    expect(aclUserSpec('lg', 'ingest').selectors.map((s) => s.keys)).toEqual([['~lg:q:stage-parse:*']]);
  });

  it("covers every data command of BullMQ's Lua scripts (fails when an upgrade needs a new one)", () => {
    const files = [
      ...fs.readdirSync(BULL_SCRIPTS).map((f) => path.join(BULL_SCRIPTS, f)),
      ...fs.readdirSync(path.join(BULL_SCRIPTS, 'includes')).map((f) => path.join(BULL_SCRIPTS, 'includes', f)),
    ].filter((f) => f.endsWith('.lua') && !/[/\\](relay|refreshRelay|obliterate|paginate)[^/\\]*$/.test(f));
    expect(files.length).toBeGreaterThan(40);
    const used = new Set<string>();
    for (const f of files) {
      for (const m of fs.readFileSync(f, 'utf8').matchAll(/rcall\(\s*["']([A-Za-z]+)["']/g)) used.add(m[1]!.toLowerCase());
    }
    const missing = [...used].filter((c) => !(BULL_QUEUE_COMMANDS as readonly string[]).includes(c));
    expect(missing).toEqual([]);
  });
});

describe('the ACL file', () => {
  const passwords = completeRedisPasswords();
  const text = renderAclFile({ prefix: 'lg', adminPassword: 'the-admin-password-123', passwords });

  it('disables the default user, has an admin and one user per role, and no password in clear', () => {
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe('user default reset off ~* &* +@all');
    expect(lines[1]).toBe(`user admin reset on ${passwordDigest('the-admin-password-123')} ~* &* +@all`);
    expect(lines.slice(2).map((l) => l.split(' ')[1])).toEqual(REDIS_ROLES.map((r) => `lg-${r}`));
    expect(text).not.toContain('the-admin-password-123');
    for (const p of Object.values(passwords)) expect(text).not.toContain(p);
    // Redis's ACL file format knows no comments.
    expect(lines.every((l) => l.startsWith('user '))).toBe(true);
  });

  it('keeps given passwords and generates missing or weak ones', () => {
    const kept = completeRedisPasswords({ parse: 'a-long-enough-password', web: 'short' });
    expect(kept.parse).toBe('a-long-enough-password');
    expect(kept.web).not.toBe('short');
    expect(kept.web.length).toBeGreaterThanOrEqual(32);
    expect(new Set(Object.values(completeRedisPasswords())).size).toBe(REDIS_ROLES.length);
  });

  it('builds login URLs that round-trip through URL parsing', () => {
    const url = redisLoginUrl({ host: '127.0.0.1', port: 6390 }, 'lg-parse', 'p@ss/w:rd');
    const u = new URL(url);
    expect(decodeURIComponent(u.username)).toBe('lg-parse');
    expect(decodeURIComponent(u.password)).toBe('p@ss/w:rd');
    expect(u.port).toBe('6390');
  });
});

describe('settings: LENSGRAPH_REDIS_USERS and LENSGRAPH_WORKER_LOCK_MS', () => {
  const passwords = completeRedisPasswords();
  const json = redisUsersJson({ host: 'r', port: 6379 }, 'lg', passwords, ['parse', 'identify']);

  it('parses per-role logins and hands each role its own', () => {
    const c = parseConfig({ LENSGRAPH_REDIS_USERS: json, REDIS_URL: 'redis://r:6379', REDIS_PASSWORD: 'admin' });
    expect(redisUrlFor(c, 'parse')).toContain('lg-parse:');
    expect(redisUrlFor(c, 'identify')).toContain('lg-identify:');
    // A role without a login is an error, never a fall back to REDIS_URL (which may be all-powerful).
    expect(() => redisUrlFor(c, 'merge')).toThrow(ConfigError);
  });

  it('falls back to REDIS_URL (with REDIS_PASSWORD) when no users are configured', () => {
    const c = parseConfig({ REDIS_URL: 'redis://r:6379', REDIS_PASSWORD: 'pw' });
    expect(redisUrlFor(c, 'merge')).toBe('redis://:pw@r:6379');
  });

  it('refuses malformed values without echoing secrets', () => {
    const bad = (v: string) => {
      try {
        parseConfig({ LENSGRAPH_REDIS_USERS: v });
        return '';
      } catch (e) {
        expect(e).toBeInstanceOf(ConfigError);
        return (e as Error).message;
      }
    };
    expect(bad('{not json')).toMatch(/LENSGRAPH_REDIS_USERS: must be a JSON object/);
    expect(bad('["redis://a:b@h:1"]')).toMatch(/must be a JSON object/);
    expect(bad('{"parsee":"redis://a:b@h:1"}')).toMatch(/unknown role "parsee"/);
    const noPassword = bad('{"parse":"redis://lg-parse@h:1"}');
    expect(noPassword).toMatch(/parse: must be a redis:\/\/ URL with a user name and a password/);
    const http = bad('{"parse":"http://lg-parse:topsecret@h:1"}');
    expect(http).toMatch(/parse: must be a redis/);
    expect(http).not.toContain('topsecret');
  });

  it('masks the logins in describeConfig', () => {
    const c = parseConfig({ LENSGRAPH_REDIS_USERS: json });
    const d = JSON.stringify(describeConfig(c));
    expect(d).toContain('"LENSGRAPH_REDIS_USERS":"parse,identify"');
    for (const p of [passwords.parse, passwords.identify]) expect(d).not.toContain(p);
  });

  it('validates the lock duration', () => {
    expect(parseConfig({}).LENSGRAPH_WORKER_LOCK_MS).toBe(60_000);
    expect(parseConfig({ LENSGRAPH_WORKER_LOCK_MS: '5000' }).LENSGRAPH_WORKER_LOCK_MS).toBe(5000);
    expect(() => parseConfig({ LENSGRAPH_WORKER_LOCK_MS: '10' })).toThrow(/LENSGRAPH_WORKER_LOCK_MS/);
  });
});
