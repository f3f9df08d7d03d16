/** The token service against an in-memory repository: who may manage tokens, and what verify accepts. */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../domain/errors';
import type { Logger } from '../../lib/log';
import { hashTokenSecret, type ApiTokenRecord } from './api-token';
import type { ApiTokenRepository, NewApiToken } from './api-token-repository';
import { ApiTokenService } from './api-token-service';
import type { Role, Viewer } from './roles';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

function memoryRepo() {
  const rows = new Map<string, NewApiToken & { lastUsedAt: number | null; revoked: boolean }>();
  const disabled = new Set<string>();
  const touches: number[] = [];
  const record = (r: NewApiToken & { lastUsedAt: number | null; revoked: boolean }): ApiTokenRecord => ({
    id: r.id,
    name: r.name,
    scope: r.scope,
    createdBy: r.createdBy,
    createdAt: r.createdAt,
    expiresAt: r.expiresAt,
    lastUsedAt: r.lastUsedAt,
    revoked: r.revoked,
  });
  const repo = {
    async create(t: NewApiToken) {
      const row = { ...t, lastUsedAt: null, revoked: false };
      rows.set(t.id, row);
      return record(row);
    },
    async list() {
      return [...rows.values()].map(record);
    },
    async findByHash(hash: string) {
      const row = [...rows.values()].find((r) => r.hash === hash);
      return row ? { token: record(row), creatorEnabled: !disabled.has(row.createdBy) } : null;
    },
    async touch(id: string, now: number) {
      touches.push(now);
      rows.get(id)!.lastUsedAt = now;
    },
    async revoke(id: string) {
      const row = rows.get(id);
      if (!row) throw new AppError('NOT_FOUND');
      row.revoked = true;
      return record(row);
    },
  };
  return { repo: repo as unknown as ApiTokenRepository, rows, disabled, touches };
}

const session = (role: Role, username = `u-${role}`): Viewer => ({ username, role, via: 'session' });

const codeOf = async (p: Promise<unknown>) => {
  try {
    await p;
    return 'none';
  } catch (e) {
    return e instanceof AppError ? e.code : 'other';
  }
};

describe('ApiTokenService', () => {
  it('lets only admins (signed in, not by token) create, list and revoke', async () => {
    const { repo } = memoryRepo();
    const svc = new ApiTokenService({ tokens: repo, log: silent });
    for (const v of [null, session('viewer'), session('analyst')]) {
      const expected = v ? 'FORBIDDEN' : 'UNAUTHENTICATED';
      expect(await codeOf(svc.create(v, { name: 'x', scope: 'read' }))).toBe(expected);
      expect(await codeOf(svc.list(v))).toBe(expected);
      expect(await codeOf(svc.revoke(v, 'id'))).toBe(expected);
    }
    const { secret } = await svc.create(session('admin'), { name: 'reader', scope: 'read' });
    const tokenViewer = await svc.verify(secret);
    expect(await codeOf(svc.create(tokenViewer, { name: 'y', scope: 'read' }))).toBe('FORBIDDEN');
  });

  it('stores only the hash, returns the secret once, and verify turns it into a scoped viewer', async () => {
    const { repo, rows } = memoryRepo();
    const svc = new ApiTokenService({ tokens: repo, log: silent, now: () => 1_000_000 });
    const { token, secret } = await svc.create(session('admin', 'root'), {
      name: ' ci ',
      scope: 'ingest',
      expiresInDays: 7,
    });
    expect(token).toMatchObject({ name: 'ci', scope: 'ingest', createdBy: 'root', revoked: false });
    expect(token.expiresAt).toBe(1_000_000 + 7 * 86_400_000);
    expect(JSON.stringify(token)).not.toContain(secret);
    const stored = rows.get(token.id)!;
    expect(stored.hash).toBe(hashTokenSecret(secret));
    expect(JSON.stringify(stored)).not.toContain(secret);
    expect(await svc.verify(secret)).toEqual({
      username: 'token:ci',
      role: 'viewer',
      via: 'token',
      token: { id: token.id, name: 'ci', scope: 'ingest', createdBy: 'root' },
    });
  });

  it('validates name, scope and expiry', async () => {
    const svc = new ApiTokenService({ tokens: memoryRepo().repo, log: silent });
    const admin = session('admin');
    expect(await codeOf(svc.create(admin, { name: '', scope: 'read' }))).toBe('BAD_INPUT');
    expect(await codeOf(svc.create(admin, { name: 'x', scope: 'admin' }))).toBe('BAD_INPUT');
    expect(await codeOf(svc.create(admin, { name: 'x', scope: 'read', expiresInDays: 0 }))).toBe('BAD_INPUT');
    expect(await codeOf(svc.create(admin, { name: 'x', scope: 'read', expiresInDays: 1.5 }))).toBe(
      'BAD_INPUT',
    );
    expect(await codeOf(svc.create(admin, { name: 'x', scope: 'read', expiresInDays: null }))).toBe('none');
  });

  it('refuses malformed, unknown, revoked and expired secrets, and tokens of disabled admins', async () => {
    let now = 5_000_000;
    const { repo, disabled } = memoryRepo();
    const svc = new ApiTokenService({ tokens: repo, log: silent, now: () => now });
    const admin = session('admin', 'boss');
    expect(await svc.verify('Bearer')).toBeNull();
    expect(await svc.verify(`lg_${'A'.repeat(43)}`)).toBeNull();

    const expiring = await svc.create(admin, { name: 'soon', scope: 'read', expiresInDays: 1 });
    expect(await svc.verify(expiring.secret)).not.toBeNull();
    now += 86_400_000;
    expect(await svc.verify(expiring.secret)).toBeNull();

    const revoked = await svc.create(admin, { name: 'gone', scope: 'read' });
    await svc.revoke(admin, revoked.token.id);
    expect(await svc.verify(revoked.secret)).toBeNull();

    const orphan = await svc.create(admin, { name: 'orphan', scope: 'ingest' });
    expect(await svc.verify(orphan.secret)).not.toBeNull();
    disabled.add('boss');
    expect(await svc.verify(orphan.secret)).toBeNull();
  });

  it('records last use at most once a minute', async () => {
    let now = 10_000_000;
    const { repo, touches } = memoryRepo();
    const svc = new ApiTokenService({ tokens: repo, log: silent, now: () => now });
    const { secret } = await svc.create(session('admin'), { name: 'busy', scope: 'read' });
    await svc.verify(secret);
    now += 30_000;
    await svc.verify(secret);
    now += 30_000;
    await svc.verify(secret);
    expect(touches).toEqual([10_000_000, 10_060_000]);
  });
});
