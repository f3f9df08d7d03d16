'use client';
/**
 * The upload page: choose files, send them one after another to POST /api/ingest (bytes progress from
 * the browser), then follow each through the pipeline stages live; recent uploads below.
 */
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useReducer, useRef } from 'react';
import { errorText } from './error-text';
import { RecentUploads } from './RecentUploads';
import styles from './Upload.module.css';
import { uploadFile, type IngestedUpload } from './upload-client';
import { formatBytes, percent, plural } from './upload-view';
import { UPLOADS_KEY } from './use-upload-progress';
import { UploadDropZone } from './UploadDropZone';
import { UploadProgressView } from './UploadProgressView';

interface FileJob {
  key: string;
  file: File;
  state: 'waiting' | 'sending' | 'sent' | 'error' | 'cancelled';
  sent: number;
  total: number;
  upload?: IngestedUpload;
  error?: unknown;
}

type Action =
  | { type: 'add'; files: File[] }
  | { type: 'start'; key: string }
  | { type: 'progress'; key: string; sent: number; total: number }
  | { type: 'sent'; key: string; upload: IngestedUpload }
  | { type: 'failed'; key: string; error: unknown }
  | { type: 'cancelled'; key: string }
  | { type: 'clear' };

let counter = 0;

function reducer(jobs: FileJob[], action: Action): FileJob[] {
  const patch = (key: string, p: Partial<FileJob>) => jobs.map((j) => (j.key === key ? { ...j, ...p } : j));
  switch (action.type) {
    case 'add':
      return [
        ...jobs,
        ...action.files.map((file) => ({
          key: `f${++counter}`,
          file,
          state: 'waiting' as const,
          sent: 0,
          total: file.size,
        })),
      ];
    case 'start':
      return patch(action.key, { state: 'sending' });
    case 'progress':
      return patch(action.key, { sent: action.sent, total: action.total });
    case 'sent':
      return patch(action.key, {
        state: 'sent',
        upload: action.upload,
        sent: jobs.find((j) => j.key === action.key)?.total ?? 0,
      });
    case 'failed':
      return patch(action.key, { state: 'error', error: action.error });
    case 'cancelled':
      return patch(action.key, { state: 'cancelled' });
    case 'clear':
      return jobs.filter((j) => j.state === 'waiting' || j.state === 'sending');
  }
}

export function UploadPanel({ canUpload }: { canUpload: boolean }) {
  const qc = useQueryClient();
  const [jobs, dispatch] = useReducer(reducer, []);
  const controllers = useRef(new Map<string, AbortController>());

  // One file on the wire at a time: the next starts when the previous one's request is answered.
  useEffect(() => {
    if (jobs.some((j) => j.state === 'sending')) return;
    const next = jobs.find((j) => j.state === 'waiting');
    if (!next) return;
    const ac = new AbortController();
    controllers.current.set(next.key, ac);
    dispatch({ type: 'start', key: next.key });
    uploadFile(next.file, {
      signal: ac.signal,
      onProgress: (sent, total) => dispatch({ type: 'progress', key: next.key, sent, total }),
    })
      .then(
        (upload) => {
          dispatch({ type: 'sent', key: next.key, upload });
          void qc.invalidateQueries({ queryKey: UPLOADS_KEY });
        },
        (error: unknown) => {
          if (error instanceof DOMException && error.name === 'AbortError')
            dispatch({ type: 'cancelled', key: next.key });
          else dispatch({ type: 'failed', key: next.key, error });
        },
      )
      .finally(() => controllers.current.delete(next.key));
  }, [jobs, qc]);

  // Leaving the page stops uploads in flight.
  useEffect(() => {
    const current = controllers.current;
    return () => current.forEach((c) => c.abort());
  }, []);

  const add = useCallback((files: File[]) => dispatch({ type: 'add', files }), []);
  const finished = jobs.filter(
    (j) => j.state === 'sent' || j.state === 'error' || j.state === 'cancelled',
  ).length;

  return (
    <div className="stack">
      {canUpload ? (
        <section aria-labelledby="send-heading" className="stack">
          <h2 id="send-heading" className="sr-only">
            Send telemetry
          </h2>
          <UploadDropZone onFiles={add} />
          {jobs.length > 0 ? (
            <ul className={styles.files} aria-label="Files">
              {jobs.map((job) => (
                <FileCard
                  key={job.key}
                  job={job}
                  onCancel={() => controllers.current.get(job.key)?.abort()}
                />
              ))}
            </ul>
          ) : null}
          {finished > 0 ? (
            <div>
              <button type="button" className="ghost" onClick={() => dispatch({ type: 'clear' })}>
                Clear finished
              </button>
            </div>
          ) : null}
        </section>
      ) : (
        <section className="panel">
          <p className="form-error">Your role does not allow uploads.</p>
        </section>
      )}
      <RecentUploads />
    </div>
  );
}

const STATE_TEXT: Record<FileJob['state'], string> = {
  waiting: 'Waiting',
  sending: 'Uploading',
  sent: 'Uploaded',
  error: 'Refused',
  cancelled: 'Cancelled',
};

function FileCard({ job, onCancel }: { job: FileJob; onCancel: () => void }) {
  const headingId = `file-${job.key}`;
  const fraction = job.total > 0 ? job.sent / job.total : job.state === 'sent' ? 1 : 0;
  return (
    <li className={styles.card} aria-labelledby={headingId} data-testid="file-card" data-file={job.file.name}>
      <div className={styles.cardHead}>
        <h3 id={headingId}>{job.file.name}</h3>
        <span className="muted small">{formatBytes(job.file.size)}</span>
        <span className={styles.badge} data-status={job.state} data-testid="file-state">
          {STATE_TEXT[job.state]}
        </span>
      </div>
      {job.state === 'sending' || job.state === 'waiting' ? (
        <div className={styles.bar}>
          <span className={styles.label} id={`${headingId}-bytes`}>
            Bytes sent
          </span>
          <progress aria-labelledby={`${headingId}-bytes`} max={1} value={fraction} />
          <span className={styles.figure} aria-live="polite">
            {percent(fraction)} of {formatBytes(job.total)}
          </span>
          {job.state === 'sending' ? (
            <button type="button" className="ghost" onClick={onCancel}>
              Cancel
            </button>
          ) : null}
        </div>
      ) : null}
      {job.state === 'error' ? (
        <p className={styles.error} role="alert">
          {errorText(job.error)}
        </p>
      ) : null}
      {job.upload ? (
        <>
          <p className="muted small">
            {plural(job.upload.records, 'record')} in {plural(job.upload.chunks, 'chunk')} queued.
          </p>
          <UploadProgressView id={job.upload.id} />
        </>
      ) : null}
    </li>
  );
}
