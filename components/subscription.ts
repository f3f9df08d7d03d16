/**
 * GraphQL subscriptions in the browser: POST /api/graphql with `Accept: text/event-stream` (Yoga's
 * server-sent events), read with fetch so the CSRF header can be sent (EventSource cannot send headers).
 * Resolves when the server completes the stream; rejects on network or GraphQL errors; aborting the signal
 * closes the connection (the server then stops its work for this client).
 */
import { CSRF_HEADER, GqlError } from './graphql-client';
import { SseParser } from './sse';

interface NextPayload<T> {
  data?: T | null;
  errors?: Array<{ message?: unknown; extensions?: Record<string, unknown> }>;
}

export async function subscribe<T>(
  query: string,
  variables: Record<string, unknown>,
  opts: { onNext: (data: T) => void; signal: AbortSignal },
): Promise<void> {
  let res: Response;
  try {
    res = await fetch('/api/graphql', {
      method: 'POST',
      credentials: 'same-origin',
      headers: {
        'content-type': 'application/json',
        accept: 'text/event-stream',
        [CSRF_HEADER]: '1',
      },
      body: JSON.stringify({ query, variables }),
      signal: opts.signal,
    });
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    throw new GqlError('NETWORK', 'The server could not be reached.');
  }
  if (!res.ok || !res.body || !res.headers.get('content-type')?.startsWith('text/event-stream')) {
    throw await errorOf(res);
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const parser = new SseParser();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      for (const event of parser.push(decoder.decode(value, { stream: true }))) {
        if (event.event === 'complete') return;
        if (event.event !== 'next') continue;
        const payload = JSON.parse(event.data) as NextPayload<T>;
        const first = payload.errors?.[0];
        if (first) {
          const code = typeof first.extensions?.code === 'string' ? first.extensions.code : 'INTERNAL';
          throw new GqlError(code, typeof first.message === 'string' ? first.message : 'Request failed.');
        }
        if (payload.data) opts.onNext(payload.data);
      }
    }
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

async function errorOf(res: Response): Promise<GqlError> {
  try {
    const body = (await res.json()) as NextPayload<unknown>;
    const first = body.errors?.[0];
    const code = typeof first?.extensions?.code === 'string' ? first.extensions.code : 'INTERNAL';
    return new GqlError(code, typeof first?.message === 'string' ? first.message : `HTTP ${res.status}`);
  } catch {
    return new GqlError(
      res.status >= 500 ? 'UNAVAILABLE' : 'INTERNAL',
      `Unexpected response (HTTP ${res.status}).`,
    );
  }
}
