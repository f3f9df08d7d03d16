import { describe, expect, it } from 'vitest';
import { AppError } from '../../domain/errors';
import {
  allows,
  can,
  PERMISSIONS,
  requirePermission,
  ROLES,
  type Permission,
  type Role,
  type TokenScope,
  type Viewer,
} from './roles';

const viewer = (role: Role): Viewer => ({ username: `u-${role}`, role, via: 'session' });
const tokenViewer = (scope: TokenScope): Viewer => ({
  username: `token:t-${scope}`,
  role: 'viewer',
  via: 'token',
  token: { id: 'id', name: `t-${scope}`, scope, createdBy: 'admin' },
});

const code = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return e instanceof AppError ? e.code : 'other';
  }
  return 'none';
};

describe('roles', () => {
  it('grants read to everyone, work and ingest to analysts and admins, admin to admins only', () => {
    const matrix: Record<Role, Record<Permission, boolean>> = {
      viewer: { read: true, work: false, ingest: false, admin: false },
      analyst: { read: true, work: true, ingest: true, admin: false },
      admin: { read: true, work: true, ingest: true, admin: true },
    };
    for (const role of ROLES) {
      for (const permission of PERMISSIONS) {
        expect(can(role, permission), `${role} ${permission}`).toBe(matrix[role][permission]);
        expect(allows(viewer(role), permission), `${role} ${permission}`).toBe(matrix[role][permission]);
      }
    }
  });

  it('refuses a missing viewer as UNAUTHENTICATED and a weak role as FORBIDDEN', () => {
    expect(code(() => requirePermission(null, 'read'))).toBe('UNAUTHENTICATED');
    expect(code(() => requirePermission(viewer('viewer'), 'work'))).toBe('FORBIDDEN');
    expect(code(() => requirePermission(viewer('viewer'), 'ingest'))).toBe('FORBIDDEN');
    expect(code(() => requirePermission(viewer('analyst'), 'admin'))).toBe('FORBIDDEN');
    expect(requirePermission(viewer('admin'), 'admin').username).toBe('u-admin');
  });

  it('limits tokens to their scope, whatever the role field says', () => {
    const read = tokenViewer('read');
    const ingest = tokenViewer('ingest');
    expect(PERMISSIONS.filter((p) => allows(read, p))).toEqual(['read']);
    expect(PERMISSIONS.filter((p) => allows(ingest, p))).toEqual(['ingest']);
    // A token viewer with a forged admin role still gets only its scope.
    expect(allows({ ...ingest, role: 'admin' }, 'admin')).toBe(false);
    // A token viewer without its token identity gets nothing.
    expect(PERMISSIONS.filter((p) => allows({ ...read, token: undefined }, p))).toEqual([]);
    expect(code(() => requirePermission(ingest, 'read'))).toBe('FORBIDDEN');
    expect(code(() => requirePermission(read, 'ingest'))).toBe('FORBIDDEN');
  });
});
