import type { Metadata } from 'next';
import { PipelineHealth } from '../../../components/PipelineHealth';

export const metadata: Metadata = { title: 'Pipeline' };

export default function PipelinePage() {
  return (
    <>
      <div className="page-head">
        <h1>Pipeline</h1>
        <p className="muted">Backing services, workers and queues. Refreshes every 5 seconds.</p>
      </div>
      <PipelineHealth />
    </>
  );
}
