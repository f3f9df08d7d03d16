import type { Metadata } from 'next';
import { PipelineHealth } from '../../../components/PipelineHealth';
import { RuleReports } from '../../../components/RuleReports';

export const metadata: Metadata = { title: 'Pipeline' };

export default function PipelinePage() {
  return (
    <>
      <div className="page-head">
        <h1>Pipeline</h1>
        <p className="muted">Backing services, workers and queues. Refreshes every 5 seconds.</p>
      </div>
      <div className="stack">
        <PipelineHealth />
        <h2 className="section-heading">Detections</h2>
        <RuleReports />
      </div>
    </>
  );
}
