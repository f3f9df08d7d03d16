/**
 * Password hashing with Node's built-in scrypt. The stored string carries its own parameters and salt,
 * so the cost can be raised later without invalidating existing hashes:
 *
 *   scrypt$<N>$<r>$<p>$<salt base64url>$<hash base64url>
 *
 * Defaults follow OWASP's scrypt guidance (N=2^15, r=8, p=3: 32 MiB, ~0.3 s on one core). Hashing runs
 * on libuv's thread pool (async scrypt), so the event loop stays free while a login is checked.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

export interface ScryptParams {
  N: number;
  r: number;
  p: number;
}

export const DEFAULT_SCRYPT: ScryptParams = { N: 2 ** 15, r: 8, p: 3 };

const KEY_LENGTH = 32;
const SALT_LENGTH = 16;
/** Refuse stored parameters beyond this, so a tampered hash cannot make verification exhaust memory. */
const MAX_N = 2 ** 20;

function scryptAsync(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const options: ScryptOptions = {
    N: params.N,
    r: params.r,
    p: params.p,
    // Node's default maxmem (32 MiB) is exactly 128*N*r for N=2^15, r=8, which it rejects.
    maxmem: 256 * params.N * params.r + 1024 * 1024,
  };
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, KEY_LENGTH, options, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export async function hashPassword(password: string, params: ScryptParams = DEFAULT_SCRYPT): Promise<string> {
  const salt = randomBytes(SALT_LENGTH);
  const key = await scryptAsync(password, salt, params);
  return ['scrypt', params.N, params.r, params.p, salt.toString('base64url'), key.toString('base64url')].join(
    '$',
  );
}

interface ParsedHash {
  params: ScryptParams;
  salt: Buffer;
  key: Buffer;
}

export function parseHash(stored: string): ParsedHash | null {
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return null;
  const [, n, r, p, salt, key] = parts;
  const params = { N: Number(n), r: Number(r), p: Number(p) };
  const validInt = (v: number, max: number) => Number.isInteger(v) && v >= 1 && v <= max;
  if (!validInt(params.N, MAX_N) || (params.N & (params.N - 1)) !== 0 || params.N < 2) return null;
  if (!validInt(params.r, 32) || !validInt(params.p, 16)) return null;
  const saltBuf = Buffer.from(salt ?? '', 'base64url');
  const keyBuf = Buffer.from(key ?? '', 'base64url');
  if (saltBuf.length < 8 || keyBuf.length < 16) return null;
  return { params, salt: saltBuf, key: keyBuf };
}

/** True when `password` matches `stored`; a malformed stored hash never matches. Constant-time compare. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parseHash(stored);
  if (!parsed) return false;
  const candidate = await scryptAsync(password, parsed.salt, parsed.params);
  return candidate.length === parsed.key.length && timingSafeEqual(candidate, parsed.key);
}

/** Whether a stored hash was made with weaker parameters than the current defaults (rehash on login). */
export function needsRehash(stored: string, params: ScryptParams = DEFAULT_SCRYPT): boolean {
  const parsed = parseHash(stored);
  if (!parsed) return true;
  return parsed.params.N < params.N || parsed.params.r < params.r || parsed.params.p < params.p;
}

let dummy: Promise<string> | undefined;

/**
 * Spend the same time as a real verification when the account does not exist, so response time does
 * not reveal which usernames exist.
 */
export async function burnVerification(
  password: string,
  params: ScryptParams = DEFAULT_SCRYPT,
): Promise<void> {
  dummy ??= hashPassword(randomBytes(16).toString('hex'), params);
  await verifyPassword(password, await dummy);
}

/** A random password for the bootstrap admin: 24 characters of base64url (144 bits). */
export function randomPassword(): string {
  return randomBytes(18).toString('base64url');
}
