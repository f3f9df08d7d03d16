/**
 * API tokens in Neo4j: `(:ApiToken {id, name, scope, hash, createdBy, createdAt, expiresAt, lastUsedAt,
 * revoked, revokedAt})`. `hash` is the SHA-256 of the secret (server/auth/api-token.ts); the secret itself
 * is never stored. This is the only file with Cypher for tokens.
 */
import { z } from 'zod';
import { AppError } from '../../domain/errors';
import type { GraphGateway } from '../../lib/neo4j';
import { ACCOUNT_LABEL } from './account-repository';
import { ApiTokenRecord } from './api-token';
import type { TokenScope } from './roles';

export const API_TOKEN_LABEL = 'ApiToken';

const RETURN_TOKEN = `t { .id, .name, .scope, .createdBy, .createdAt, expiresAt: t.expiresAt,
  lastUsedAt: t.lastUsedAt, revoked: coalesce(t.revoked, false) } AS token`;

const parseToken = (value: unknown): ApiTokenRecord => {
  const parsed = ApiTokenRecord.safeParse(value);
  if (!parsed.success) throw new AppError('INTERNAL', 'Stored API token is malformed');
  return parsed.data;
};

const VerificationRow = z.object({ token: z.unknown(), creatorEnabled: z.boolean() });

export interface NewApiToken {
  id: string;
  name: string;
  scope: TokenScope;
  hash: string;
  createdBy: string;
  createdAt: number;
  expiresAt: number | null;
}

export class ApiTokenRepository {
  constructor(private readonly gateway: GraphGateway) {}

  async ensureSchema(): Promise<void> {
    await this.gateway.schema(
      `CREATE CONSTRAINT api_token_id IF NOT EXISTS FOR (t:${API_TOKEN_LABEL}) REQUIRE t.id IS UNIQUE`,
    );
    await this.gateway.schema(
      `CREATE CONSTRAINT api_token_hash IF NOT EXISTS FOR (t:${API_TOKEN_LABEL}) REQUIRE t.hash IS UNIQUE`,
    );
  }

  async create(input: NewApiToken): Promise<ApiTokenRecord> {
    const result = await this.gateway.mutate<{ token: unknown }>(
      'apiToken.create',
      `CREATE (t:${API_TOKEN_LABEL} {id: $id, name: $name, scope: $scope, hash: $hash, createdBy: $createdBy,
                                   createdAt: $createdAt, expiresAt: $expiresAt, revoked: false})
       RETURN ${RETURN_TOKEN}`,
      { ...input },
    );
    return parseToken(result[0]?.token);
  }

  /** Every token, newest first; never the hash. */
  async list(): Promise<ApiTokenRecord[]> {
    const result = await this.gateway.query<{ token: unknown }>(
      'apiToken.list',
      `MATCH (t:${API_TOKEN_LABEL}) RETURN ${RETURN_TOKEN} ORDER BY t.createdAt DESC, t.id`,
    );
    return result.map((r) => parseToken(r.token));
  }

  /** The token with this secret hash and whether the account that created it is still enabled. */
  async findByHash(hash: string): Promise<{ token: ApiTokenRecord; creatorEnabled: boolean } | null> {
    const result = await this.gateway.query(
      'apiToken.findByHash',
      `MATCH (t:${API_TOKEN_LABEL} {hash: $hash})
       OPTIONAL MATCH (a:${ACCOUNT_LABEL} {username: t.createdBy})
       RETURN ${RETURN_TOKEN}, coalesce(a.disabled = false, false) AS creatorEnabled`,
      { hash },
    );
    if (!result[0]) return null;
    const row = VerificationRow.safeParse(result[0]);
    if (!row.success) throw new AppError('INTERNAL', 'Stored API token is malformed');
    return { token: parseToken(row.data.token), creatorEnabled: row.data.creatorEnabled };
  }

  async touch(id: string, now: number): Promise<void> {
    await this.gateway.mutate(
      'apiToken.touch',
      `MATCH (t:${API_TOKEN_LABEL} {id: $id})
       WHERE t.lastUsedAt IS NULL OR t.lastUsedAt < $now
       SET t.lastUsedAt = $now`,
      { id, now },
    );
  }

  /** Revoke; revoking twice keeps the first time. NOT_FOUND when absent. */
  async revoke(id: string, now: number): Promise<ApiTokenRecord> {
    const result = await this.gateway.mutate<{ token: unknown }>(
      'apiToken.revoke',
      `MATCH (t:${API_TOKEN_LABEL} {id: $id})
       SET t.revoked = true, t.revokedAt = coalesce(t.revokedAt, $now)
       RETURN ${RETURN_TOKEN}`,
      { id, now },
    );
    if (!result[0]) throw new AppError('NOT_FOUND', 'No such API token');
    return parseToken(result[0].token);
  }
}
