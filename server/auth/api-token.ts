/**
 * API token secrets: how they look, how they are stored, and when a stored token is usable. Pure code.
 *
 * A secret is `lg_` + 32 random bytes in base64url (256 bits). It is shown once, at creation; Neo4j
 * holds only its SHA-256. A slow password hash is not needed: nobody can guess or brute-force 256 random
 * bits from a hash, and a fast hash lets every request be checked by a plain index lookup.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { z } from 'zod';
import { TokenScopeSchema, type Viewer } from './roles';

export const TOKEN_PREFIX = 'lg_';
const SECRET = /^lg_[A-Za-z0-9_-]{43}$/;

/** Longest a token may live; a token without an expiry lives until revoked. */
export const MAX_TOKEN_DAYS = 3650;

export function generateTokenSecret(): string {
  return `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function newTokenId(): string {
  return randomUUID();
}

export function isWellFormedTokenSecret(secret: string): boolean {
  return SECRET.test(secret);
}

/** Hex SHA-256 of the secret: what is stored and looked up. */
export function hashTokenSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Letters, digits, space, `.`, `_`, `-`; 1 to 64 characters after trimming. */
export const TokenNameSchema = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(64, 'must be at most 64 characters')
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]*$/, 'use letters, digits, spaces, ".", "_" or "-"');

export const ExpiresInDaysSchema = z
  .number()
  .int('must be a whole number of days')
  .min(1, 'must be at least 1 day')
  .max(MAX_TOKEN_DAYS, `must be at most ${MAX_TOKEN_DAYS} days`);

/** A stored token as the API shows it: everything but the hash. */
export const ApiTokenRecord = z.object({
  id: z.string(),
  name: z.string(),
  scope: TokenScopeSchema,
  createdBy: z.string(),
  createdAt: z.number(),
  expiresAt: z.number().nullable(),
  lastUsedAt: z.number().nullable(),
  revoked: z.boolean(),
});
export type ApiTokenRecord = z.infer<typeof ApiTokenRecord>;

export type TokenRefusal = 'revoked' | 'expired' | 'creator-disabled';

/**
 * Why a stored token may not be used now, or null when it may. A token acts for the admin who created
 * it, so it stops working when that account is disabled or deleted.
 */
export function tokenRefusal(
  token: Pick<ApiTokenRecord, 'revoked' | 'expiresAt'>,
  creatorEnabled: boolean,
  now: number,
): TokenRefusal | null {
  if (token.revoked) return 'revoked';
  if (token.expiresAt !== null && token.expiresAt <= now) return 'expired';
  if (!creatorEnabled) return 'creator-disabled';
  return null;
}

/** The viewer a usable token authenticates: role `viewer`, permissions from its scope only. */
export function tokenViewer(token: Pick<ApiTokenRecord, 'id' | 'name' | 'scope' | 'createdBy'>): Viewer {
  return {
    username: `token:${token.name}`,
    role: 'viewer',
    via: 'token',
    token: { id: token.id, name: token.name, scope: token.scope, createdBy: token.createdBy },
  };
}

/** Expiry time for "expires in N days" from `now`, or null for no expiry. */
export function expiryFrom(now: number, days: number | null | undefined): number | null {
  return days === null || days === undefined ? null : now + days * 86_400_000;
}

/**
 * Whether `lastUsedAt` is worth writing again: at most once a minute per token, so busy scripts do not
 * turn every request into a Neo4j write.
 */
export function shouldTouch(lastUsedAt: number | null, now: number, everyMs = 60_000): boolean {
  return lastUsedAt === null || now - lastUsedAt >= everyMs;
}
