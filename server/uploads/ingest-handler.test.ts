/**
 * The ingest endpoint with a fake ingester built on the real parser library (no Redis): request shapes,
 * streaming multipart files one after another, limits, and who is refused.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { AppError } from '../../domain/errors';
import type { Logger } from '../../lib/log';
import { readRecordsFromStream } from '../../pipeline/parsers';
import type { Role, Viewer } from '../auth/roles';
import { createIngestHandler, type IngestSink } from './ingest-handler';
import { tooManyUploads, uploadCaller, type UploadGate } from './upload-slots';

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

const LINE = JSON.stringify({
  EventID: 1,
  Hostname: 'H1',
  UtcTime: '2024-01-01 00:00:00.000',
  Image: 'C:\\a.exe',
});
const jsonl = (n: number) => Array.from({ length: n }, () => LINE).join('\n') + '\n';

/** Counts records like the real ingester would, through the real framing code. */
function countingIngester(opts: { failFirst?: boolean } = {}) {
  const calls: Array<{ name: string; user: string; records: number }> = [];
  let n = 0;
  const sink: IngestSink = {
    async ingestStream(stream, { name, user }) {
      n++;
      if (opts.failFirst && n === 1) throw new Error('redis down');
      let records = 0;
      for await (const _ of readRecordsFromStream(stream, { name })) records++;
      calls.push({ name, user, records });
      return { uploadId: `u${n}`, chunks: records > 0 ? 1 : 0, records };
    },
  };
  return { sink, calls };
}

function handler(sink: IngestSink, maxBytes?: number, maxFiles?: number, slots?: UploadGate) {
  const remembered: string[] = [];
  const auth = {
    async authenticate(headers: Headers): Promise<Viewer | null> {
      const bearer = headers.get('authorization');
      if (bearer === 'Bearer ingest')
        return {
          username: 'token:ci',
          role: 'viewer',
          via: 'token',
          token: { id: 't1', name: 'ci', scope: 'ingest', createdBy: 'admin' },
        };
      if (bearer === 'Bearer read')
        return {
          username: 'token:r',
          role: 'viewer',
          via: 'token',
          token: { id: 't2', name: 'r', scope: 'read', createdBy: 'admin' },
        };
      if (bearer) throw new AppError('UNAUTHENTICATED');
      const role = /lg_session=(\w+)/.exec(headers.get('cookie') ?? '')?.[1] as Role | undefined;
      return role ? { username: `u-${role}`, role, via: 'session' } : null;
    },
  };
  const uploads = {
    async rememberTokenUpload(_v: Viewer, id: string) {
      remembered.push(id);
    },
  };
  const handle = createIngestHandler({
    services: { auth, uploads, log: silent },
    ingester: sink,
    ...(maxBytes ? { maxBytes } : {}),
    ...(maxFiles ? { maxFiles } : {}),
    ...(slots ? { slots } : {}),
  });
  return { handle, remembered };
}

const session = (role: Role) => ({ cookie: `lg_session=${role}`, 'x-lensgraph-csrf': '1' });

const post = (body: BodyInit | null, headers: Record<string, string>, query = '') =>
  new Request(`http://localhost/api/ingest${query}`, {
    method: 'POST',
    headers,
    body,
    ...(body instanceof ReadableStream ? { duplex: 'half' } : {}),
  } as RequestInit);

function streamOf(chunks: Uint8Array[]): ReadableStream<Uint8Array> {
  return new ReadableStream({
    pull(c) {
      const next = chunks.shift();
      if (next) c.enqueue(next);
      else c.close();
    },
  });
}

/** Slots counted in memory (the Redis ones: ingest-slots.int.test.ts): `limit` per caller. */
function memoryGate(limit: number) {
  const held = new Map<string, number>();
  const log: string[] = [];
  const waiters: Array<{ entry: string; resolve: () => void }> = [];
  const note = (entry: string) => {
    log.push(entry);
    for (const w of waiters.filter((x) => x.entry === entry)) w.resolve();
  };
  /** Resolves once `entry` is logged (at once if it already is). */
  const logged = (entry: string) =>
    new Promise<void>((resolve) => (log.includes(entry) ? resolve() : waiters.push({ entry, resolve })));
  const gate: UploadGate = {
    async acquire(viewer) {
      const caller = uploadCaller(viewer);
      const n = held.get(caller) ?? 0;
      if (n >= limit) {
        note(`refused ${viewer.username}`);
        throw tooManyUploads(limit, 7);
      }
      held.set(caller, n + 1);
      note(`acquire ${viewer.username}`);
      let released = false;
      return {
        async release() {
          if (released) return;
          released = true;
          held.set(caller, (held.get(caller) ?? 1) - 1);
          note(`release ${viewer.username}`);
        },
      };
    },
  };
  return { gate, held, log, logged };
}

