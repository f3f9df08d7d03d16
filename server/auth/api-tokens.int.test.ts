/**
 * API tokens end to end against real Neo4j and Redis: admins create, list and revoke them through GraphQL;
 * a `read` token queries as a viewer but cannot ingest; an `ingest` token can POST /api/ingest and read
 * what it sent, nothing else; revoked, expired and orphaned tokens are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCode, ingestRequest, openHarness, unique, type Harness } from '../graphql/test-harness';
import { API_TOKEN_LABEL } from './api-token-repository';

let h: Harness;

beforeAll(async () => {
  h = await openHarness();
});

afterAll(async () => {
  await h?.close();
});

const CREATE = `mutation($name: String!, $scope: TokenScope!, $days: Int) {
  createApiToken(name: $name, scope: $scope, expiresInDays: $days) {
    secret
    token { id name scope createdBy createdAt expiresAt lastUsedAt revoked active }
  }
}`;
const LIST = '{ apiTokens { id name scope createdBy expiresAt lastUsedAt revoked active } }';
const REVOKE = 'mutation($id: ID!) { revokeApiToken(id: $id) { id revoked active } }';
const ME = '{ me { username role } }';
const USERS = '{ users { username } }';
const UPLOAD = 'query($id: ID!) { upload(id: $id) { id name createdBy sealed } }';

interface Created {
  secret: string;
  token: {
    id: string;
    name: string;
    scope: string;
    createdBy: string;
    expiresAt: string | null;
    revoked: boolean;
  };
}

async function createToken(cookie: string, scope: 'read' | 'ingest', days?: number): Promise<Created> {
  const { body } = await h.gql(CREATE, { name: unique(scope), scope, days: days ?? null }, { cookie });
  expect(body.errors).toBeUndefined();
  return (body.data as { createApiToken: Created }).createApiToken;
}

const jsonl =
  '{"EventID":1,"Hostname":"TOKHOST","UtcTime":"2024-01-01 00:00:00.000","Image":"C:\\\\x.exe"}\n';

async function ingestWith(auth: { bearer?: string; cookie?: string }) {
  const res = await h.ingest(ingestRequest(jsonl, auth, { query: '?name=tok.jsonl' }));
  return {
    status: res.status,
    body: (await res.json()) as { uploads?: Array<{ id: string }>; error?: { code: string } },
  };
}

describe('API tokens', () => {
  it('are created by admins with the secret shown once, listed without it, and revoked', async () => {
    const admin = await h.signedIn('admin');
    const created = await createToken(admin.cookie, 'read', 30);
    expect(created.secret).toMatch(/^lg_[A-Za-z0-9_-]{43}$/);
    expect(created.token).toMatchObject({ scope: 'read', createdBy: admin.username, revoked: false });
    expect(Date.parse(created.token.expiresAt!) - Date.now()).toBeGreaterThan(29 * 86_400_000);

    const list = await h.gql(LIST, {}, { cookie: admin.cookie });
    const text = JSON.stringify(list.body);
    expect(text).toContain(created.token.id);
    expect(text).not.toContain(created.secret);
    // The node holds the hash, never the secret.
    const [node] = await h.gateway.query<{ t: Record<string, unknown> }>(
      'test.token',
      `MATCH (t:${API_TOKEN_LABEL} {id: $id}) RETURN properties(t) AS t`,
      { id: created.token.id },
    );
    expect(node!.t.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(node)).not.toContain(created.secret);
    // Asking for a field that does not exist on the type is a validation error, not a leak.
    const secretField = await h.gql('{ apiTokens { id secret } }', {}, { cookie: admin.cookie });
    expect(errorCode(secretField.body)).toBe('BAD_INPUT');

    const revoked = await h.gql(REVOKE, { id: created.token.id }, { cookie: admin.cookie });
    expect(revoked.body.data).toEqual({
      revokeApiToken: { id: created.token.id, revoked: true, active: false },
    });
    const after = await h.gql(ME, {}, { bearer: created.secret });
    expect(errorCode(after.body)).toBe('UNAUTHENTICATED');
    const missing = await h.gql(REVOKE, { id: 'no-such-token' }, { cookie: admin.cookie });
    expect(errorCode(missing.body)).toBe('NOT_FOUND');
  });

  it('cannot be managed by analysts, viewers or tokens', async () => {
    const admin = await h.signedIn('admin');
    const analyst = await h.signedIn('analyst');
    const token = await createToken(admin.cookie, 'read');
    for (const auth of [{ cookie: analyst.cookie }, { bearer: token.secret }]) {
      expect(errorCode((await h.gql(LIST, {}, auth)).body)).toBe('FORBIDDEN');
      expect(errorCode((await h.gql(CREATE, { name: 'x', scope: 'read' }, auth)).body)).toBe('FORBIDDEN');
      expect(errorCode((await h.gql(REVOKE, { id: token.token.id }, auth)).body)).toBe('FORBIDDEN');
    }
    expect(errorCode((await h.gql(LIST, {}, { csrf: true })).body)).toBe('UNAUTHENTICATED');
  });

  it('validates the name, scope and expiry', async () => {
    const admin = await h.signedIn('admin');
    const bad = await h.gql(CREATE, { name: '<b>', scope: 'read' }, { cookie: admin.cookie });
    expect(errorCode(bad.body)).toBe('BAD_INPUT');
    const badDays = await h.gql(CREATE, { name: 'ok', scope: 'read', days: 0 }, { cookie: admin.cookie });
    expect(errorCode(badDays.body)).toBe('BAD_INPUT');
    const badScope = await h.gql(CREATE, { name: 'ok', scope: 'admin' }, { cookie: admin.cookie });
    expect(errorCode(badScope.body)).toBe('BAD_INPUT');
  });

  it('read scope: queries as a viewer, without the CSRF header; cannot ingest or read accounts', async () => {
    const admin = await h.signedIn('admin');
    const { secret, token } = await createToken(admin.cookie, 'read');
    const me = await h.gql(ME, {}, { bearer: secret });
    expect(me.body.data).toEqual({ me: { username: `token:${token.name}`, role: 'viewer' } });
    expect((await h.gql('{ uploads { id } }', {}, { bearer: secret })).body.errors).toBeUndefined();
    expect(errorCode((await h.gql(USERS, {}, { bearer: secret })).body)).toBe('FORBIDDEN');
    const ingest = await ingestWith({ bearer: secret });
    expect(ingest.status).toBe(403);
    expect(ingest.body.error?.code).toBe('FORBIDDEN');
    // Use is recorded.
    const list = await h.gql(LIST, {}, { cookie: admin.cookie });
    const row = (
      list.body.data as { apiTokens: Array<{ id: string; lastUsedAt: string | null }> }
    ).apiTokens.find((t) => t.id === token.id);
    expect(row?.lastUsedAt).not.toBeNull();
  });

  it('ingest scope: sends telemetry and reads what it sent, and nothing else', async () => {
    const admin = await h.signedIn('admin');
    const { secret, token } = await createToken(admin.cookie, 'ingest');
    const sent = await ingestWith({ bearer: secret });
    expect(sent.status).toBe(202);
    const id = sent.body.uploads![0]!.id;

    const own = await h.gql(UPLOAD, { id }, { bearer: secret });
    expect(own.body.data).toEqual({
      upload: { id, name: 'tok.jsonl', createdBy: `token:${token.name}`, sealed: true },
    });
    const rejected = await h.gql(
      'query($id: ID!) { rejectedRecords(uploadId: $id) { recordNo } }',
      { id },
      { bearer: secret },
    );
    expect(rejected.body.errors).toBeUndefined();
    const live = await h.subscribe(
      'subscription($id: ID!) { uploadProgress(id: $id) { id } }',
      { id },
      { bearer: secret },
      2000,
    );
    expect(live.events[0]?.errors).toBeUndefined();
    expect(live.events[0]?.data).toEqual({ uploadProgress: { id } });

    // Someone else's upload, the list, accounts, even `me`: refused.
    const other = await ingestWith({ cookie: admin.cookie });
    const otherId = other.body.uploads![0]!.id;
    expect(errorCode((await h.gql(UPLOAD, { id: otherId }, { bearer: secret })).body)).toBe('FORBIDDEN');
    expect(errorCode((await h.gql('{ uploads { id } }', {}, { bearer: secret })).body)).toBe('FORBIDDEN');
    expect(errorCode((await h.gql(USERS, {}, { bearer: secret })).body)).toBe('FORBIDDEN');
    expect(errorCode((await h.gql(ME, {}, { bearer: secret })).body)).toBe('FORBIDDEN');
  });

  it('refuses expired tokens, tokens of disabled admins, and unknown ones', async () => {
    const admin = await h.signedIn('admin');
    const expiring = await createToken(admin.cookie, 'ingest', 1);
    expect((await ingestWith({ bearer: expiring.secret })).status).toBe(202);
    await h.gateway.mutate(
      'test.expire',
      `MATCH (t:${API_TOKEN_LABEL} {id: $id}) SET t.expiresAt = timestamp() - 1`,
      { id: expiring.token.id },
    );
    const expired = await ingestWith({ bearer: expiring.secret });
    expect(expired.status).toBe(401);
    expect(expired.body.error?.code).toBe('UNAUTHENTICATED');
    const list = await h.gql(LIST, {}, { cookie: admin.cookie });
    const row = (list.body.data as { apiTokens: Array<{ id: string; active: boolean }> }).apiTokens.find(
      (t) => t.id === expiring.token.id,
    );
    expect(row?.active).toBe(false);

    const other = await h.signedIn('admin');
    const orphan = await createToken(other.cookie, 'read');
    expect((await h.gql(ME, {}, { bearer: orphan.secret })).body.errors).toBeUndefined();
    await h.accounts.update(other.username, { disabled: true }, () => {});
    expect(errorCode((await h.gql(ME, {}, { bearer: orphan.secret })).body)).toBe('UNAUTHENTICATED');

    expect((await ingestWith({ bearer: `lg_${'x'.repeat(43)}` })).status).toBe(401);
    expect(errorCode((await h.gql(ME, {}, { bearer: 'lg_short' })).body)).toBe('UNAUTHENTICATED');
  });
});
