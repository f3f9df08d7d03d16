/**
 * POST /api/ingest: telemetry over HTTP into the pipeline.
 *
 *   Authorization: Bearer <ingest token>              or  session cookie + x-lensgraph-csrf: 1
 *   raw body (any supported format, gzip or not)      ?name=<upload name>
 *   multipart/form-data with one or more files        one upload per file, named after the file
 *
 * Bodies are streamed straight into the ingester (records cut into chunks in Redis, announced to the
 * parse stage): nothing holds a whole upload in memory. The answer comes once every chunk is enqueued:
 *   202 { uploads: [{ id, name, records, chunks }] }
 * Errors: { error: { code, message } } with 400, 401, 403, 413, 415, 429, 503 or 500 (and `uploads` listing
 * any upload already created by the same request, e.g. the first files of a multipart body).
 *
 * Concurrency (issue #10): each caller (API token, or account for session uploads) may have at most
 * LENSGRAPH_MAX_CONCURRENT_UPLOADS requests in progress across every web process (upload-slots.ts). A
 * request takes one slot after authentication and before reading any of its body, and gives it back in
 * `finally` (success, error, client gone); one more answers 429 RATE_LIMITED with Retry-After and creates
 * nothing. A multipart request counts once, whatever its number of files: its files are read one after
 * another, so it never reads more than one upload at a time, and refusing it up front (rather than at its
 * second file) means a 429 never leaves half a form ingested.
 */
import { Readable } from 'node:stream';
import type { ReadableStream as NodeWebReadableStream } from 'node:stream/web';
import busboy from 'busboy';
import { AppError } from '../../domain/errors';
import type { Logger } from '../../lib/log';
import { hasCsrfHeader, needsCsrfHeader } from '../auth/csrf';
import { requirePermission, type Viewer } from '../auth/roles';
import type { AuthService } from '../auth/auth-service';
import type { UploadService } from './upload-service';
import type { UploadGate } from './upload-slots';
import {
  bodyKind,
  byteLimit,
  checkContentEncoding,
  declaredLength,
  defaultUploadName,
  errorAnswer,
  errorHeaders,
  MAX_FILES_PER_REQUEST,
  MAX_UPLOAD_BYTES,
  tooLarge,
  uploadName,
} from './ingest-request';

/** What the handler needs of pipeline/ingest.ts `Ingester`. */
export interface IngestSink {
  ingestStream(
    stream: NodeJS.ReadableStream | ReadableStream<Uint8Array>,
    opts: { name: string; user: string },
  ): Promise<{ uploadId: string; chunks: number; records: number }>;
}

export interface IngestHandlerDeps {
  services: {
    auth: Pick<AuthService, 'authenticate'>;
    uploads: Pick<UploadService, 'rememberTokenUpload'>;
    log: Logger;
  };
  ingester: IngestSink;
  /**
   * Uploads in progress per caller (upload-slots.ts `UploadSlots`; the route wires it). Without it
   * uploads are not limited: unit tests and the in-process test harness.
   */
  slots?: UploadGate;
  maxBytes?: number;
  maxFiles?: number;
  now?: () => number;
}

export interface IngestedUpload {
  id: string;
  name: string;
  records: number;
  chunks: number;
}

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', ...headers },
  });

/** An error raised after some uploads of the request were already created. */
class PartialFailure extends Error {
  constructor(
    readonly reason: unknown,
    readonly uploads: IngestedUpload[],
  ) {
    super('ingest request failed part way');
  }
}

