import { GraphQLError } from 'graphql';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../domain/errors';
import { isExpected, maskError } from './errors';

const ext = (e: Error) => (e as GraphQLError).extensions;

describe('maskError', () => {
  it('passes an AppError code and message, even when wrapped by graphql-js', () => {
    const wrapped = new GraphQLError('x', { originalError: new AppError('FORBIDDEN'), path: ['users'] });
    const masked = maskError(wrapped);
    expect(masked.message).toBe('Your role does not allow this.');
    expect(ext(masked)).toEqual({ code: 'FORBIDDEN' });
    expect((masked as GraphQLError).path).toEqual(['users']);
  });

  it('exposes only whitelisted AppError details', () => {
    const masked = maskError(
      new AppError('RATE_LIMITED', undefined, { retryAfterSeconds: 30, internal: 'secret' }),
    );
    expect(ext(masked)).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: 30 });
  });

  it('labels request errors (validation, limits) BAD_INPUT and keeps their message', () => {
    const masked = maskError(new GraphQLError('Query depth limit of 12 exceeded, found 14.'));
    expect(masked.message).toContain('depth limit');
    expect(ext(masked)).toMatchObject({ code: 'BAD_INPUT' });
  });

  it('masks anything else as INTERNAL without its message', () => {
    const secret = new Error('connect ECONNREFUSED 10.0.0.5:7687 password=hunter2');
    for (const e of [secret, new GraphQLError('boom', { originalError: secret, path: ['health'] })]) {
      const masked = maskError(e);
      expect(masked.message).toBe('Internal error.');
      expect(ext(masked)).toEqual({ code: 'INTERNAL' });
    }
    // An execution-time GraphQLError (non-null violation) is a server fault, not bad input.
    expect(ext(maskError(new GraphQLError('Cannot return null', { path: ['me'] })))).toEqual({
      code: 'INTERNAL',
    });
  });

  it('logs only unexpected errors as errors', () => {
    expect(isExpected(new AppError('UNAUTHENTICATED'))).toBe(true);
    expect(isExpected(new AppError('UNAVAILABLE'))).toBe(false);
    expect(isExpected(new Error('x'))).toBe(false);
  });
});
