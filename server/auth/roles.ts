/**
 * Roles and what they may do, declared once. Services call `requirePermission`; the UI uses `can` to
 * hide controls a role cannot use (the server still decides).
 *
 *   viewer   read everything
 *   analyst  read, and work incidents (triage, comment, upload telemetry)
 *   admin    everything, including accounts and API tokens
 *
 * API tokens act with a scope rather than a role: a `read` token may only read (as a viewer would), an
 * `ingest` token may only send telemetry (and read the uploads it sent, see server/uploads). A token's
 * viewer also carries the role `viewer`, so code that wrongly checks `can(viewer.role, ...)` directly
 * still grants a token nothing beyond reading.
 */
import { z } from 'zod';
import { AppError } from '../../domain/errors';

export const ROLES = ['admin', 'analyst', 'viewer'] as const;
export const RoleSchema = z.enum(ROLES);
export type Role = z.infer<typeof RoleSchema>;

export const PERMISSIONS = ['read', 'work', 'ingest', 'admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const TOKEN_SCOPES = ['ingest', 'read'] as const;
export const TokenScopeSchema = z.enum(TOKEN_SCOPES);
export type TokenScope = z.infer<typeof TokenScopeSchema>;

const GRANTS: Record<Role, ReadonlySet<Permission>> = {
  viewer: new Set<Permission>(['read']),
  analyst: new Set<Permission>(['read', 'work', 'ingest']),
  admin: new Set<Permission>(['read', 'work', 'ingest', 'admin']),
};

const SCOPE_GRANTS: Record<TokenScope, ReadonlySet<Permission>> = {
  read: new Set<Permission>(['read']),
  ingest: new Set<Permission>(['ingest']),
};

export function can(role: Role, permission: Permission): boolean {
  return GRANTS[role].has(permission);
}

/** The API token behind a request (never its secret). */
export interface TokenIdentity {
  id: string;
  name: string;
  scope: TokenScope;
  /** The admin who created it. */
  createdBy: string;
}

/** Who is making a request, however they authenticated. */
export interface Viewer {
  /** The account's username; for a token `token:<name>` (usernames never contain a colon). */
  username: string;
  role: Role;
  /** How the request was authenticated. */
  via: 'session' | 'token';
  /** Session id hash (never the id itself), for logout. */
  sessionHash?: string;
  /** Set when `via` is `token`. */
  token?: TokenIdentity;
}

/** Whether this viewer (session or token) holds `permission`. */
export function allows(viewer: Viewer, permission: Permission): boolean {
  if (viewer.via === 'token') return viewer.token ? SCOPE_GRANTS[viewer.token.scope].has(permission) : false;
  return can(viewer.role, permission);
}

/** The viewer if they hold `permission`; UNAUTHENTICATED without one, FORBIDDEN with the wrong role. */
export function requirePermission(viewer: Viewer | null, permission: Permission): Viewer {
  if (!viewer) throw new AppError('UNAUTHENTICATED');
  if (!allows(viewer, permission)) throw new AppError('FORBIDDEN');
  return viewer;
}
