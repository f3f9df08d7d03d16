/**
 * The browser's GraphQL client: POSTs to /api/graphql with the session cookie and the CSRF header, and
 * turns GraphQL errors into GqlError carrying the server's error code.
 */
export const CSRF_HEADER = 'x-lensgraph-csrf';

export class GqlError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly extensions: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = 'GqlError';
  }
}

interface GqlResponse<T> {
  data?: T | null;
  errors?: Array<{ message?: unknown; extensions?: Record<string, unknown> }>;
}

export async function gql<T>(
  query: string,
  variables: Record<string, unknown> = {},
  signal?: AbortSignal,
): Promise<T> {
  let res: Response;
  try {
    res = await fetch('/api/graphql', {
      method: 'POST',
      credentials: 'same-origin',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        [CSRF_HEADER]: '1',
      },
      body: JSON.stringify({ query, variables }),
      ...(signal ? { signal } : {}),
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new GqlError('NETWORK', 'The server could not be reached.');
  }
  let body: GqlResponse<T>;
  try {
    body = (await res.json()) as GqlResponse<T>;
  } catch {
    throw new GqlError(
      res.status >= 500 ? 'UNAVAILABLE' : 'INTERNAL',
      `Unexpected response (HTTP ${res.status}).`,
    );
  }
  const first = body.errors?.[0];
  if (first) {
    const code = typeof first.extensions?.code === 'string' ? first.extensions.code : 'INTERNAL';
    const message = typeof first.message === 'string' ? first.message : 'Request failed.';
    throw new GqlError(code, message, first.extensions ?? {});
  }
  if (body.data === undefined || body.data === null)
    throw new GqlError('INTERNAL', 'The response had no data.');
  return body.data;
}
