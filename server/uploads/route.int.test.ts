/**
 * The Next.js route module itself (app/api/ingest/route.ts), called with a Request: it wires the
 * handler to the process's services from the environment (REDIS_URL, NEO4J_* of the integration setup)
 * under its own queue prefix.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

process.env.LENSGRAPH_QUEUE_PREFIX = `route${randomBytes(4).toString('hex')}`;

let POST: (request: Request) => Promise<Response>;
let closeServices: () => Promise<void>;

beforeAll(async () => {
  ({ POST } = await import('../../app/api/ingest/route'));
  ({ closeServices } = await import('../context'));
});

afterAll(async () => {
  await closeServices();
});

describe('app/api/ingest/route.ts', () => {
  it('answers JSON errors for requests without credentials or CSRF header', async () => {
    const anonymous = await POST(
      new Request('http://localhost/api/ingest', {
        method: 'POST',
        headers: { 'x-lensgraph-csrf': '1' },
        body: '{}',
      }),
    );
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({
      error: { code: 'UNAUTHENTICATED', message: 'Sign in to continue.' },
    });

    const noCsrf = await POST(new Request('http://localhost/api/ingest', { method: 'POST', body: '{}' }));
    expect(noCsrf.status).toBe(403);

    const badToken = await POST(
      new Request('http://localhost/api/ingest', {
        method: 'POST',
        headers: { authorization: `Bearer lg_${'A'.repeat(43)}` },
        body: '{}',
      }),
    );
    expect(badToken.status).toBe(401);
    expect(badToken.headers.get('www-authenticate')).toBe('Bearer');
  });
});
