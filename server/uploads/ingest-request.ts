/**
 * Reading an HTTP ingest request: which shape the body has, what the upload is called, how large it may
 * be, and how errors are answered. Pure helpers for server/uploads/ingest-handler.ts.
 */
import { AppError, ErrorCodes, type ErrorCode } from '../../domain/errors';

/**
 * Most bytes one request may carry (compressed bytes as sent). A constant for now: configuration keys are
 * declared in lib/config.ts (LENSGRAPH_MAX_UPLOAD_BYTES would be the natural one).
 */
export const MAX_UPLOAD_BYTES = 2 * 1024 * 1024 * 1024;
/** Files one multipart request may carry. */
export const MAX_FILES_PER_REQUEST = 50;
const MAX_NAME_CHARS = 200;

export type BodyKind = 'multipart' | 'raw';

/** `multipart/form-data` (with a boundary) or anything else, which is read as the raw telemetry bytes. */
export function bodyKind(headers: Headers): BodyKind {
  const type = (headers.get('content-type') ?? '').toLowerCase();
  if (/^multipart\/form-data\s*;/.test(type)) {
    if (!/;\s*boundary=/.test(type))
      throw new AppError('BAD_INPUT', 'multipart/form-data without a boundary');
    return 'multipart';
  }
  if (type.startsWith('multipart/')) throw new AppError('BAD_INPUT', 'Only multipart/form-data is accepted');
  return 'raw';
}

/**
 * Content-Encoding of a raw body. Gzip is accepted and passed on as it is: the parser detects gzip by its
 * magic bytes and decompresses with bomb guards. Anything else is refused (415).
 */
export function checkContentEncoding(headers: Headers): void {
  const raw = (headers.get('content-encoding') ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'identity' || raw === 'gzip' || raw === 'x-gzip') return;
  throw new AppError(
    'BAD_INPUT',
    `Content-Encoding ${raw.slice(0, 40)} is not supported; send gzip or plain bytes`,
    {
      httpStatus: 415,
    },
  );
}

/** The declared body length, or null when absent (chunked); BAD_INPUT when malformed. */
export function declaredLength(headers: Headers): number | null {
  const raw = headers.get('content-length');
  if (raw === null) return null;
  if (!/^\d{1,16}$/.test(raw.trim())) throw new AppError('BAD_INPUT', 'Malformed Content-Length');
  return Number(raw.trim());
}

export function tooLarge(maxBytes: number): AppError {
  return new AppError('PAYLOAD_TOO_LARGE', `The upload is larger than ${formatBytes(maxBytes)}.`, {
    maxBytes,
  });
}

/**
 * A byte stream's pass-through that fails with PAYLOAD_TOO_LARGE once more than `maxBytes` went by, so an
 * upload is cut off as soon as it is too large, whatever Content-Length said.
 */
export function byteLimit(maxBytes: number): TransformStream<Uint8Array, Uint8Array> {
  let seen = 0;
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      seen += chunk.byteLength;
      if (seen > maxBytes) controller.error(tooLarge(maxBytes));
      else controller.enqueue(chunk);
    },
  });
}

/**
 * A display name for an upload from an untrusted file name or `?name=`: the last path segment, control and
 * invisible formatting characters removed, whitespace collapsed, at most 200 characters; `fallback`
 * when nothing is left. It is shown as text, never as markup, but it should still read as what it is.
 */
export function uploadName(raw: string | null | undefined, fallback: string): string {
  if (!raw) return fallback;
  const last = raw.split(/[\\/]/).pop() ?? '';
  const cleaned = last
    // C0/C1 controls, bidi overrides and isolates, zero-width characters, BOM: removing them is the point.
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const name = Array.from(cleaned).slice(0, MAX_NAME_CHARS).join('');
  return name === '' || name === '.' || name === '..' ? fallback : name;
}

/** Default name of a raw upload without `?name=`. */
export function defaultUploadName(now: number, index = 1): string {
  return `upload-${new Date(now).toISOString().slice(0, 19).replace(/[:T]/g, '-')}-${index}`;
}

const STATUS: Partial<Record<ErrorCode, number>> = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  CSRF: 403,
  BAD_INPUT: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RATE_LIMITED: 429,
  PAYLOAD_TOO_LARGE: 413,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};

export interface ErrorAnswer {
  status: number;
  body: { error: { code: ErrorCode; message: string } };
}

/** The JSON error answer for an error: AppError code and message; anything else masked as INTERNAL. */
export function errorAnswer(err: unknown): ErrorAnswer {
  if (err instanceof AppError) {
    const override = err.details?.['httpStatus'];
    const status = typeof override === 'number' ? override : (STATUS[err.code] ?? 500);
    return { status, body: { error: { code: err.code, message: err.message } } };
  }
  return { status: 500, body: { error: { code: 'INTERNAL', message: ErrorCodes.INTERNAL } } };
}

/**
 * Headers that go with an error answer: the scheme to authenticate with (401), and when to ask again
 * (429, from the error's `retryAfterSeconds`).
 */
export function errorHeaders(err: unknown, status: number): Record<string, string> {
  if (status === 401) return { 'www-authenticate': 'Bearer' };
  if (status === 429) {
    const after = err instanceof AppError ? err.details?.['retryAfterSeconds'] : undefined;
    const seconds = typeof after === 'number' && Number.isFinite(after) ? Math.max(1, Math.ceil(after)) : 1;
    return { 'retry-after': String(seconds) };
  }
  return {};
}

export function formatBytes(n: number): string {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${n} bytes` : `${Number.isInteger(v) ? v : v.toFixed(1)} ${units[i]}`;
}
