import { describe, expect, it } from 'vitest';
import { AppError } from '../../domain/errors';
import {
  bodyKind,
  byteLimit,
  checkContentEncoding,
  declaredLength,
  defaultUploadName,
  errorAnswer,
  formatBytes,
  uploadName,
} from './ingest-request';

const h = (init: Record<string, string>) => new Headers(init);
const codeOf = (fn: () => unknown) => {
  try {
    fn();
    return 'none';
  } catch (e) {
    return e instanceof AppError ? e.code : 'other';
  }
};

describe('body kind', () => {
  it('treats multipart/form-data with a boundary as files and anything else as raw telemetry', () => {
    expect(bodyKind(h({ 'content-type': 'multipart/form-data; boundary=----x' }))).toBe('multipart');
    expect(bodyKind(h({ 'content-type': 'Multipart/Form-Data;boundary="a b"' }))).toBe('multipart');
    expect(bodyKind(h({ 'content-type': 'application/x-ndjson' }))).toBe('raw');
    expect(bodyKind(h({ 'content-type': 'application/octet-stream' }))).toBe('raw');
    expect(bodyKind(h({}))).toBe('raw');
  });

  it('refuses multipart without a boundary and other multipart types', () => {
    expect(codeOf(() => bodyKind(h({ 'content-type': 'multipart/form-data' })))).toBe('BAD_INPUT');
    expect(codeOf(() => bodyKind(h({ 'content-type': 'multipart/form-data; charset=utf-8' })))).toBe(
      'BAD_INPUT',
    );
    expect(codeOf(() => bodyKind(h({ 'content-type': 'multipart/mixed; boundary=x' })))).toBe('BAD_INPUT');
  });
});

describe('content encoding', () => {
  it('passes plain and gzip bodies on and refuses other encodings with 415', () => {
    for (const ok of ['', 'identity', 'gzip', 'GZIP', 'x-gzip']) {
      expect(
        codeOf(() => checkContentEncoding(h(ok ? { 'content-encoding': ok } : {}))),
        ok,
      ).toBe('none');
    }
    for (const bad of ['br', 'deflate', 'gzip, gzip', 'zstd']) {
      let status = 0;
      try {
        checkContentEncoding(h({ 'content-encoding': bad }));
      } catch (e) {
        status = errorAnswer(e).status;
      }
      expect(status, bad).toBe(415);
    }
  });
});

describe('declared length', () => {
  it('reads Content-Length, allows its absence and refuses garbage', () => {
    expect(declaredLength(h({ 'content-length': '1234' }))).toBe(1234);
    expect(declaredLength(h({}))).toBeNull();
    expect(codeOf(() => declaredLength(h({ 'content-length': '-1' })))).toBe('BAD_INPUT');
    expect(codeOf(() => declaredLength(h({ 'content-length': '12abc' })))).toBe('BAD_INPUT');
  });
});

describe('byte limit', () => {
  const run = async (chunks: number[], max: number) => {
    const source = new ReadableStream<Uint8Array>({
      start(c) {
        for (const n of chunks) c.enqueue(new Uint8Array(n));
        c.close();
      },
    });
    let total = 0;
    const reader = source.pipeThrough(byteLimit(max)).getReader();
    for (;;) {
      const r = await reader.read();
      if (r.done) return total;
      total += r.value.byteLength;
    }
  };

  it('passes up to the limit through unchanged', async () => {
    expect(await run([10, 20, 30], 60)).toBe(60);
  });

  it('fails with PAYLOAD_TOO_LARGE as soon as the limit is passed', async () => {
    const err = await run([10, 20, 31], 60).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('PAYLOAD_TOO_LARGE');
    expect(errorAnswer(err).status).toBe(413);
  });
});

describe('upload names', () => {
  it('keeps the last path segment of a file name', () => {
    expect(uploadName('C:\\logs\\host1\\sysmon.jsonl', 'x')).toBe('sysmon.jsonl');
    expect(uploadName('../../etc/passwd', 'x')).toBe('passwd');
  });

  it('removes control and invisible formatting characters and limits the length', () => {
    expect(uploadName('evil\u202egpj.exe', 'x')).toBe('evil gpj.exe');
    expect(uploadName('a\r\nb\u0000c\u200bd', 'x')).toBe('a b c d');
    expect(uploadName('é'.repeat(300), 'x')).toBe('é'.repeat(200));
  });

  it('falls back when nothing usable is left', () => {
    for (const empty of [null, undefined, '', '   ', '/', '..', '\u0000']) {
      expect(uploadName(empty, 'fallback')).toBe('fallback');
    }
    expect(defaultUploadName(Date.UTC(2024, 0, 2, 3, 4, 5), 2)).toBe('upload-2024-01-02-03-04-05-2');
  });
});

describe('error answers', () => {
  it('maps codes to HTTP statuses and masks unknown errors', () => {
    const cases: Array<[AppError['code'], number]> = [
      ['UNAUTHENTICATED', 401],
      ['FORBIDDEN', 403],
      ['CSRF', 403],
      ['BAD_INPUT', 400],
      ['PAYLOAD_TOO_LARGE', 413],
      ['UNAVAILABLE', 503],
    ];
    for (const [code, status] of cases) {
      expect(errorAnswer(new AppError(code))).toMatchObject({ status, body: { error: { code } } });
    }
    const masked = errorAnswer(new Error('ECONNREFUSED 10.0.0.1:6379'));
    expect(masked).toEqual({
      status: 500,
      body: { error: { code: 'INTERNAL', message: 'Internal error.' } },
    });
  });

  it('formats sizes for messages', () => {
    expect(formatBytes(2 * 1024 ** 3)).toBe('2 GiB');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(12)).toBe('12 bytes');
  });
});
