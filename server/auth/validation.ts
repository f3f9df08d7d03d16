/** Input rules for accounts, parsed at the service boundary. */
import { z } from 'zod';
import { AppError } from '../../domain/errors';

/** Lower-case letters, digits, `.`, `_`, `-`; 2 to 64 characters; starts with a letter or digit. */
export const UsernameSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^[a-z0-9][a-z0-9._-]{1,63}$/, 'use 2-64 characters: a-z, 0-9, ".", "_" or "-"');

export const PasswordSchema = z
  .string()
  .min(8, 'must be at least 8 characters')
  .max(256, 'must be at most 256 characters');

/** Parse or throw BAD_INPUT naming the field. */
export function parseInput<T>(schema: z.ZodType<T>, value: unknown, field: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const reason = result.error.issues[0]?.message ?? 'is not valid';
    throw new AppError('BAD_INPUT', `${field}: ${reason}`, { field });
  }
  return result.data;
}

/** Usernames typed at login are compared in the same normal form as stored ones. */
export function normalizeUsername(raw: string): string {
  return raw.trim().toLowerCase();
}
