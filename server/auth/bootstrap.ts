/**
 * First start: constraints for accounts and API tokens, and the first admin.
 *
 * `ensureSchemaAndAdmin` creates the uniqueness constraints on account usernames and on API token ids
 * and secret hashes, then, only when no
 * enabled admin account exists, creates (or restores) the account `admin` with:
 *   - `adminPassword` when given (LENSGRAPH_ADMIN_PASSWORD), or
 *   - a random password, returned so the caller can print it ONCE (it is stored only as a hash).
 * When an enabled admin already exists nothing changes: a given `adminPassword` does NOT reset the
 * existing admin's password (so a restart never undoes a password change made in the product).
 * Safe to run concurrently from several processes: the check and the write happen under one lock.
 */
import type { GraphGateway } from '../../lib/neo4j';
import { AccountRepository } from './account-repository';
import { ApiTokenRepository } from './api-token-repository';
import { DEFAULT_SCRYPT, hashPassword, randomPassword, type ScryptParams } from './password';

export const BOOTSTRAP_ADMIN = 'admin';

export async function ensureSchemaAndAdmin(
  gateway: GraphGateway,
  adminPassword?: string,
  scrypt: ScryptParams = DEFAULT_SCRYPT,
): Promise<{ created: boolean; password?: string }> {
  const accounts = new AccountRepository(gateway);
  await accounts.ensureSchema();
  await new ApiTokenRepository(gateway).ensureSchema();
  const password = adminPassword ?? randomPassword();
  const created = await accounts.ensureAdmin(BOOTSTRAP_ADMIN, () => hashPassword(password, scrypt));
  if (!created) return { created: false };
  // Only a generated password is returned: a configured one is already known to the operator.
  return adminPassword === undefined ? { created: true, password } : { created: true };
}
