'use client';
/**
 * What the detection engines loaded: Sigma rules (folders, loaded and correlation counts, skipped rules
 * with reasons) and analyzers (loaded list, failed modules with their errors). Rule titles, paths and
 * errors come from rule files: React text only.
 */
import { useQuery } from '@tanstack/react-query';
import { errorText } from './error-text';
import { gql } from './graphql-client';

const REPORTS = /* GraphQL */ `
  query RuleReports {
    sigmaReport {
      dirs
      loaded
      correlations
      skipped {
        path
        title
        reason
      }
      loadedAt
    }
    analyzerReport {
      loaded {
        id
        title
        techniques
        source
      }
      failed {
        name
        error
      }
      loadedAt
    }
  }
`;

interface ReportsData {
  sigmaReport: {
    dirs: string[];
    loaded: number;
    correlations: number;
    skipped: Array<{ path: string; title: string | null; reason: string }>;
    loadedAt: string | null;
  };
  analyzerReport: {
    loaded: Array<{ id: string; title: string; techniques: string[]; source: string }>;
    failed: Array<{ name: string; error: string }>;
    loadedAt: string | null;
  };
}

const when = (iso: string | null) => (iso ? `loaded ${new Date(iso).toISOString().slice(0, 19).replace('T', ' ')} UTC` : 'not loaded yet');

export function RuleReports() {
  const { data, error, isPending } = useQuery({
    queryKey: ['rule-reports'],
    queryFn: ({ signal }) => gql<ReportsData>(REPORTS, {}, signal),
    staleTime: 60_000,
  });
  if (isPending) return <p className="muted">Loading detection reports…</p>;
  if (!data) {
    return (
      <p className="form-error" role="alert">
        {errorText(error)}
      </p>
    );
  }
  const s = data.sigmaReport;
  const a = data.analyzerReport;
  return (
    <div className="stack">
      <section className="panel" aria-labelledby="sigma-heading" data-testid="sigma-report">
        <h2 id="sigma-heading">Sigma rules</h2>
        <dl className="service-list">
          <div>
            <dt>Loaded</dt>
            <dd data-testid="sigma-loaded">{s.loaded.toLocaleString('en-US')}</dd>
          </div>
          <div>
            <dt>Correlations</dt>
            <dd>{s.correlations.toLocaleString('en-US')}</dd>
          </div>
          <div>
            <dt>Skipped</dt>
            <dd data-testid="sigma-skipped-count">{s.skipped.length.toLocaleString('en-US')}</dd>
          </div>
        </dl>
        <p className="muted small">
          {s.dirs.length ? `From ${s.dirs.join(', ')}` : 'No rule folders configured (LENSGRAPH_SIGMA_DIRS).'} ·{' '}
          {when(s.loadedAt)}
        </p>
        {s.skipped.length > 0 ? (
          <details>
            <summary>Skipped rules ({s.skipped.length})</summary>
            <div className="table-wrap">
              <table className="data-table">
                <thead>
                  <tr>
                    <th scope="col">Rule file</th>
                    <th scope="col">Title</th>
                    <th scope="col">Reason</th>
                  </tr>
                </thead>
                <tbody>
                  {s.skipped.map((r) => (
                    <tr key={r.path}>
                      <td className="mono small wrap-cell">{r.path}</td>
                      <td>{r.title ?? '—'}</td>
                      <td className="small wrap-cell">{r.reason}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </details>
        ) : null}
      </section>
      <section className="panel" aria-labelledby="analyzers-heading" data-testid="analyzer-report">
        <h2 id="analyzers-heading">Analyzers</h2>
        <dl className="service-list">
          <div>
            <dt>Loaded</dt>
            <dd data-testid="analyzers-loaded">{a.loaded.length}</dd>
          </div>
          <div>
            <dt>Failed</dt>
            <dd data-testid="analyzers-failed">{a.failed.length}</dd>
          </div>
        </dl>
        <p className="muted small">{when(a.loadedAt)}</p>
        {a.failed.length > 0 ? (
          <ul className="failures">
            {a.failed.map((f) => (
              <li key={f.name} className="form-error">
                <strong className="mono">{f.name}</strong>: {f.error}
              </li>
            ))}
          </ul>
        ) : null}
        <details>
          <summary>Loaded analyzers ({a.loaded.length})</summary>
          <div className="table-wrap">
            <table className="data-table">
              <thead>
                <tr>
                  <th scope="col">Id</th>
                  <th scope="col">Title</th>
                  <th scope="col">Techniques</th>
                  <th scope="col">Source</th>
                </tr>
              </thead>
              <tbody>
                {a.loaded.map((x) => (
                  <tr key={x.id}>
                    <td className="mono small">{x.id}</td>
                    <td>{x.title}</td>
                    <td className="small">{x.techniques.join(', ') || '—'}</td>
                    <td className="small">{x.source}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </details>
      </section>
    </div>
  );
}
