/**
 * Accounts in Neo4j: `(:Account {username, role, passwordHash, createdAt, disabled})`. The label is
 * deliberately not `User`, which is a node kind of the telemetry graph. This is the only file with
 * Cypher for accounts.
 */
import type { ManagedTransaction } from 'neo4j-driver';
import { z } from 'zod';
import { AppError } from '../../domain/errors';
import { rows, type GraphGateway } from '../../lib/neo4j';
import { RoleSchema, type Role } from './roles';

export const ACCOUNT_LABEL = 'Account';

const AccountRow = z.object({
  username: z.string(),
  role: RoleSchema,
  passwordHash: z.string(),
  createdAt: z.number(),
  disabled: z.boolean(),
});
export type AccountRecord = z.infer<typeof AccountRow>;
export type AccountSummary = Omit<AccountRecord, 'passwordHash'>;

const summary = (a: AccountRecord): AccountSummary => ({
  username: a.username,
  role: a.role,
  createdAt: a.createdAt,
  disabled: a.disabled,
});

const parseRow = (value: unknown): AccountRecord => {
  const parsed = AccountRow.safeParse(value);
  if (!parsed.success) throw new AppError('INTERNAL', 'Stored account is malformed');
  return parsed.data;
};

export interface AccountChange {
  role?: Role;
  disabled?: boolean;
}

/**
 * Checked inside the write transaction, after the account lock is held, so rules that depend on the
 * other accounts (at least one enabled admin) cannot be raced. Throw to refuse.
 */
export type ChangeGuard = (current: AccountRecord, next: AccountRecord, enabledAdminsAfter: number) => void;

const RETURN_ACCOUNT = `a { .username, .role, .passwordHash, .createdAt, .disabled } AS account`;

/** A single lock node serialises account changes that must see a consistent set of admins. */
const TAKE_LOCK = `MERGE (l:AccountLock {id: 1}) SET l.at = timestamp()`;

export class AccountRepository {
  constructor(private readonly gateway: GraphGateway) {}

  async ensureSchema(): Promise<void> {
    await this.gateway.schema(
      `CREATE CONSTRAINT account_username IF NOT EXISTS FOR (a:${ACCOUNT_LABEL}) REQUIRE a.username IS UNIQUE`,
    );
  }

  async find(username: string): Promise<AccountRecord | null> {
    const result = await this.gateway.query<{ account: unknown }>(
      'account.find',
      `MATCH (a:${ACCOUNT_LABEL} {username: $username}) RETURN ${RETURN_ACCOUNT}`,
      { username },
    );
    return result[0] ? parseRow(result[0].account) : null;
  }

  async list(): Promise<AccountSummary[]> {
    const result = await this.gateway.query<{ account: unknown }>(
      'account.list',
      `MATCH (a:${ACCOUNT_LABEL}) RETURN ${RETURN_ACCOUNT} ORDER BY a.username`,
    );
    return result.map((r) => summary(parseRow(r.account)));
  }

  /** Create an account; CONFLICT when the username is taken. */
  async create(input: {
    username: string;
    role: Role;
    passwordHash: string;
    now?: number;
  }): Promise<AccountSummary> {
    const result = await this.gateway.write('account.create', async (tx) => {
      const existing = await tx.run(`MATCH (a:${ACCOUNT_LABEL} {username: $username}) RETURN a.username`, {
        username: input.username,
      });
      if (existing.records.length > 0) throw new AppError('CONFLICT', 'An account with this username exists');
      return rows<{ account: unknown }>(
        await tx.run(
          `CREATE (a:${ACCOUNT_LABEL} {username: $username, role: $role, passwordHash: $passwordHash,
                                       createdAt: $now, disabled: false})
           RETURN ${RETURN_ACCOUNT}`,
          {
            username: input.username,
            role: input.role,
            passwordHash: input.passwordHash,
            now: input.now ?? Date.now(),
          },
        ),
      );
    });
    return summary(parseRow(result[0]?.account));
  }

  /** Change role and/or disabled flag; NOT_FOUND when absent; `guard` may refuse. */
  async update(username: string, change: AccountChange, guard: ChangeGuard): Promise<AccountSummary> {
    return this.gateway.write('account.update', async (tx) => {
      await tx.run(TAKE_LOCK);
      const current = await findIn(tx, username);
      if (!current) throw new AppError('NOT_FOUND', 'No such account');
      const next: AccountRecord = {
        ...current,
        role: change.role ?? current.role,
        disabled: change.disabled ?? current.disabled,
      };
      const admins = await enabledAdminsIn(tx);
      const wasCounted = current.role === 'admin' && !current.disabled;
      const isCounted = next.role === 'admin' && !next.disabled;
      guard(current, next, admins - (wasCounted ? 1 : 0) + (isCounted ? 1 : 0));
      const updated = rows<{ account: unknown }>(
        await tx.run(
          `MATCH (a:${ACCOUNT_LABEL} {username: $username})
           SET a.role = $role, a.disabled = $disabled
           RETURN ${RETURN_ACCOUNT}`,
          { username, role: next.role, disabled: next.disabled },
        ),
      );
      return summary(parseRow(updated[0]?.account));
    });
  }

  async setPasswordHash(username: string, passwordHash: string): Promise<void> {
    await this.gateway.mutate(
      'account.setPasswordHash',
      `MATCH (a:${ACCOUNT_LABEL} {username: $username}) SET a.passwordHash = $passwordHash`,
      { username, passwordHash },
    );
  }

  /**
   * Create the account `username` as an enabled admin unless some enabled admin exists. When an account
   * of that name exists but is not an enabled admin (the installation lost its last admin), it is
   * promoted, enabled and given the new password. Returns whether anything was written.
   */
  async ensureAdmin(
    username: string,
    passwordHash: () => Promise<string>,
    now = Date.now(),
  ): Promise<boolean> {
    // Hash outside the transaction: a retried transaction must not hash twice, and scrypt is slow.
    const quick = await this.gateway.query<{ n: number }>(
      'account.countAdmins',
      `MATCH (a:${ACCOUNT_LABEL} {role: 'admin', disabled: false}) RETURN count(a) AS n`,
    );
    if ((quick[0]?.n ?? 0) > 0) return false;
    const hash = await passwordHash();
    return this.gateway.write('account.ensureAdmin', async (tx) => {
      await tx.run(TAKE_LOCK);
      if ((await enabledAdminsIn(tx)) > 0) return false;
      await tx.run(
        `MERGE (a:${ACCOUNT_LABEL} {username: $username})
         ON CREATE SET a.createdAt = $now
         SET a.role = 'admin', a.disabled = false, a.passwordHash = $hash`,
        { username, hash, now },
      );
      return true;
    });
  }
}

async function findIn(tx: ManagedTransaction, username: string): Promise<AccountRecord | null> {
  const result = rows<{ account: unknown }>(
    await tx.run(`MATCH (a:${ACCOUNT_LABEL} {username: $username}) RETURN ${RETURN_ACCOUNT}`, { username }),
  );
  return result[0] ? parseRow(result[0].account) : null;
}

async function enabledAdminsIn(tx: ManagedTransaction): Promise<number> {
  const result = rows<{ n: number }>(
    await tx.run(`MATCH (a:${ACCOUNT_LABEL} {role: 'admin', disabled: false}) RETURN count(a) AS n`),
  );
  return result[0]?.n ?? 0;
}
