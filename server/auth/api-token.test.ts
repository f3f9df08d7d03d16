import { describe, expect, it } from 'vitest';
import {
  expiryFrom,
  generateTokenSecret,
  hashTokenSecret,
  isWellFormedTokenSecret,
  shouldTouch,
  tokenRefusal,
  TokenNameSchema,
  tokenViewer,
} from './api-token';
import { allows } from './roles';

describe('API token secrets', () => {
  it('are lg_ + 256 random bits in base64url, and each is new', () => {
    const a = generateTokenSecret();
    const b = generateTokenSecret();
    expect(a).toMatch(/^lg_[A-Za-z0-9_-]{43}$/);
    expect(a).not.toBe(b);
    expect(isWellFormedTokenSecret(a)).toBe(true);
  });

  it('refuses anything that is not shaped like a secret before any lookup', () => {
    const good = generateTokenSecret();
    for (const bad of [
      '',
      'nope',
      good.slice(0, -1),
      `${good}x`,
      good.replace('lg_', 'xx_'),
      `${good.slice(0, -1)}!`,
    ]) {
      expect(isWellFormedTokenSecret(bad), bad).toBe(false);
    }
  });

  it('are stored as a hex SHA-256 that differs for every secret and never contains it', () => {
    const s = generateTokenSecret();
    const h = hashTokenSecret(s);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    expect(hashTokenSecret(s)).toBe(h);
    expect(hashTokenSecret(generateTokenSecret())).not.toBe(h);
    expect(h).not.toContain(s.slice(3, 13));
    // Known answer: SHA-256 of "lg_test".
    expect(hashTokenSecret('lg_test')).toBe(
      '9c0e3068d3c9519a5f0ba833c78cc9091da1e8aa9f0590598791db99bee682f1',
    );
  });
});

describe('usability of a stored token', () => {
  const now = 1_700_000_000_000;
  it('is refused when revoked, expired (at the instant of expiry) or its creator is disabled', () => {
    expect(tokenRefusal({ revoked: false, expiresAt: null }, true, now)).toBeNull();
    expect(tokenRefusal({ revoked: false, expiresAt: now + 1 }, true, now)).toBeNull();
    expect(tokenRefusal({ revoked: false, expiresAt: now }, true, now)).toBe('expired');
    expect(tokenRefusal({ revoked: false, expiresAt: now - 1 }, true, now)).toBe('expired');
    expect(tokenRefusal({ revoked: true, expiresAt: null }, true, now)).toBe('revoked');
    expect(tokenRefusal({ revoked: false, expiresAt: null }, false, now)).toBe('creator-disabled');
  });

  it('computes expiry in whole days from now, or none', () => {
    expect(expiryFrom(now, 30)).toBe(now + 30 * 86_400_000);
    expect(expiryFrom(now, null)).toBeNull();
    expect(expiryFrom(now, undefined)).toBeNull();
  });

  it('records use at most once a minute', () => {
    expect(shouldTouch(null, now)).toBe(true);
    expect(shouldTouch(now - 59_999, now)).toBe(false);
    expect(shouldTouch(now - 60_000, now)).toBe(true);
  });

  it('authenticates as a viewer holding only its scope', () => {
    const v = tokenViewer({ id: 'i1', name: 'ci uploads', scope: 'ingest', createdBy: 'admin' });
    expect(v).toMatchObject({ username: 'token:ci uploads', role: 'viewer', via: 'token' });
    expect(allows(v, 'ingest')).toBe(true);
    expect(allows(v, 'read')).toBe(false);
  });
});

describe('token names', () => {
  it('accept readable names and refuse markup, control characters and empty ones', () => {
    expect(TokenNameSchema.parse('  nightly ingest-1.2 ')).toBe('nightly ingest-1.2');
    for (const bad of ['', '   ', '<script>', 'a\u0000b', 'x'.repeat(65), '-leading']) {
      expect(TokenNameSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });
});
