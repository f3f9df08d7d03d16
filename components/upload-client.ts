/**
 * Sending one file to POST /api/ingest from the browser. XMLHttpRequest rather than fetch because only it
 * reports upload progress; the file goes as the raw body (the server detects the format, gzip included)
 * and is named by `?name=`.
 */
import { CSRF_HEADER, GqlError } from './graphql-client';

export interface IngestedUpload {
  id: string;
  name: string;
  records: number;
  chunks: number;
}

export const INGEST_ENDPOINT = '/api/ingest';

/** Errors carry the server's code, so components/error-text.ts words them like any other. */
export function uploadFile(
  file: File,
  opts: { onProgress?: (sent: number, total: number) => void; signal?: AbortSignal } = {},
): Promise<IngestedUpload> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `${INGEST_ENDPOINT}?name=${encodeURIComponent(file.name)}`);
    xhr.setRequestHeader(CSRF_HEADER, '1');
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => opts.onProgress?.(e.loaded, e.lengthComputable ? e.total : file.size);
    xhr.onerror = () => reject(new GqlError('NETWORK', 'The server could not be reached.'));
    xhr.onabort = () => reject(new DOMException('Upload cancelled', 'AbortError'));
    xhr.onload = () => {
      const body = parse(xhr.responseText);
      if (xhr.status === 202 && body && Array.isArray(body.uploads) && isUpload(body.uploads[0])) {
        resolve(body.uploads[0]);
        return;
      }
      const err = body && typeof body.error === 'object' && body.error !== null ? body.error : {};
      const code = typeof err.code === 'string' ? err.code : xhr.status >= 500 ? 'UNAVAILABLE' : 'INTERNAL';
      const message = typeof err.message === 'string' ? err.message : `Upload failed (HTTP ${xhr.status}).`;
      reject(new GqlError(code, message, { status: xhr.status }));
    };
    opts.signal?.addEventListener('abort', () => xhr.abort(), { once: true });
    xhr.send(file);
  });
}

interface AnswerBody {
  uploads?: unknown;
  error?: { code?: unknown; message?: unknown } | null;
}

function parse(text: string): AnswerBody | null {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null ? (v as AnswerBody) : null;
  } catch {
    return null;
  }
}

function isUpload(v: unknown): v is IngestedUpload {
  if (typeof v !== 'object' || v === null) return false;
  const u = v as Record<string, unknown>;
  return (
    typeof u.id === 'string' &&
    typeof u.name === 'string' &&
    typeof u.records === 'number' &&
    typeof u.chunks === 'number'
  );
}
