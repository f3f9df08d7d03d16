import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SCRYPT,
  hashPassword,
  needsRehash,
  parseHash,
  randomPassword,
  verifyPassword,
} from './password';

// Cheap parameters keep the unit tests fast; the format and checks are the same.
const FAST = { N: 1024, r: 8, p: 1 };

describe('password hashing', () => {
  it('verifies the right password and refuses a wrong one', async () => {
    const stored = await hashPassword('correct horse battery', FAST);
    expect(await verifyPassword('correct horse battery', stored)).toBe(true);
    expect(await verifyPassword('correct horse batter', stored)).toBe(false);
    expect(await verifyPassword('', stored)).toBe(false);
  });

  it('stores algorithm, parameters and salt with the hash', async () => {
    const stored = await hashPassword('pw-12345678', FAST);
    expect(stored).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]+\$[A-Za-z0-9_-]+$/);
    const parsed = parseHash(stored);
    expect(parsed?.params).toEqual(FAST);
    expect(parsed?.salt.length).toBe(16);
    expect(parsed?.key.length).toBe(32);
  });

  it('salts every hash differently', async () => {
    const a = await hashPassword('same password', FAST);
    const b = await hashPassword('same password', FAST);
    expect(a).not.toBe(b);
    expect(await verifyPassword('same password', a)).toBe(true);
    expect(await verifyPassword('same password', b)).toBe(true);
  });

  it('treats Unicode normal forms alike', async () => {
    const stored = await hashPassword('caf\u00e9-password', FAST);
    expect(await verifyPassword('cafe\u0301-password', stored)).toBe(true);
  });

  it('never matches a malformed or tampered hash', async () => {
    expect(await verifyPassword('x', '')).toBe(false);
    expect(await verifyPassword('x', 'plaintext')).toBe(false);
    expect(await verifyPassword('x', 'bcrypt$10$abc$def$ghi$jkl')).toBe(false);
    // Parameters beyond the cap would make verification exhaust memory: refused, not computed.
    expect(parseHash(`scrypt$${2 ** 24}$8$1$c2FsdHNhbHRzYWx0$${'A'.repeat(43)}`)).toBeNull();
    expect(parseHash(`scrypt$1000$8$1$c2FsdHNhbHRzYWx0$${'A'.repeat(43)}`)).toBeNull(); // N not a power of 2
  });

  it('uses OWASP-level defaults and flags weaker hashes for rehash', async () => {
    expect(DEFAULT_SCRYPT.N * DEFAULT_SCRYPT.r * DEFAULT_SCRYPT.p).toBeGreaterThanOrEqual(2 ** 15 * 8 * 3);
    const weak = await hashPassword('pw-12345678', FAST);
    expect(needsRehash(weak)).toBe(true);
    expect(needsRehash(weak, FAST)).toBe(false);
    expect(needsRehash('garbage')).toBe(true);
  });

  it('generates long random passwords', () => {
    const a = randomPassword();
    expect(a).toMatch(/^[A-Za-z0-9_-]{24}$/);
    expect(randomPassword()).not.toBe(a);
  });
});