export function createIngestHandler(deps: IngestHandlerDeps): (request: Request) => Promise<Response> {
  const maxBytes = deps.maxBytes ?? MAX_UPLOAD_BYTES;
  const maxFiles = deps.maxFiles ?? MAX_FILES_PER_REQUEST;
  const now = deps.now ?? Date.now;
  const log = deps.services.log.child({ component: 'ingest' });

  const ingestOne = async (
    viewer: Viewer,
    stream: NodeJS.ReadableStream | ReadableStream<Uint8Array>,
    name: string,
  ): Promise<IngestedUpload> => {
    const r = await deps.ingester.ingestStream(stream, { name, user: viewer.username });
    await deps.services.uploads.rememberTokenUpload(viewer, r.uploadId);
    log.info('upload received', {
      id: r.uploadId,
      name,
      records: r.records,
      chunks: r.chunks,
      by: viewer.username,
    });
    return { id: r.uploadId, name, records: r.records, chunks: r.chunks };
  };

  const raw = async (request: Request, viewer: Viewer, url: URL): Promise<IngestedUpload[]> => {
    checkContentEncoding(request.headers);
    if (request.body === null) throw new AppError('BAD_INPUT', 'The request has no body.');
    const name = uploadName(url.searchParams.get('name'), defaultUploadName(now()));
    return [await ingestOne(viewer, request.body.pipeThrough(byteLimit(maxBytes)), name)];
  };

  const multipart = async (request: Request, viewer: Viewer): Promise<IngestedUpload[]> => {
    if (request.body === null) throw new AppError('BAD_INPUT', 'The request has no body.');
    const enc = (request.headers.get('content-encoding') ?? '').trim().toLowerCase();
    if (enc !== '' && enc !== 'identity') {
      throw new AppError('BAD_INPUT', 'Compress the files inside the form, not the form itself.', {
        httpStatus: 415,
      });
    }
    const bb = busboy({
      headers: Object.fromEntries(request.headers.entries()),
      defParamCharset: 'utf8',
      limits: { files: maxFiles, fileSize: maxBytes, fields: 20, fieldSize: 4096, parts: maxFiles + 20 },
    });
    const results: Array<Promise<IngestedUpload>> = [];
    let tooManyFiles = false;
    bb.on('file', (_field, file, info) => {
      const name = uploadName(info.filename, defaultUploadName(now(), results.length + 1));
      const result = ingestOne(viewer, Readable.from(filePart(file, maxBytes)), name).catch(
        (err: unknown) => {
          // Failed before (or while) reading the file: drain it, or busboy waits for it forever.
          file.resume();
          throw err;
        },
      );
      // Settled below, after the whole form; until then a rejection must not count as unhandled.
      result.catch(() => undefined);
      results.push(result);
    });
    bb.on('filesLimit', () => {
      tooManyFiles = true;
    });
    const source = Readable.fromWeb(request.body.pipeThrough(byteLimit(maxBytes)) as NodeWebReadableStream);
    const parsed = new Promise<void>((resolve, reject) => {
      bb.on('close', resolve);
      bb.on('error', (err) => {
        source.destroy();
        reject(err);
      });
    });
    // An error of the body (too large, client gone) ends the form and the file being read.
    source.on('error', (err) => bb.destroy(err));
    source.pipe(bb);
    const [form] = await Promise.allSettled([parsed]);
    // Every file started by now; wait for all of them, then report the first problem (the body's first).
    const files = await Promise.allSettled(results);
    const uploads = files.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    const failed = [form, ...files].find((r) => r?.status === 'rejected');
    if (failed?.status === 'rejected') throw new PartialFailure(failed.reason, uploads);
    if (tooManyFiles) {
      throw new PartialFailure(new AppError('BAD_INPUT', `At most ${maxFiles} files per request.`), uploads);
    }
    if (uploads.length === 0) throw new AppError('BAD_INPUT', 'The form carries no file.');
    return uploads;
  };

  return async (request: Request): Promise<Response> => {
    try {
      const url = new URL(request.url);
      if (request.method.toUpperCase() !== 'POST') {
        return json(405, { error: { code: 'BAD_INPUT', message: 'Use POST.' } }, { allow: 'POST' });
      }
      if (needsCsrfHeader(request.method, url, request.headers) && !hasCsrfHeader(request.headers)) {
        throw new AppError('CSRF');
      }
      const viewer = requirePermission(await deps.services.auth.authenticate(request.headers), 'ingest');
      const length = declaredLength(request.headers);
      if (length !== null && length > maxBytes) throw tooLarge(maxBytes);
      const kind = bodyKind(request.headers);
      // Before the first byte of the body is read: over the limit, nothing is read or created.
      const slot = await deps.slots?.acquire(viewer);
      try {
        const uploads = kind === 'multipart' ? await multipart(request, viewer) : await raw(request, viewer, url);
        return json(202, { uploads });
      } finally {
        await slot?.release();
      }
    } catch (err) {
      const uploads = err instanceof PartialFailure ? err.uploads : [];
      const cause = err instanceof PartialFailure ? err.reason : err;
      const { status, body } = errorAnswer(cause);
      if (status >= 500) log.error('ingest failed', { err: cause });
      else log.info('ingest refused', { code: body.error.code, message: body.error.message });
      return json(status, uploads.length > 0 ? { ...body, uploads } : body, errorHeaders(cause, status));
    }
  };
}

/**
 * The bytes of one multipart file. When the consumer stops early (the parser refused the input) the rest
 * of the part is drained, not destroyed: busboy waits for each file stream to end before it reads on.
 * A file cut at busboy's size limit fails as too large instead of ending as if complete.
 */
async function* filePart(file: Readable & { truncated?: boolean }, maxBytes: number): AsyncGenerator<Buffer> {
  let ended = false;
  try {
    for await (const chunk of file.iterator({ destroyOnReturn: false })) {
      if (file.truncated) throw tooLarge(maxBytes);
      yield chunk as Buffer;
    }
    if (file.truncated) throw tooLarge(maxBytes);
    ended = true;
  } finally {
    if (!ended && !file.destroyed) file.resume();
  }
}
