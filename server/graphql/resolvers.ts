/** Thin resolvers: destructure arguments and context, call a service, shape the answer. */
import { clearSessionCookie, sessionCookie } from '../auth/cookies';
import type { AccountSummary } from '../auth/account-repository';
import { requirePermission } from '../auth/roles';
import type { Health } from '../health/health-service';
import type { GraphQLContext } from './context';

type NoArgs = Record<string, never>;
const iso = (ms: number) => new Date(ms).toISOString();

const account = (a: AccountSummary) => ({ ...a, createdAt: iso(a.createdAt) });

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
  },
};
