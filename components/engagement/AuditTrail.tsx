/** Who changed what on the lens, newest first; before/after values shown as JSON text. */
import type { AuditEntry } from './api';
import { shortTime } from './format';

const json = (v: unknown) => (v === null || v === undefined ? '—' : JSON.stringify(v, null, 1));

export function AuditTrail({ entries, truncated }: { entries: AuditEntry[]; truncated: boolean }) {
  if (entries.length === 0) return <p className="muted">No changes recorded yet.</p>;
  const sorted = [...entries].sort((a, b) => b.at.localeCompare(a.at));
  return (
    <>
      {truncated ? <p className="muted small">Showing the latest {entries.length} entries.</p> : null}
      <div className="table-wrap">
        <table className="data-table" data-testid="audit-trail">
          <thead>
            <tr>
              <th scope="col">When (UTC)</th>
              <th scope="col">Who</th>
              <th scope="col">Action</th>
              <th scope="col">Target</th>
              <th scope="col">Before</th>
              <th scope="col">After</th>
            </tr>
          </thead>
          <tbody>
            {sorted.map((a) => (
              <tr key={a.id} data-testid="audit-entry">
                <td className="mono small">{shortTime(a.at)}</td>
                <td>{a.actor}</td>
                <td>{a.action}</td>
                <td className="mono small wrap-cell">{a.target}</td>
                <td>
                  <pre className="audit-value">{json(a.before)}</pre>
                </td>
                <td>
                  <pre className="audit-value">{json(a.after)}</pre>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
