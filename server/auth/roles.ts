/**
 * Roles and what they may do, declared once. Services call `requirePermission`; the UI uses `can` to
 * hide controls a role cannot use (the server still decides).
 *
 *   viewer   read everything
 *   analyst  read, and work incidents (triage, comment, upload telemetry)
 *   admin    everything, including accounts
 */
import { z } from 'zod';
import { AppError } from '../../domain/errors';

export const ROLES = ['admin', 'analyst', 'viewer'] as const;
export const RoleSchema = z.enum(ROLES);
export type Role = z.infer<typeof RoleSchema>;

export const PERMISSIONS = ['read', 'work', 'admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

const GRANTS: Record<Role, ReadonlySet<Permission>> = {
  viewer: new Set<Permission>(['read']),
  analyst: new Set<Permission>(['read', 'work']),
  admin: new Set<Permission>(['read', 'work', 'admin']),
};

export function can(role: Role, permission: Permission): boolean {
  return GRANTS[role].has(permission);
}

/** Who is making a request, however they authenticated. */
export interface Viewer {
  username: string;
  role: Role;
  /** How the request was authenticated; `token` is reserved for API tokens (a later session). */
  via: 'session' | 'token';
  /** Session id hash (never the id itself), for logout. */
  sessionHash?: string;
}

/** The viewer if they hold `permission`; UNAUTHENTICATED without one, FORBIDDEN with the wrong role. */
export function requirePermission(viewer: Viewer | null, permission: Permission): Viewer {
  if (!viewer) throw new AppError('UNAUTHENTICATED');
  if (!can(viewer.role, permission)) throw new AppError('FORBIDDEN');
  return viewer;
}
