import type { Metadata } from 'next';
import { redirect } from 'next/navigation';
import { Suspense } from 'react';
import { EngagementView } from '../../../../components/engagement/EngagementView';
import { lensIdFromSegment } from '../../../../components/engagement/route-id';
import { currentViewer } from '../../../../server/auth/current-viewer';
import { can } from '../../../../server/auth/roles';

export const metadata: Metadata = { title: 'Engagement' };

export default async function EngagementPage({ params }: { params: Promise<{ id: string }> }) {
  const viewer = await currentViewer();
  if (!viewer) redirect('/login');
  const { id } = await params;
  return (
    <Suspense fallback={<p className="muted">Loading lens…</p>}>
      <EngagementView id={lensIdFromSegment(id)} canWork={can(viewer.role, 'work')} me={viewer.username} />
    </Suspense>
  );
}
