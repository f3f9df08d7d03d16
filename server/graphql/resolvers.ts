/** Thin resolvers: destructure arguments and context, call a service, shape the answer. */
import { STAGES } from '../../domain/stages';
import type { RejectedRecord, UploadProgress } from '../../lib/uploads';
import type { AccountSummary } from '../auth/account-repository';
import type { ApiTokenRecord } from '../auth/api-token';
import { clearSessionCookie, sessionCookie } from '../auth/cookies';
import { requirePermission } from '../auth/roles';
import type { Health } from '../health/health-service';
import type { GraphQLContext } from './context';

type NoArgs = Record<string, never>;
const iso = (ms: number) => new Date(ms).toISOString();

const account = (a: AccountSummary) => ({ ...a, createdAt: iso(a.createdAt) });

const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

const apiToken = (t: ApiTokenRecord) => ({
  ...t,
  createdAt: iso(t.createdAt),
  expiresAt: isoOrNull(t.expiresAt),
  lastUsedAt: isoOrNull(t.lastUsedAt),
  active: !t.revoked && (t.expiresAt === null || t.expiresAt > Date.now()),
});

const keyCounts = (counts: Record<string, number>) =>
  Object.entries(counts)
    .map(([key, count]) => ({ key, count }))
    .sort((a, b) => b.count - a.count || a.key.localeCompare(b.key));

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

export const upload = (p: UploadProgress) => ({
  id: p.id,
  name: p.name,
  createdAt: iso(p.createdAt),
  createdBy: p.createdBy,
  sealed: p.sealed,
  totalChunks: p.totalChunks,
  stages: STAGES.map((stage) => ({ stage, done: p.stages[stage] ?? 0, total: p.totalChunks })),
  records: {
    read: p.records.read,
    accepted: p.records.accepted,
    skipped: sum(p.records.skipped),
    rejected: sum(p.records.rejected),
    skippedByType: keyCounts(p.records.skipped),
    rejectedByReason: keyCounts(p.records.rejected),
  },
  graph: { nodesWritten: p.graph.nodesWritten, edgesWritten: p.graph.edgesWritten },
  findings: p.findings,
  done: p.done,
  failed: p.failed,
  error: p.error ?? null,
});

const rejectedRecord = ({ source, recordNo, reason, firstBytes }: RejectedRecord) => ({
  source,
  recordNo,
  reason,
  firstBytes,
});

const health = (h: Health) => ({
  ...h,
  checkedAt: iso(h.checkedAt),
  workers: h.workers.map((w) => ({ ...w, startedAt: iso(w.startedAt), lastSeen: iso(w.lastSeen) })),
});

export const resolvers = {
  Query: {
    me: (_: unknown, _args: NoArgs, { viewer }: GraphQLContext) => {
      const { username, role } = requirePermission(viewer, 'read');
      return { username, role };
    },
    health: async (_: unknown, _args: NoArgs, { services, viewer }: GraphQLContext) =>
      health(await services.health.health(viewer)),
    users: async (_: unknown, _args: NoArgs, { services, viewer }: GraphQLContext) =>
      (await services.users.list(viewer)).map(account),
    apiTokens: async (_: unknown, _args: NoArgs, { services, viewer }: GraphQLContext) =>
      (await services.apiTokens.list(viewer)).map(apiToken),
    uploads: async (_: unknown, { limit }: { limit?: number | null }, { services, viewer }: GraphQLContext) =>
      (await services.uploads.list(viewer, limit)).map(upload),
    upload: async (_: unknown, { id }: { id: string }, { services, viewer }: GraphQLContext) => {
      const p = await services.uploads.get(viewer, id);
      return p ? upload(p) : null;
    },
    rejectedRecords: async (
      _: unknown,
      { uploadId, limit }: { uploadId: string; limit?: number | null },
      { services, viewer }: GraphQLContext,
    ) => (await services.uploads.rejected(viewer, uploadId, limit)).map(rejectedRecord),
  },
  Subscription: {
    uploadProgress: {
      subscribe: (_: unknown, { id }: { id: string }, { services, viewer, signal }: GraphQLContext) =>
        services.uploads.watch(viewer, id, signal),
      resolve: (p: UploadProgress) => upload(p),
    },
  },
  Mutation: {
    login: async (
      _: unknown,
      { username, password }: { username: string; password: string },
      { services, viewer: previous, clientAddress, setCookie }: GraphQLContext,
    ) => {
      const { viewer, sessionId } = await services.auth.login(username, password, clientAddress, previous);
      const { secureCookies, sessionTtlSeconds } = services.settings;
      setCookie(sessionCookie(sessionId, { secure: secureCookies, maxAgeSeconds: sessionTtlSeconds }));
      return { username: viewer.username, role: viewer.role };
    },
    logout: async (_: unknown, _args: NoArgs, { services, viewer, setCookie }: GraphQLContext) => {
      // Clear the cookie even when the session already expired, so the browser drops it.
      setCookie(clearSessionCookie({ secure: services.settings.secureCookies }));
      await services.auth.logout(requirePermission(viewer, 'read'));
      return true;
    },
    createUser: async (
      _: unknown,
      args: { username: string; role: string; password: string },
      { services, viewer }: GraphQLContext,
    ) => account(await services.users.create(viewer, args)),
    setUserRole: async (
      _: unknown,
      { username, role }: { username: string; role: string },
      { services, viewer }: GraphQLContext,
    ) => account(await services.users.setRole(viewer, username, role)),
    disableUser: async (
      _: unknown,
      { username }: { username: string },
      { services, viewer }: GraphQLContext,
    ) => account(await services.users.setDisabled(viewer, username, true)),
    enableUser: async (
      _: unknown,
      { username }: { username: string },
      { services, viewer }: GraphQLContext,
    ) => account(await services.users.setDisabled(viewer, username, false)),
    createApiToken: async (
      _: unknown,
      args: { name: string; scope: string; expiresInDays?: number | null },
      { services, viewer }: GraphQLContext,
    ) => {
      const { token, secret } = await services.apiTokens.create(viewer, args);
      return { token: apiToken(token), secret };
    },
    revokeApiToken: async (_: unknown, { id }: { id: string }, { services, viewer }: GraphQLContext) =>
      apiToken(await services.apiTokens.revoke(viewer, id)),
  },
};
