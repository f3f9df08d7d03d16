'use client';
/** The most recent uploads, refreshed by react-query while any of them is still in the pipeline. */
import { useQuery } from '@tanstack/react-query';
import { Fragment, useState } from 'react';
import { errorText } from './error-text';
import { gql } from './graphql-client';
import { UploadProgressView, UploadStatusBadge } from './UploadProgressView';
import { UPLOADS_KEY } from './use-upload-progress';
import { formatCount, percent, pipelineFraction, UPLOADS_QUERY, type UploadView } from './upload-view';

export const RECENT_LIMIT = 20;
const BUSY_REFRESH_MS = 3_000;

export function RecentUploads() {
  const [open, setOpen] = useState<string | null>(null);
  const { data, error, isPending } = useQuery({
    queryKey: UPLOADS_KEY,
    queryFn: ({ signal }) => gql<{ uploads: UploadView[] }>(UPLOADS_QUERY, { limit: RECENT_LIMIT }, signal),
    refetchInterval: (q) => (q.state.data?.uploads.some((u) => !u.done) ? BUSY_REFRESH_MS : false),
  });
  return (
    <section className="panel" aria-labelledby="recent-heading" data-testid="recent-uploads">
      <h2 id="recent-heading">Recent uploads</h2>
      {isPending ? <p className="muted">Loading uploads…</p> : null}
      {error ? (
        <p className="form-error" role="alert">
          {errorText(error)}
        </p>
      ) : null}
      {data && data.uploads.length === 0 ? <p className="muted">No uploads yet.</p> : null}
      {data && data.uploads.length > 0 ? (
        <div className="table-wrap">
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Started</th>
                <th scope="col">By</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Records
                </th>
                <th scope="col" className="num">
                  Rejected
                </th>
                <th scope="col" className="num">
                  Findings
                </th>
                <th scope="col">
                  <span className="sr-only">Details</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.uploads.map((u) => (
                <Fragment key={u.id}>
                  <tr data-testid="recent-upload" data-upload-id={u.id}>
                    <th scope="row" className="mono wrap-cell">
                      {u.name}
                    </th>
                    <td>{new Date(u.createdAt).toLocaleString('en-GB')}</td>
                    <td>{u.createdBy}</td>
                    <td>
                      <UploadStatusBadge upload={u} />
                      {u.done ? null : <span className="muted small"> {percent(pipelineFraction(u))}</span>}
                    </td>
                    <td className="num">{formatCount(u.records.read)}</td>
                    <td className={`num${u.records.rejected ? ' warn' : ''}`}>
                      {formatCount(u.records.rejected)}
                    </td>
                    <td className="num">{formatCount(u.findings)}</td>
                    <td>
                      <button
                        type="button"
                        className="ghost"
                        aria-expanded={open === u.id}
                        aria-controls={`details-${u.id}`}
                        onClick={() => setOpen(open === u.id ? null : u.id)}
                      >
                        {open === u.id ? 'Hide' : 'Details'}
                        <span className="sr-only"> of {u.name}</span>
                      </button>
                    </td>
                  </tr>
                  {open === u.id ? (
                    <tr id={`details-${u.id}`}>
                      <td colSpan={8}>
                        <UploadProgressView id={u.id} />
                      </td>
                    </tr>
                  ) : null}
                </Fragment>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
