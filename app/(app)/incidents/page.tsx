import type { Metadata } from 'next';

export const metadata: Metadata = { title: 'Incidents' };

export default function IncidentsPage() {
  return (
    <>
      <div className="page-head">
        <h1>Incidents</h1>
      </div>
      <section className="panel empty-state">
        <h2>No engagements yet</h2>
        <p className="muted">
          Engagements appear here when detections on uploaded telemetry build a lens worth investigating.
        </p>
      </section>
    </>
  );
}
