/**
 * Account administration (admin only). Rules: usernames and passwords are validated; at least one
 * enabled admin always remains; nobody disables their own account; a changed role or a disabled
 * account ends that account's sessions at once (the role is held in the session).
 */
import { AppError } from '../../domain/errors';
import type { Logger } from '../../lib/log';
import type { AccountRepository, AccountSummary, ChangeGuard } from './account-repository';
import { hashPassword, type ScryptParams } from './password';
import { RoleSchema, requirePermission, type Role, type Viewer } from './roles';
import type { SessionStore } from './session-store';
import { parseInput, PasswordSchema, UsernameSchema } from './validation';

const keepAnAdmin: ChangeGuard = (_current, _next, enabledAdminsAfter) => {
  if (enabledAdminsAfter < 1)
    throw new AppError('CONFLICT', 'At least one enabled admin account must remain.');
};

export class UserService {
  constructor(
    private readonly deps: {
      accounts: AccountRepository;
      sessions: SessionStore;
      scrypt: ScryptParams;
      log: Logger;
    },
  ) {}

  async list(viewer: Viewer | null): Promise<AccountSummary[]> {
    requirePermission(viewer, 'admin');
    return this.deps.accounts.list();
  }

  async create(
    viewer: Viewer | null,
    input: { username: string; role: string; password: string },
  ): Promise<AccountSummary> {
    const actor = requirePermission(viewer, 'admin');
    const username = parseInput(UsernameSchema, input.username, 'username');
    const role = parseInput(RoleSchema, input.role, 'role');
    const password = parseInput(PasswordSchema, input.password, 'password');
    const created = await this.deps.accounts.create({
      username,
      role,
      passwordHash: await hashPassword(password, this.deps.scrypt),
    });
    this.deps.log.info('account created', { by: actor.username, username, role });
    return created;
  }

  async setRole(viewer: Viewer | null, rawUsername: string, rawRole: string): Promise<AccountSummary> {
    const actor = requirePermission(viewer, 'admin');
    const username = parseInput(UsernameSchema, rawUsername, 'username');
    const role: Role = parseInput(RoleSchema, rawRole, 'role');
    let previousRole: Role | undefined;
    const updated = await this.deps.accounts.update(username, { role }, (current, next, admins) => {
      keepAnAdmin(current, next, admins);
      previousRole = current.role;
    });
    if (previousRole !== role) {
      // Sessions carry the role: end them so the new one applies at the next sign-in.
      await this.deps.sessions.deleteAllFor(username);
      this.deps.log.info('account role changed', { by: actor.username, username, from: previousRole, role });
    }
    return updated;
  }

  async setDisabled(viewer: Viewer | null, rawUsername: string, disabled: boolean): Promise<AccountSummary> {
    const actor = requirePermission(viewer, 'admin');
    const username = parseInput(UsernameSchema, rawUsername, 'username');
    if (disabled && username === actor.username) {
      throw new AppError('BAD_INPUT', 'You cannot disable your own account.');
    }
    const updated = await this.deps.accounts.update(username, { disabled }, keepAnAdmin);
    if (disabled) await this.deps.sessions.deleteAllFor(username);
    this.deps.log.info(disabled ? 'account disabled' : 'account enabled', { by: actor.username, username });
    return updated;
  }
}
