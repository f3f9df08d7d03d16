import { describe, expect, it } from 'vitest';
import { AppError } from '../../domain/errors';
import { can, requirePermission, ROLES, type Permission, type Role, type Viewer } from './roles';

const viewer = (role: Role): Viewer => ({ username: `u-${role}`, role, via: 'session' });

describe('roles', () => {
  it('grants read to everyone, work to analysts and admins, admin to admins only', () => {
    const matrix: Record<Role, Record<Permission, boolean>> = {
      viewer: { read: true, work: false, admin: false },
      analyst: { read: true, work: true, admin: false },
      admin: { read: true, work: true, admin: true },
    };
    for (const role of ROLES) {
      for (const permission of ['read', 'work', 'admin'] as const) {
        expect(can(role, permission), `${role} ${permission}`).toBe(matrix[role][permission]);
      }
    }
  });

  it('refuses a missing viewer as UNAUTHENTICATED and a weak role as FORBIDDEN', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (e) {
        return e instanceof AppError ? e.code : 'other';
      }
      return 'none';
    };
    expect(code(() => requirePermission(null, 'read'))).toBe('UNAUTHENTICATED');
    expect(code(() => requirePermission(viewer('viewer'), 'work'))).toBe('FORBIDDEN');
    expect(code(() => requirePermission(viewer('analyst'), 'admin'))).toBe('FORBIDDEN');
    expect(requirePermission(viewer('admin'), 'admin').username).toBe('u-admin');
  });
});
