import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { currentViewer } from '../../../server/auth/current-viewer';
import { can } from '../../../server/auth/roles';

export const metadata: Metadata = { title: 'Upload' };

export default async function UploadPage() {
  const viewer = await currentViewer();
  if (!viewer) redirect('/login');
  return (
    <>
      <div className="page-head">
        <h1>Upload telemetry</h1>
      </div>
      <section className="panel empty-state">
        {can(viewer.role, 'work') ? (
          <p className="muted">Uploading Sysmon and Windows event logs arrives in a later release.</p>
        ) : (
          <p className="form-error">Your role does not allow uploads.</p>
        )}
      </section>
    </>
  );
}
