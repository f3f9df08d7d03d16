/**
 * The one list of error codes (ENGINEERING.md §7). The API exposes only these codes and their messages;
 * every other error is masked. The UI maps codes to wording in one place (components/error-text.ts).
 */
export const ErrorCodes = {
  UNAUTHENTICATED: 'Sign in to continue.',
  FORBIDDEN: 'Your role does not allow this.',
  BAD_INPUT: 'The request is not valid.',
  NOT_FOUND: 'Not found.',
  CONFLICT: 'The object changed or already exists.',
  INVALID_TRANSITION: 'This status change is not allowed.',
  RATE_LIMITED: 'Too many attempts; wait and try again.',
  CSRF: 'The request lacks a valid CSRF header.',
  UNAVAILABLE: 'A backing service is unavailable.',
  PAYLOAD_TOO_LARGE: 'The upload is too large.',
  INTERNAL: 'Internal error.',
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class AppError extends Error {
  constructor(
    public readonly code: ErrorCode,
    message?: string,
    public readonly details?: Record<string, unknown>,
  ) {
    super(message ?? ErrorCodes[code]);
    this.name = 'AppError';
  }
}

export function isAppError(e: unknown): e is AppError {
  return e instanceof AppError;
}
