import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { clearSessionCookie, readCookie, sessionCookie, sessionIdFromCookieHeader } from './cookies';

const id = randomBytes(32).toString('base64url');

describe('session cookie', () => {
  it('is HttpOnly, SameSite=Strict, Path=/ with a Max-Age, and not Secure by default', () => {
    const c = sessionCookie(id, { secure: false, maxAgeSeconds: 3600 });
    const parts = c.split('; ');
    expect(parts[0]).toBe(`lg_session=${id}`);
    expect(parts).toEqual(expect.arrayContaining(['Path=/', 'HttpOnly', 'SameSite=Strict', 'Max-Age=3600']));
    expect(parts).not.toContain('Secure');
  });

  it('is Secure when configured', () => {
    expect(sessionCookie(id, { secure: true, maxAgeSeconds: 60 }).split('; ')).toContain('Secure');
    expect(clearSessionCookie({ secure: true }).split('; ')).toContain('Secure');
  });

  it('clears with an empty value and Max-Age=0', () => {
    const c = clearSessionCookie({ secure: false });
    expect(c.startsWith('lg_session=;')).toBe(true);
    expect(c).toContain('Max-Age=0');
    expect(c).toContain('HttpOnly');
  });

  it('refuses to set a malformed id (no header injection)', () => {
    expect(() => sessionCookie('abc; Domain=evil.example', { secure: false, maxAgeSeconds: 1 })).toThrow();
  });

  it('reads the session id from a Cookie header, ignoring malformed values', () => {
    expect(sessionIdFromCookieHeader(`a=1; lg_session=${id}; b=2`)).toBe(id);
    expect(sessionIdFromCookieHeader('lg_session=short')).toBeNull();
    expect(sessionIdFromCookieHeader(`lg_session=bad; lg_session=${id}`)).toBe(id);
    expect(sessionIdFromCookieHeader(null)).toBeNull();
    expect(sessionIdFromCookieHeader('xlg_session=abc')).toBeNull();
    expect(readCookie('a=1; a=2', 'a')).toEqual(['1', '2']);
  });
});
