/**
 * HTTP-level plugins for the GraphQL endpoint: CSRF protection and response headers (cookies).
 *
 * CSRF: a browser attaches cookies to cross-site requests it is told to make, but it will not add a
 * custom header to them without a CORS preflight, which this server never approves (CORS is off). So
 * every request that could act with the browser's cookie must carry `x-lensgraph-csrf: 1`:
 *   - every POST (including login, against login CSRF), and
 *   - every GET that carries a query.
 * Requests authenticated with `Authorization: Bearer` and no cookie are exempt: browsers never add
 * that header by themselves. The session cookie is also SameSite=Strict (defence in depth).
 */
import type { Plugin } from 'graphql-yoga';
import { ErrorCodes } from '../../domain/errors';

export const CSRF_HEADER = 'x-lensgraph-csrf';

export function needsCsrfHeader(method: string, url: URL, headers: Headers): boolean {
  const m = method.toUpperCase();
  if (m === 'OPTIONS' || m === 'HEAD') return false;
  if (m === 'GET' && !url.searchParams.has('query')) return false;
  const bearerOnly = /^Bearer\s/i.test(headers.get('authorization') ?? '') && !headers.get('cookie');
  return !bearerOnly;
}

export function hasCsrfHeader(headers: Headers): boolean {
  return headers.get(CSRF_HEADER) === '1';
}

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

/** Adds queued cookies; API answers are per-user, so nothing may cache them. */
export function responseHeadersPlugin(): Plugin {
  return {
    onResponse({ request, response }) {
      response.headers.set('cache-control', 'no-store');
      for (const c of pendingCookies.get(request) ?? []) response.headers.append('set-cookie', c);
    },
  };
}
