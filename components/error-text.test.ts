import { describe, expect, it } from 'vitest';
import { ErrorCodes } from '../domain/errors';
import { errorText } from './error-text';
import { GqlError } from './graphql-client';

describe('errorText', () => {
  it('has wording for every error code', () => {
    for (const code of Object.keys(ErrorCodes)) {
      expect(errorText(new GqlError(code, 'server says'))).not.toBe('');
    }
  });

  it('words sign-in failures for the sign-in form', () => {
    expect(errorText(new GqlError('UNAUTHENTICATED', 'x'), 'login')).toBe('Wrong username or password.');
    expect(errorText(new GqlError('RATE_LIMITED', 'x'), 'login')).toMatch(/Too many/);
    expect(errorText(new GqlError('UNAUTHENTICATED', 'x'))).toMatch(/Sign in again/);
  });

  it('uses the server message for input problems and hides it for internal ones', () => {
    expect(errorText(new GqlError('BAD_INPUT', 'username: too short'))).toBe('username: too short');
    expect(errorText(new GqlError('INTERNAL', 'stack trace here'))).not.toContain('stack');
    expect(errorText(new Error('raw'))).toMatch(/went wrong/);
    expect(errorText(new GqlError('SOMETHING_NEW', 'x'))).toMatch(/went wrong/);
  });
});
