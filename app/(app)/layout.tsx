import { redirect } from 'next/navigation';
import type { ReactNode } from 'react';
import { AppShell } from '../../components/AppShell';
import { currentViewer } from '../../server/auth/current-viewer';
import { can } from '../../server/auth/roles';

/** Every page in this group needs a session; without one, go to the sign-in page. */
export default async function SignedInLayout({ children }: { children: ReactNode }) {
  const viewer = await currentViewer();
  if (!viewer) redirect('/login');
  const shellViewer = {
    username: viewer.username,
    role: viewer.role,
    canWork: can(viewer.role, 'work'),
    canAdmin: can(viewer.role, 'admin'),
  };
  return <AppShell viewer={shellViewer}>{children}</AppShell>;
}
