/**
 * What the UI says for each error code: the one place (ENGINEERING.md §7). Components call
 * `errorText(err)` (or with a context where the same code reads differently) and render the result as
 * text.
 */
import { ErrorCodes, type ErrorCode } from '../domain/errors';
import { GqlError } from './graphql-client';

export type ErrorContext = 'default' | 'login';

const TEXT: Record<ErrorCode | 'NETWORK', string> = {
  ...ErrorCodes,
  UNAUTHENTICATED: 'Your session has ended. Sign in again.',
  FORBIDDEN: 'Your role does not allow this.',
  RATE_LIMITED: 'Too many attempts. Wait a few minutes and try again.',
  CSRF: 'The request was refused by the server’s cross-site protection. Reload the page and try again.',
  UNAVAILABLE: 'A backing service (Redis or Neo4j) is unavailable. Try again shortly.',
  INTERNAL: 'Something went wrong on the server. Try again; if it persists, check the server log.',
  NETWORK: 'The server could not be reached. Check your connection.',
};

const LOGIN_TEXT: Partial<Record<ErrorCode, string>> = {
  UNAUTHENTICATED: 'Wrong username or password.',
  FORBIDDEN: 'This account is disabled. Ask an administrator.',
  BAD_INPUT: 'Enter a username and a password.',
  RATE_LIMITED: 'Too many failed sign-in attempts. Wait 15 minutes and try again.',
};

/** Codes whose server message is written for the user and more precise than the generic text. */
const USE_SERVER_MESSAGE = new Set(['BAD_INPUT', 'CONFLICT', 'NOT_FOUND', 'INVALID_TRANSITION']);

const isKnown = (code: string): code is ErrorCode | 'NETWORK' => code in TEXT;

export function errorCode(err: unknown): string {
  return err instanceof GqlError ? err.code : 'INTERNAL';
}

export function errorText(err: unknown, context: ErrorContext = 'default'): string {
  const code = errorCode(err);
  if (context === 'login') {
    const text = LOGIN_TEXT[code as ErrorCode];
    if (text) return text;
  }
  if (err instanceof GqlError && USE_SERVER_MESSAGE.has(code) && err.message) return err.message;
  return isKnown(code) ? TEXT[code] : TEXT.INTERNAL;
}
