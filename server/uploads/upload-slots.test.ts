/**
 * The pure parts of the upload concurrency limit: who an upload counts against, the refusal, the timings.
 * The Redis side (atomic acquire, expiry, renewal, release): ingest-slots.int.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { AppError } from '../../domain/errors';
import type { Viewer } from '../auth/roles';
import { errorAnswer, errorHeaders } from './ingest-request';
import { slotTimings, tooManyUploads, uploadCaller, UPLOAD_SLOT_TTL_MS } from './upload-slots';

const token = (id: string, username = `token:${id}`): Viewer => ({
  username,
  role: 'viewer',
  via: 'token',
  token: { id, name: id, scope: 'ingest', createdBy: 'admin' },
});
const user = (username: string): Viewer => ({ username, role: 'analyst', via: 'session' });

describe('uploadCaller', () => {
  it('counts a token by its id and a session by its account, never mixing the two', () => {
    expect(uploadCaller(token('t1'))).toBe(uploadCaller(token('t1', 'renamed')));
    expect(uploadCaller(token('t1'))).not.toBe(uploadCaller(token('t2')));
    expect(uploadCaller(user('alice'))).toBe(uploadCaller(user('alice')));
    expect(uploadCaller(user('alice'))).not.toBe(uploadCaller(user('bob')));
    // An account named like a token id is still another caller.
    expect(uploadCaller(user('t1'))).not.toBe(uploadCaller(token('t1')));
  });

  it('is a fixed-size digest, whatever the input (no input shapes key names)', () => {
    for (const v of [token('t1'), user('a:b*c\n{x}'), user('x'.repeat(10_000))]) {
      expect(uploadCaller(v)).toMatch(/^[0-9a-f]{64}$/);
    }
  });
});

describe('tooManyUploads', () => {
  it('is RATE_LIMITED, answered 429 with Retry-After', () => {
    const err = tooManyUploads(4, 5);
    expect(err).toBeInstanceOf(AppError);
    expect(errorAnswer(err)).toEqual({
      status: 429,
      body: { error: { code: 'RATE_LIMITED', message: expect.stringContaining('At most 4 uploads at a time') } },
    });
    expect(errorHeaders(err, 429)).toEqual({ 'retry-after': '5' });
    expect(tooManyUploads(1, 5).message).toContain('At most 1 upload at a time');
  });
});

describe('errorHeaders', () => {
  it('asks for a bearer token on 401 and says when to retry on 429 (whole seconds, at least 1)', () => {
    expect(errorHeaders(new AppError('UNAUTHENTICATED'), 401)).toEqual({ 'www-authenticate': 'Bearer' });
    expect(errorHeaders(new AppError('RATE_LIMITED', undefined, { retryAfterSeconds: 2.2 }), 429)).toEqual({
      'retry-after': '3',
    });
    expect(errorHeaders(new AppError('RATE_LIMITED', undefined, { retryAfterSeconds: 0 }), 429)).toEqual({
      'retry-after': '1',
    });
    expect(errorHeaders(new AppError('RATE_LIMITED'), 429)).toEqual({ 'retry-after': '1' });
    expect(errorHeaders(new AppError('BAD_INPUT'), 400)).toEqual({});
  });
});

describe('slotTimings', () => {
  it('renews a quarter of the lifetime by default, and never less often than twice per lifetime', () => {
    expect(slotTimings({ limit: 1 })).toEqual({ ttlMs: UPLOAD_SLOT_TTL_MS, renewMs: UPLOAD_SLOT_TTL_MS / 4 });
    expect(slotTimings({ limit: 1, ttlMs: 400 })).toEqual({ ttlMs: 400, renewMs: 100 });
    expect(slotTimings({ limit: 1, ttlMs: 400, renewMs: 1000 })).toEqual({ ttlMs: 400, renewMs: 200 });
    expect(slotTimings({ limit: 1, ttlMs: 0, renewMs: 0 })).toEqual({ ttlMs: 1, renewMs: 1 });
  });
});
