/**
 * Uploads in the browser: the GraphQL selections, the shape they return, and pure helpers that turn
 * progress into what the page shows (status, per-stage state, summary figures).
 */
export const STAGE_NAMES = ['parse', 'identify', 'merge', 'analyze', 'engage'] as const;

export interface KeyCount {
  key: string;
  count: number;
}

export interface UploadView {
  id: string;
  name: string;
  createdAt: string;
  createdBy: string;
  sealed: boolean;
  totalChunks: number | null;
  stages: Array<{ stage: string; done: number; total: number | null }>;
  records: {
    read: number;
    accepted: number;
    skipped: number;
    rejected: number;
    skippedByType: KeyCount[];
    rejectedByReason: KeyCount[];
  };
  graph: { nodesWritten: number; edgesWritten: number };
  findings: number;
  done: boolean;
  failed: number;
  error: string | null;
}

export interface RejectedRecordView {
  source: string;
  recordNo: number;
  reason: string;
  firstBytes: string;
}

export const UPLOAD_FIELDS = /* GraphQL */ `
  id
  name
  createdAt
  createdBy
  sealed
  totalChunks
  stages { stage done total }
  records {
    read accepted skipped rejected
    skippedByType { key count }
    rejectedByReason { key count }
  }
  graph { nodesWritten edgesWritten }
  findings
  done
  failed
  error
`;

export const UPLOAD_QUERY = `query Upload($id: ID!) { upload(id: $id) { ${UPLOAD_FIELDS} } }`;
export const UPLOADS_QUERY = `query Uploads($limit: Int) { uploads(limit: $limit) { ${UPLOAD_FIELDS} } }`;
export const UPLOAD_PROGRESS_SUBSCRIPTION = `subscription UploadProgress($id: ID!) {
  uploadProgress(id: $id) { ${UPLOAD_FIELDS} } }`;
export const REJECTED_QUERY = /* GraphQL */ `
  query RejectedRecords($id: ID!, $limit: Int) {
    rejectedRecords(uploadId: $id, limit: $limit) {
      source
      recordNo
      reason
      firstBytes
    }
  }
`;

export type UploadStatus = 'processing' | 'done' | 'done-with-problems' | 'failed';

/** Done with no failed chunk and no input error; failed when nothing got through at all. */
export function uploadStatus(u: Pick<UploadView, 'done' | 'failed' | 'error' | 'totalChunks'>): UploadStatus {
  if (!u.done) return 'processing';
  if (u.failed === 0 && !u.error) return 'done';
  if (u.totalChunks !== null && u.failed >= u.totalChunks && u.totalChunks > 0) return 'failed';
  return 'done-with-problems';
}

export const STATUS_TEXT: Record<UploadStatus, string> = {
  processing: 'Processing',
  done: 'Done',
  'done-with-problems': 'Done with problems',
  failed: 'Failed',
};

export type StageState = 'pending' | 'active' | 'complete' | 'incomplete';

/**
 * A stage is complete once it finished every chunk of a sealed upload, active once it started, and
 * incomplete when the upload ended (chunks failed for good) before it finished them all.
 */
export function stageState(s: { done: number; total: number | null }, uploadDone: boolean): StageState {
  if (s.total !== null && s.done >= s.total) return 'complete';
  if (uploadDone) return 'incomplete';
  return s.done > 0 ? 'active' : 'pending';
}

export const STAGE_STATE_TEXT: Record<StageState, string> = {
  pending: 'waiting',
  active: 'running',
  complete: 'complete',
  incomplete: 'incomplete',
};

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** Fraction 0..1 of a stage; unknown totals count as 0 until sealed. */
export function stageFraction(s: { done: number; total: number | null }): number {
  if (s.total === null) return 0;
  if (s.total === 0) return 1;
  return Math.min(1, s.done / s.total);
}

/** Overall pipeline fraction: the mean over stages. */
export function pipelineFraction(u: Pick<UploadView, 'stages' | 'done'>): number {
  if (u.done) return 1;
  if (u.stages.length === 0) return 0;
  return u.stages.reduce((a, s) => a + stageFraction(s), 0) / u.stages.length;
}

export function formatCount(n: number): string {
  return n.toLocaleString('en-US');
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[i]}`;
}

export function percent(fraction: number): string {
  return `${Math.floor(Math.max(0, Math.min(1, fraction)) * 100)}%`;
}
