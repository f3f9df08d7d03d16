/**
 * The CSRF rule shared by every endpoint that acts with the session cookie (GraphQL, /api/ingest).
 *
 * A browser attaches cookies to cross-site requests it is told to make, but it will not add a custom
 * header to them without a CORS preflight, which this server never approves (CORS is off). So every
 * request that could act with the browser's cookie must carry `x-lensgraph-csrf: 1`:
 *   - every POST (including login, against login CSRF), and
 *   - every GET that carries a query.
 * Requests authenticated with `Authorization: Bearer` and no cookie are exempt: browsers never add
 * that header by themselves. The session cookie is also SameSite=Strict (defence in depth).
 */
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
