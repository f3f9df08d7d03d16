import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { Suspense } from 'react';
import { IncidentsView } from '../../../components/incidents/IncidentsView';
import { can } from '../../../server/auth/roles';
import { currentViewer } from '../../../server/auth/current-viewer';

export const metadata: Metadata = { title: 'Incidents' };

export default async function IncidentsPage() {
  const viewer = await currentViewer();
  if (!viewer) redirect('/login');
  return (
    <>
      <div className="page-head">
        <h1>Incidents</h1>
        <p className="muted">Lenses built from detections, highest score first. Updates arrive live.</p>
      </div>
      <Suspense fallback={<p className="muted">Loading lenses…</p>}>
        <IncidentsView me={viewer.username} canWork={can(viewer.role, 'work')} />
      </Suspense>
    </>
  );
}