function form(files: Array<[string, string | Uint8Array<ArrayBuffer>]>): FormData {
  const f = new FormData();
  for (const [name, content] of files) f.append('file', new Blob([content]), name);
  return f;
}

describe('POST /api/ingest', () => {
  it('streams a raw body into one upload named by ?name=', async () => {
    const { sink, calls } = countingIngester();
    const { handle } = handler(sink);
    const res = await handle(post(jsonl(5), session('analyst'), '?name=host%2Fa.jsonl'));
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ uploads: [{ id: 'u1', name: 'a.jsonl', records: 5, chunks: 1 }] });
    expect(calls).toEqual([{ name: 'a.jsonl', user: 'u-analyst', records: 5 }]);
  });

  it('takes a gzip body as it is (the parser decompresses it)', async () => {
    const { sink, calls } = countingIngester();
    const { handle } = handler(sink);
    const res = await handle(
      post(gzipSync(jsonl(7)), { ...session('admin'), 'content-encoding': 'gzip' }, '?name=x.jsonl.gz'),
    );
    expect(res.status).toBe(202);
    expect(calls[0]?.records).toBe(7);
  });

  it('makes one upload per multipart file, in order, even when one is not telemetry at all', async () => {
    const { sink, calls } = countingIngester();
    const { handle } = handler(sink);
    const binary = new Uint8Array(200_000).map((_, i) => (i * 7919) % 251);
    const res = await handle(
      post(
        form([
          ['one.jsonl', jsonl(3)],
          ['junk.bin', binary],
          ['three.jsonl', jsonl(4)],
        ]),
        session('analyst'),
      ),
    );
    expect(res.status).toBe(202);
    const body = (await res.json()) as { uploads: Array<{ name: string; records: number }> };
    expect(body.uploads.map((u) => [u.name, u.records])).toEqual([
      ['one.jsonl', 3],
      ['junk.bin', 1],
      ['three.jsonl', 4],
    ]);
    expect(calls.map((c) => c.name)).toEqual(['one.jsonl', 'junk.bin', 'three.jsonl']);
  });

  it('refuses a body over the cap: by Content-Length at once, by counting when it is streamed', async () => {
    const { sink } = countingIngester();
    const { handle } = handler(sink, 1000);
    const declared = await handle(post(jsonl(20), session('analyst')));
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } });

    const enc = new TextEncoder();
    const streamed = await handle(
      post(streamOf([enc.encode(jsonl(5)), enc.encode(jsonl(5)), enc.encode(jsonl(5))]), session('analyst')),
    );
    expect(streamed.status).toBe(413);

    const multi = await handle(
      post(
        form([
          ['a.jsonl', jsonl(3)],
          ['b.jsonl', jsonl(10)],
        ]),
        session('analyst'),
      ),
    );
    expect(multi.status).toBe(413);
  });

  it('refuses too many files, saying which uploads were made', async () => {
    const { sink } = countingIngester();
    const { handle } = handler(sink, undefined, 2);
    const res = await handle(
      post(
        form([
          ['a', jsonl(1)],
          ['b', jsonl(1)],
          ['c', jsonl(1)],
        ]),
        session('admin'),
      ),
    );
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { code: string }; uploads: unknown[] };
    expect(body.error.code).toBe('BAD_INPUT');
    expect(body.uploads).toHaveLength(2);
  });

  it('refuses a form without files and an unsupported encoding', async () => {
    const { sink } = countingIngester();
    const { handle } = handler(sink);
    const empty = new FormData();
    empty.append('note', 'hello');
    expect((await handle(post(empty, session('admin')))).status).toBe(400);
    expect((await handle(post(jsonl(1), { ...session('admin'), 'content-encoding': 'br' }))).status).toBe(
      415,
    );
  });

  it('answers (does not hang) when the ingester fails before reading a multipart file', async () => {
    const { sink } = countingIngester({ failFirst: true });
    const { handle } = handler(sink);
    const res = await handle(
      post(
        form([
          ['a.jsonl', jsonl(2000)],
          ['b.jsonl', jsonl(2)],
        ]),
        session('admin'),
      ),
    );
    expect(res.status).toBe(500);
    const body = (await res.json()) as { error: { code: string; message: string }; uploads: unknown[] };
    expect(body.error).toEqual({ code: 'INTERNAL', message: 'Internal error.' });
    expect(body.uploads).toHaveLength(1);
  });

  it('refuses the anonymous (401), viewers and read tokens (403), and cookies without the CSRF header', async () => {
    const { sink, calls } = countingIngester();
    const { handle, remembered } = handler(sink);
    const anon = await handle(post(jsonl(1), { 'x-lensgraph-csrf': '1' }));
    expect(anon.status).toBe(401);
    expect(anon.headers.get('www-authenticate')).toBe('Bearer');
    expect((await handle(post(jsonl(1), session('viewer')))).status).toBe(403);
    expect((await handle(post(jsonl(1), { authorization: 'Bearer read' }))).status).toBe(403);
    expect((await handle(post(jsonl(1), { authorization: 'Bearer bogus' }))).status).toBe(401);
    const csrf = await handle(post(jsonl(1), { cookie: 'lg_session=admin' }));
    expect(csrf.status).toBe(403);
    expect(await csrf.json()).toMatchObject({ error: { code: 'CSRF' } });
    expect(calls).toHaveLength(0);

    // An ingest token needs no CSRF header (browsers never send Authorization by themselves).
    const ok = await handle(post(jsonl(2), { authorization: 'Bearer ingest' }));
    expect(ok.status).toBe(202);
    expect(remembered).toEqual(['u1']);
    expect(calls[0]?.user).toBe('token:ci');
  });

  it('takes a slot per request before reading the body and gives it back however the request ends', async () => {
    const { sink, calls } = countingIngester();
    const { gate, held, log } = memoryGate(1);
    const { handle } = handler(sink, 1000, undefined, gate);
    expect((await handle(post(jsonl(2), session('analyst')))).status).toBe(202);
    // A multipart request counts once, however many files it carries.
    const multi = await handle(post(form([['a', jsonl(1)], ['b', jsonl(1)]]), session('analyst')));
    expect(multi.status).toBe(202);
    // Too large while streaming, and refused by the parser's caller (unsupported encoding): released too.
    const enc = new TextEncoder();
    const big = await handle(post(streamOf([enc.encode(jsonl(10)), enc.encode(jsonl(10))]), session('analyst')));
    expect(big.status).toBe(413);
    expect((await handle(post(jsonl(1), { ...session('analyst'), 'content-encoding': 'br' }))).status).toBe(415);
    expect(log).toEqual(Array.from({ length: 4 }, () => ['acquire u-analyst', 'release u-analyst']).flat());
    expect([...held.values()]).toEqual([0]);
    expect(calls).toHaveLength(3);
  });

  it('answers 429 with Retry-After when the caller has no slot left, without reading the body', async () => {
    const { sink, calls } = countingIngester();
    const { gate, logged } = memoryGate(1);
    const { handle } = handler(sink, undefined, undefined, gate);
    // Hold the only slot of the ingest token: the one held request is still reading its body.
    const enc = new TextEncoder();
    let finish!: () => void;
    const held = new ReadableStream<Uint8Array>({
      start(c) {
        c.enqueue(enc.encode(jsonl(1)));
        finish = () => c.close();
      },
    });
    const first = handle(post(held, { authorization: 'Bearer ingest' }));
    await logged('acquire token:ci');

    let pulled = false;
    const refusedBody = new ReadableStream<Uint8Array>(
      {
        pull() {
          pulled = true;
        },
      },
      { highWaterMark: 0 },
    );
    const refused = await handle(post(refusedBody, { authorization: 'Bearer ingest' }));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('7');
    expect(await refused.json()).toEqual({
      error: { code: 'RATE_LIMITED', message: expect.stringContaining('At most 1 upload') },
    });
    expect(pulled).toBe(false);
    // Another caller is not affected.
    expect((await handle(post(jsonl(1), session('admin')))).status).toBe(202);

    finish();
    expect((await first).status).toBe(202);
    expect((await handle(post(jsonl(1), { authorization: 'Bearer ingest' }))).status).toBe(202);
    expect(calls.map((c) => c.user)).toEqual(['u-admin', 'token:ci', 'token:ci']);
  });

  it('answers other methods with 405', async () => {
    const { handle } = handler(countingIngester().sink);
    const res = await handle(new Request('http://localhost/api/ingest', { method: 'PUT', body: 'x' }));
    expect(res.status).toBe(405);
  });
});
