/**
 * HTTP-level plugins for the GraphQL endpoint: CSRF protection and response headers (cookies).
 *
 * CSRF: the rule lives in server/auth/csrf.ts (shared with /api/ingest); see there for why.
 */
import type { Plugin } from 'graphql-yoga';
import { ErrorCodes } from '../../domain/errors';
import { hasCsrfHeader, needsCsrfHeader } from '../auth/csrf';

export { CSRF_HEADER, hasCsrfHeader, needsCsrfHeader } from '../auth/csrf';

export function csrfPlugin(): Plugin {
  return {
    onRequest({ request, url, endResponse, fetchAPI }) {
      if (!needsCsrfHeader(request.method, url, request.headers) || hasCsrfHeader(request.headers)) return;
      endResponse(
        new fetchAPI.Response(
          JSON.stringify({ errors: [{ message: ErrorCodes.CSRF, extensions: { code: 'CSRF' } }] }),
          { status: 403, headers: { 'content-type': 'application/graphql-response+json; charset=utf-8' } },
        ),
      );
    },
  };
}

/**
 * Validation errors (unknown field, depth and cost limits) are returned by the validation phase without
 * passing through error masking; give them the one code for a bad request.
 */
export function validationErrorCodePlugin(): Plugin {
  return {
    onValidate() {
      return ({ valid, result }) => {
        if (valid) return;
        for (const error of result) {
          (error.extensions as Record<string, unknown>)['code'] = 'BAD_INPUT';
        }
      };
    },
  };
}

/** Set-Cookie values queued by resolvers, per request. */
const pendingCookies = new WeakMap<Request, string[]>();

export function queueCookie(request: Request, value: string): void {
  const list = pendingCookies.get(request) ?? [];
  list.push(value);
  pendingCookies.set(request, list);
}

/**
 * Adds queued cookies; API answers are per-user, so nothing may cache them. Event streams
 * (subscriptions) must also not be compressed or buffered by anything in between, or updates arrive
 * all at once at the end.
 */
export function responseHeadersPlugin(): Plugin {
  return {
    onResponse({ request, response }) {
      if (response.headers.get('content-type')?.startsWith('text/event-stream')) {
        response.headers.set('cache-control', 'no-store, no-transform');
        response.headers.set('x-accel-buffering', 'no');
      } else {
        response.headers.set('cache-control', 'no-store');
      }
      for (const c of pendingCookies.get(request) ?? []) response.headers.append('set-cookie', c);
    },
  };
}
