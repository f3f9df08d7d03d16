/**
 * API tokens for scripts (admin only to manage): create (the secret is returned once), list (never the
 * secret), revoke; and `verify`, the TokenVerifier that turns an `Authorization: Bearer` secret into a
 * Viewer limited to the token's scope.
 */
import { AppError } from '../../domain/errors';
import type { Logger } from '../../lib/log';
import {
  ExpiresInDaysSchema,
  expiryFrom,
  generateTokenSecret,
  hashTokenSecret,
  isWellFormedTokenSecret,
  newTokenId,
  shouldTouch,
  tokenRefusal,
  TokenNameSchema,
  tokenViewer,
  type ApiTokenRecord,
} from './api-token';
import type { ApiTokenRepository } from './api-token-repository';
import { requirePermission, TokenScopeSchema, type Viewer } from './roles';
import { parseInput } from './validation';

export interface CreatedApiToken {
  token: ApiTokenRecord;
  /** Shown once; only its hash is stored. */
  secret: string;
}

export class ApiTokenService {
  constructor(private readonly deps: { tokens: ApiTokenRepository; log: Logger; now?: () => number }) {}

  private now(): number {
    return this.deps.now ? this.deps.now() : Date.now();
  }

  async list(viewer: Viewer | null): Promise<ApiTokenRecord[]> {
    requirePermission(viewer, 'admin');
    return this.deps.tokens.list();
  }

  async create(
    viewer: Viewer | null,
    input: { name: string; scope: string; expiresInDays?: number | null },
  ): Promise<CreatedApiToken> {
    const actor = requirePermission(viewer, 'admin');
    // Tokens are made by people: a token can never mint another (it never holds `admin` anyway).
    if (actor.via !== 'session') throw new AppError('FORBIDDEN');
    const name = parseInput(TokenNameSchema, input.name, 'name');
    const scope = parseInput(TokenScopeSchema, input.scope, 'scope');
    const days =
      input.expiresInDays === null || input.expiresInDays === undefined
        ? null
        : parseInput(ExpiresInDaysSchema, input.expiresInDays, 'expiresInDays');
    const secret = generateTokenSecret();
    const now = this.now();
    const token = await this.deps.tokens.create({
      id: newTokenId(),
      name,
      scope,
      hash: hashTokenSecret(secret),
      createdBy: actor.username,
      createdAt: now,
      expiresAt: expiryFrom(now, days),
    });
    this.deps.log.info('api token created', { by: actor.username, id: token.id, name, scope, days });
    return { token, secret };
  }

  async revoke(viewer: Viewer | null, id: string): Promise<ApiTokenRecord> {
    const actor = requirePermission(viewer, 'admin');
    if (typeof id !== 'string' || id.length === 0 || id.length > 64)
      throw new AppError('NOT_FOUND', 'No such API token');
    const token = await this.deps.tokens.revoke(id, this.now());
    this.deps.log.info('api token revoked', { by: actor.username, id });
    return token;
  }

  /** The viewer for a Bearer secret, or null when it is unknown, revoked, expired or its creator disabled. */
  readonly verify = async (secret: string): Promise<Viewer | null> => {
    if (!isWellFormedTokenSecret(secret)) return null;
    const found = await this.deps.tokens.findByHash(hashTokenSecret(secret));
    if (!found) return null;
    const now = this.now();
    const refusal = tokenRefusal(found.token, found.creatorEnabled, now);
    if (refusal) {
      this.deps.log.info('api token refused', { id: found.token.id, reason: refusal });
      return null;
    }
    if (shouldTouch(found.token.lastUsedAt, now)) await this.deps.tokens.touch(found.token.id, now);
    return tokenViewer(found.token);
  };
}
