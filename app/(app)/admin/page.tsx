import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { AdminUsers } from '../../../components/AdminUsers';
import { ApiTokens } from '../../../components/ApiTokens';
import { currentViewer } from '../../../server/auth/current-viewer';
import { can } from '../../../server/auth/roles';

export const metadata: Metadata = { title: 'Admin' };

export default async function AdminPage() {
  const viewer = await currentViewer();
  if (!viewer) redirect('/login');
  return (
    <>
      <div className="page-head">
        <h1>Admin</h1>
      </div>
      {can(viewer.role, 'admin') ? (
        <div className="stack">
          <AdminUsers me={viewer.username} />
          <ApiTokens />
        </div>
      ) : (
        <section className="panel">
          <p className="form-error">Your role does not allow account administration.</p>
        </section>
      )}
    </>
  );
}
