/**
 * Error masking (ENGINEERING.md §7). Clients see:
 *   - AppError: its code (extensions.code) and message;
 *   - problems with the request itself (syntax, validation, limits, variables): code BAD_INPUT with
 *     GraphQL's message, which describes only the query the client sent;
 *   - anything else: code INTERNAL and a fixed message; the original goes to the server log.
 */
import { GraphQLError } from 'graphql';
import { createGraphQLError } from 'graphql-yoga';
import { AppError, ErrorCodes } from '../../domain/errors';
import type { Logger } from '../../lib/log';

/** AppError details that are safe to show; everything else in `details` stays on the server. */
const PUBLIC_DETAILS = ['retryAfterSeconds', 'field'] as const;

/**
 * graphql ships as both CommonJS and ESM; a bundler or test runner may load both, and then a
 * GraphQLError from one copy is not an instance of the other's class. Recognise it by name.
 */
export function isGraphQLError(error: unknown): error is GraphQLError {
  return error instanceof GraphQLError || (error instanceof Error && error.name === 'GraphQLError');
}

export function rootCause(error: unknown): unknown {
  let current = error;
  for (let i = 0; i < 10 && isGraphQLError(current) && current.originalError; i++) {
    current = current.originalError;
  }
  return current;
}

/** True for errors about the request (no execution path, not wrapping anything). */
function isRequestError(error: unknown): error is GraphQLError {
  return isGraphQLError(error) && !error.originalError && (!error.path || error.path.length === 0);
}

export function maskError(error: unknown): Error {
  const located = isGraphQLError(error) ? error : undefined;
  const where = located ? { nodes: located.nodes, positions: located.positions, path: located.path } : {};
  const root = rootCause(error);
  if (root instanceof AppError) {
    const extensions: Record<string, unknown> = { code: root.code };
    for (const key of PUBLIC_DETAILS)
      if (root.details?.[key] !== undefined) extensions[key] = root.details[key];
    return createGraphQLError(root.message, { ...where, extensions });
  }
  if (isRequestError(root)) {
    const http = root.extensions?.['http'];
    return createGraphQLError(root.message, {
      ...where,
      source: root.source,
      extensions: { code: 'BAD_INPUT', ...(http ? { http } : {}) },
    });
  }
  return createGraphQLError(ErrorCodes.INTERNAL, { ...where, extensions: { code: 'INTERNAL' } });
}

/** Whether an error is expected behaviour (a refused login, a bad query) rather than a fault to log. */
export function isExpected(error: unknown): boolean {
  const root = rootCause(error);
  if (root instanceof AppError) return root.code !== 'INTERNAL' && root.code !== 'UNAVAILABLE';
  return isRequestError(root);
}

/** Yoga's logger interface, onto ours; expected errors are logged at debug only. */
export function yogaLogger(log: Logger) {
  const describe = (args: unknown[]) => {
    const [first, ...rest] = args;
    const err = rootCause(first);
    if (err instanceof Error)
      return { msg: 'graphql', fields: { err, stack: err.stack, extra: rest.length ? rest : undefined } };
    return {
      msg: typeof first === 'string' ? first : 'graphql',
      fields: rest.length ? { extra: rest } : undefined,
    };
  };
  return {
    debug: (...args: unknown[]) => {
      const { msg, fields } = describe(args);
      log.debug(msg, fields);
    },
    info: (...args: unknown[]) => {
      const { msg, fields } = describe(args);
      log.info(msg, fields);
    },
    warn: (...args: unknown[]) => {
      const { msg, fields } = describe(args);
      log.warn(msg, fields);
    },
    error: (...args: unknown[]) => {
      const { msg, fields } = describe(args);
      if (isExpected(args[0])) log.debug(msg, fields);
      else log.error(msg, fields);
    },
  };
}
