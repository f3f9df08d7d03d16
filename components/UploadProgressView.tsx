'use client';
/**
 * One upload through the pipeline: a bar per stage (chunks done of total), then, once done, the summary
 * (records read / accepted / skipped / rejected, graph writes, findings) and the rejected records.
 * Everything here comes from the upload's input; it is rendered as text only.
 */
import { useQuery } from '@tanstack/react-query';
import { errorText } from './error-text';
import { gql } from './graphql-client';
import styles from './Upload.module.css';
import { useUploadProgress } from './use-upload-progress';
import {
  formatCount,
  percent,
  pipelineFraction,
  REJECTED_QUERY,
  stageFraction,
  stageState,
  STAGE_STATE_TEXT,
  STATUS_TEXT,
  uploadStatus,
  type KeyCount,
  type RejectedRecordView,
  type UploadView,
} from './upload-view';

export const REJECTED_SHOWN = 50;

export function UploadProgressView({ id }: { id: string }) {
  const { data, error, isPending } = useUploadProgress(id);
  if (isPending) return <p className="muted">Loading progress…</p>;
  if (!data) {
    return (
      <p className={styles.error} role="alert">
        {error ? errorText(error) : 'This upload is no longer known (uploads are kept for 14 days).'}
      </p>
    );
  }
  return <UploadDetails upload={data} />;
}

export function UploadStatusBadge({ upload }: { upload: UploadView }) {
  const status = uploadStatus(upload);
  return (
    <span className={styles.badge} data-status={status} data-testid="upload-status">
      {STATUS_TEXT[status]}
    </span>
  );
}

function UploadDetails({ upload }: { upload: UploadView }) {
  return (
    <div data-testid={`upload-${upload.id}`} data-done={upload.done ? 'true' : 'false'}>
      <p className={styles.pipelineLine} aria-live="polite">
        Pipeline <UploadStatusBadge upload={upload} />
        {upload.done ? null : <span className="muted small">{percent(pipelineFraction(upload))}</span>}
      </p>
      <ol className={styles.stages} aria-label="Pipeline stages">
        {upload.stages.map((s) => {
          const state = stageState(s, upload.done);
          const total = s.total === null ? '…' : formatCount(s.total);
          return (
            <li
              key={s.stage}
              className={`${styles.bar} ${styles.stage}`}
              data-state={state}
              data-testid={`stage-progress-${s.stage}`}
            >
              <span className={styles.label} id={`stage-${upload.id}-${s.stage}`}>
                {s.stage}
              </span>
              <progress
                aria-labelledby={`stage-${upload.id}-${s.stage}`}
                max={1}
                value={state === 'complete' ? 1 : stageFraction(s)}
              />
              <span className={styles.figure}>
                <span aria-hidden="true">
                  {state === 'complete' ? '✓ ' : state === 'incomplete' ? '✗ ' : ''}
                </span>
                {formatCount(s.done)} / {total} {s.total === 1 ? 'chunk' : 'chunks'}
                <span className="sr-only">, {STAGE_STATE_TEXT[state]}</span>
              </span>
            </li>
          );
        })}
      </ol>
      {upload.error ? (
        <p className={styles.error} role="alert">
          {upload.error}
        </p>
      ) : null}
      {upload.done ? <UploadSummary upload={upload} /> : null}
    </div>
  );
}

function UploadSummary({ upload }: { upload: UploadView }) {
  const r = upload.records;
  const figures: Array<[string, number, string]> = [
    ['Records read', r.read, 'read'],
    ['Accepted', r.accepted, 'accepted'],
    ['Skipped', r.skipped, 'skipped'],
    ['Rejected', r.rejected, 'rejected'],
    ['Nodes written', upload.graph.nodesWritten, 'nodes'],
    ['Edges written', upload.graph.edgesWritten, 'edges'],
    ['Findings', upload.findings, 'findings'],
  ];
  if (upload.failed > 0) figures.push(['Failed chunks', upload.failed, 'failed']);
  return (
    <section aria-label="Summary" data-testid="upload-summary">
      <dl className={styles.summary}>
        {figures.map(([label, value, key]) => (
          <div key={key} data-testid={`summary-${key}`}>
            <dt>{label}</dt>
            <dd>{formatCount(value)}</dd>
          </div>
        ))}
      </dl>
      <Breakdown title="Skipped by event type" items={r.skippedByType} testId="skipped-by-type" />
      <Breakdown title="Rejected by reason" items={r.rejectedByReason} testId="rejected-by-reason" />
      {r.rejected > 0 ? <RejectedRecords id={upload.id} total={r.rejected} /> : null}
    </section>
  );
}

function Breakdown({ title, items, testId }: { title: string; items: KeyCount[]; testId: string }) {
  if (items.length === 0) return null;
  return (
    <details className={styles.breakdown} data-testid={testId}>
      <summary>
        {title} ({items.length})
      </summary>
      <ul>
        {items.map((i) => (
          <li key={i.key}>
            <span className="mono">{i.key}</span>: {formatCount(i.count)}
          </li>
        ))}
      </ul>
    </details>
  );
}

function RejectedRecords({ id, total }: { id: string; total: number }) {
  const { data, error, isPending } = useQuery({
    queryKey: ['rejected', id],
    queryFn: ({ signal }) =>
      gql<{ rejectedRecords: RejectedRecordView[] }>(REJECTED_QUERY, { id, limit: REJECTED_SHOWN }, signal),
    staleTime: Infinity,
  });
  const headingId = `rejected-${id}`;
  return (
    <section className={styles.rejected} aria-labelledby={headingId} data-testid="rejected-records">
      <h4 id={headingId}>
        Rejected records
        {total > REJECTED_SHOWN ? ` (first ${REJECTED_SHOWN} of ${formatCount(total)})` : ''}
      </h4>
      {isPending ? <p className="muted">Loading…</p> : null}
      {error ? (
        <p className={styles.error} role="alert">
          {errorText(error)}
        </p>
      ) : null}
      {data ? (
        <div className="table-wrap">
          <table className="data-table">
            <thead>
              <tr>
                <th scope="col" className="num">
                  Record
                </th>
                <th scope="col">Reason</th>
                <th scope="col">First bytes</th>
              </tr>
            </thead>
            <tbody>
              {data.rejectedRecords.map((rec) => (
                <tr key={`${rec.source}:${rec.recordNo}`} data-testid="rejected-record">
                  <td className="num">{formatCount(rec.recordNo)}</td>
                  <td>{rec.reason}</td>
                  <td>
                    {/* Untrusted input: React renders it as text; never as markup. */}
                    <code className={styles.raw}>{rec.firstBytes}</code>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
