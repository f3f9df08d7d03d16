/**
 * Authentication rules: login (rate-limited, uniform failure), logout, and turning a request's
 * credentials into a Viewer: a session cookie, or `Authorization: Bearer <API token>` checked by the
 * `TokenVerifier` (ApiTokenService.verify).
 */
import { AppError } from '../../domain/errors';
import type { Logger } from '../../lib/log';
import type { AccountRepository } from './account-repository';
import { sessionIdFromCookieHeader } from './cookies';
import { burnVerification, hashPassword, needsRehash, verifyPassword, type ScryptParams } from './password';
import type { LoginRateLimiter } from './rate-limit';
import type { Viewer } from './roles';
import type { SessionStore } from './session-store';
import { normalizeUsername } from './validation';

/** Resolves an API token secret to a viewer, or null when it is not usable. */
export type TokenVerifier = (token: string) => Promise<Viewer | null>;

const INVALID_LOGIN = 'Invalid username or password.';
const MAX_PASSWORD_INPUT = 1024;

export interface AuthServiceDeps {
  accounts: AccountRepository;
  sessions: SessionStore;
  limiter: LoginRateLimiter;
  scrypt: ScryptParams;
  log: Logger;
  tokens?: TokenVerifier;
}

export class AuthService {
  constructor(private readonly deps: AuthServiceDeps) {}

  /**
   * On success returns the viewer and the new session id (for the cookie only). Every login gets a
   * fresh id (no session fixation); a session the browser still held is ended.
   */
  async login(
    rawUsername: string,
    password: string,
    clientAddress: string,
    previous: Viewer | null = null,
  ): Promise<{ viewer: Viewer; sessionId: string }> {
    const { accounts, limiter, sessions, log } = this.deps;
    const username = normalizeUsername(rawUsername);
    if (username.length === 0 || username.length > 64 || password.length > MAX_PASSWORD_INPUT) {
      throw new AppError('BAD_INPUT', 'Enter a username and password.');
    }
    await limiter.check(username, clientAddress);
    const account = await accounts.find(username);
    let ok = false;
    if (account) {
      ok = await verifyPassword(password, account.passwordHash);
    } else {
      await burnVerification(password, this.deps.scrypt);
    }
    if (!account || !ok) {
      await limiter.recordFailure(username, clientAddress);
      log.info('login failed', { username: account ? username : '(unknown)', address: clientAddress });
      throw new AppError('UNAUTHENTICATED', INVALID_LOGIN);
    }
    if (account.disabled) {
      // Only someone who knows the password learns that the account is disabled.
      throw new AppError('FORBIDDEN', 'This account is disabled.');
    }
    await limiter.recordSuccess(username, clientAddress);
    if (needsRehash(account.passwordHash, this.deps.scrypt)) {
      await accounts.setPasswordHash(username, await hashPassword(password, this.deps.scrypt));
    }
    if (previous) await this.logout(previous);
    const { id, idHash } = await sessions.create(account.username, account.role);
    log.info('login', { username: account.username, role: account.role });
    return {
      viewer: { username: account.username, role: account.role, via: 'session', sessionHash: idHash },
      sessionId: id,
    };
  }

  async logout(viewer: Viewer): Promise<void> {
    if (viewer.via === 'session' && viewer.sessionHash) {
      await this.deps.sessions.delete(viewer.sessionHash, viewer.username);
    }
  }

  /**
   * The viewer behind a request's credentials, or null when it carries none (or only stale ones).
   * A Bearer token wins over a cookie; an unknown token is an error rather than "anonymous" so a
   * misconfigured client fails loudly.
   */
  async authenticate(headers: Headers): Promise<Viewer | null> {
    const authorization = headers.get('authorization');
    if (authorization !== null) {
      const match = /^Bearer\s+(\S+)$/i.exec(authorization.trim());
      if (!match?.[1]) throw new AppError('UNAUTHENTICATED', 'Malformed Authorization header.');
      const viewer = this.deps.tokens ? await this.deps.tokens(match[1]) : null;
      if (!viewer) throw new AppError('UNAUTHENTICATED', 'The API token is not valid.');
      return viewer;
    }
    return this.fromSessionId(sessionIdFromCookieHeader(headers.get('cookie')));
  }

  async fromSessionId(sessionId: string | null | undefined): Promise<Viewer | null> {
    if (!sessionId) return null;
    const session = await this.deps.sessions.get(sessionId);
    if (!session) return null;
    return { username: session.username, role: session.role, via: 'session', sessionHash: session.idHash };
  }
}
