import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { UploadPanel } from '../../../components/UploadPanel';
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
        <p className="muted">
          Files go through every pipeline stage: parse, identify, merge, analyze, engage. Scripts can send the
          same way with an API token: <code className="mono">POST /api/ingest</code>.
        </p>
      </div>
      <UploadPanel canUpload={can(viewer.role, 'ingest')} />
    </>
  );
}
