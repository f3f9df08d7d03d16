/**
 * POST /api/ingest and the upload API against real Redis and Neo4j, with every pipeline stage running
 * in-process: raw, gzip and multipart bodies become uploads whose progress, rejected records and live
 * progress stream (SSE) are readable through GraphQL; who may upload. Telemetry is a real Mordor file with
 * its host and GUIDs rewritten per test, so its graph is this test's own.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { STAGES } from '../../domain/stages';
import { createLogger } from '../../lib/log';
import { createRedis } from '../../lib/redis';
import { Uploads } from '../../lib/uploads';
import { ensureGraphSchema } from '../../pipeline/merge';
import { StageRunner, type StageDefinition } from '../../pipeline/runner';
import { createAnalyzeStage } from '../../pipeline/stages/analyze/handler';
import { createEngageStage } from '../../pipeline/stages/engage/handler';
import { createIdentifyStage } from '../../pipeline/stages/identify/handler';
import { createMergeStage } from '../../pipeline/stages/merge/handler';
import { parseStage } from '../../pipeline/stages/parse/handler';
import { errorCode, ingestRequest, openHarness, type Harness } from '../graphql/test-harness';

const DATA = path.resolve(import.meta.dirname, '../../../shared/data/sysmon-json');
const SOURCE = path.join(DATA, 'cmd_psexec_lsa_secrets_dump.jsonl');
const SOURCE_LINES = fs.readFileSync(SOURCE, 'utf8').split('\n').filter(Boolean).length;

let h: Harness;
let connection: Redis;
let runners: StageRunner<unknown, unknown>[] = [];

beforeAll(async () => {
  h = await openHarness({ chunkRecords: 100 });
  connection = createRedis(process.env.REDIS_URL!, { connectionName: 'ingest-int-bull' });
  await ensureGraphSchema(h.gateway);
  const defs = [
    parseStage,
    createIdentifyStage({}),
    createMergeStage(h.gateway),
    createAnalyzeStage({ run: async () => [] }),
    createEngageStage(h.gateway),
  ] as StageDefinition<unknown, unknown>[];
  runners = defs.map(
    (d) =>
      new StageRunner(d, {
        redis: h.redis,
        connection,
        prefix: h.prefix,
        payloadTtlSeconds: 3600,
        log: createLogger({ test: 'ingest' }, 'warn'),
      }),
  );
  for (const r of runners) await r.start();
});

afterAll(async () => {
  for (const r of runners) await r.stop();
  connection?.disconnect();
  await h?.close();
});

/** The source file with its host and GUIDs made unique to this call. */
function telemetry(): string {
  const tag = randomBytes(4).toString('hex');
  return fs
    .readFileSync(SOURCE, 'utf8')
    .replaceAll('WORKSTATION5', `WS${tag.toUpperCase()}`)
    .replace(/\{[0-9a-fA-F]{8}-/g, `{${tag}-`);
}

const UPLOAD_FIELDS = `id name createdBy sealed totalChunks done failed error findings
  stages { stage done total }
  records { read accepted skipped rejected skippedByType { key count } rejectedByReason { key count } }
  graph { nodesWritten edgesWritten }`;

interface UploadView {
  id: string;
  name: string;
  createdBy: string;
  sealed: boolean;
  totalChunks: number | null;
  done: boolean;
  failed: number;
  error: string | null;
  findings: number;
  stages: Array<{ stage: string; done: number; total: number | null }>;
  records: {
    read: number;
    accepted: number;
    skipped: number;
    rejected: number;
    skippedByType: Array<{ key: string; count: number }>;
    rejectedByReason: Array<{ key: string; count: number }>;
  };
  graph: { nodesWritten: number; edgesWritten: number };
}

interface Ingested {
  uploads: Array<{ id: string; name: string; records: number; chunks: number }>;
}

async function uploadView(id: string, cookie: string): Promise<UploadView> {
  const { body } = await h.gql(
    `query($id: ID!) { upload(id: $id) { ${UPLOAD_FIELDS} } }`,
    { id },
    { cookie },
  );
  expect(body.errors).toBeUndefined();
  return (body.data as { upload: UploadView }).upload;
}

async function waitDone(id: string, cookie: string): Promise<UploadView> {
  await h.ingester.waitFor([id], { timeoutMs: 120_000 });
  return uploadView(id, cookie);
}

describe('POST /api/ingest', () => {
  it('takes a raw JSON-lines body into one upload that every stage completes', async () => {
    const analyst = await h.signedIn('analyst');
    const viewer = await h.signedIn('viewer');
    const res = await h.ingest(
      ingestRequest(telemetry(), { cookie: analyst.cookie }, { query: '?name=psexec.jsonl' }),
    );
    expect(res.status).toBe(202);
    const { uploads } = (await res.json()) as Ingested;
    expect(uploads).toHaveLength(1);
    expect(uploads[0]).toMatchObject({ name: 'psexec.jsonl', records: SOURCE_LINES, chunks: 3 });

    // Progress is readable (by a viewer too) as soon as the answer came: sealed, chunks known.
    const early = await uploadView(uploads[0]!.id, viewer.cookie);
    expect(early).toMatchObject({ id: uploads[0]!.id, name: 'psexec.jsonl', createdBy: analyst.username });
    expect(early.sealed).toBe(true);
    expect(early.totalChunks).toBe(3);

    const p = await waitDone(uploads[0]!.id, viewer.cookie);
    expect(p.done).toBe(true);
    expect(p.failed).toBe(0);
    expect(p.stages.map((s) => s.stage)).toEqual([...STAGES]);
    for (const s of p.stages) expect(s, s.stage).toEqual({ stage: s.stage, done: 3, total: 3 });
    expect(p.records.read).toBe(SOURCE_LINES);
    expect(p.records.accepted + p.records.skipped + p.records.rejected).toBe(SOURCE_LINES);
    expect(p.records.accepted).toBeGreaterThan(200);
    expect(p.records.rejected).toBe(0);
    expect(p.records.skipped).toBe(p.records.skippedByType.reduce((a, b) => a + b.count, 0));
    expect(p.graph.nodesWritten).toBeGreaterThan(0);
    expect(p.graph.edgesWritten).toBeGreaterThan(0);

    // The recent list holds it.
    const list = await h.gql('{ uploads(limit: 5) { id done } }', {}, { cookie: viewer.cookie });
    expect((list.body.data as { uploads: Array<{ id: string }> }).uploads.map((u) => u.id)).toContain(
      uploads[0]!.id,
    );
  });

  it('takes a gzip body, with or without Content-Encoding', async () => {
    const { cookie } = await h.signedIn('admin');
    const variants: Array<Record<string, string>> = [
      { 'content-encoding': 'gzip' },
      { 'content-type': 'application/gzip' },
    ];
    for (const headers of variants) {
      const res = await h.ingest(
        ingestRequest(gzipSync(telemetry()), { cookie }, { query: '?name=psexec.jsonl.gz', headers }),
      );
      expect(res.status).toBe(202);
      const { uploads } = (await res.json()) as Ingested;
      expect(uploads[0]).toMatchObject({ name: 'psexec.jsonl.gz', records: SOURCE_LINES });
      const p = await waitDone(uploads[0]!.id, cookie);
      expect(p.records.read).toBe(SOURCE_LINES);
      expect(p.failed).toBe(0);
    }
  });

  it('makes one upload per multipart file; malformed records are kept as text with their reason', async () => {
    const { cookie } = await h.signedIn('analyst');
    const good = telemetry();
    const bad = [
      telemetry().split('\n').slice(0, 5).join('\n'),
      '{"EventID": 1, "Hostname": "TRUNC", "UtcTime": "2020-1',
      '<script>alert(1)</script>',
      'not json at all',
    ].join('\n');
    const form = new FormData();
    form.append('file', new Blob([good]), 'C:\\logs\\good.jsonl');
    form.append('file', new Blob([gzipSync(bad)]), 'bad.jsonl.gz');
    const res = await h.ingest(ingestRequest(form, { cookie }));
    expect(res.status).toBe(202);
    const { uploads } = (await res.json()) as Ingested;
    expect(uploads.map((u) => [u.name, u.records])).toEqual([
      ['good.jsonl', SOURCE_LINES],
      ['bad.jsonl.gz', 8],
    ]);
    const [g, b] = await Promise.all(uploads.map((u) => waitDone(u.id, cookie)));
    expect(g!.records.rejected).toBe(0);
    expect(b!.records.read).toBe(8);
    expect(b!.records.rejected).toBe(3);
    expect(b!.records.rejectedByReason.reduce((a, r) => a + r.count, 0)).toBe(3);

    const rej = await h.gql(
      'query($id: ID!) { rejectedRecords(uploadId: $id, limit: 10) { source recordNo reason firstBytes } }',
      { id: b!.id },
      { cookie },
    );
    const rows = (rej.body.data as { rejectedRecords: Array<Record<string, unknown>> }).rejectedRecords;
    expect(rows.map((r) => r.recordNo)).toEqual([6, 7, 8]);
    expect(rows.every((r) => r.source === 'bad.jsonl.gz' && typeof r.reason === 'string')).toBe(true);
    expect(rows[1]!.firstBytes).toBe('<script>alert(1)</script>');
  });

  it('streams progress over server-sent events until the upload is done', async () => {
    const { cookie } = await h.signedIn('analyst');
    const res = await h.ingest(ingestRequest(telemetry(), { cookie }, { query: '?name=live.jsonl' }));
    const { uploads } = (await res.json()) as Ingested;
    const { status, events, completed } = await h.subscribe(
      `subscription($id: ID!) { uploadProgress(id: $id) { ${UPLOAD_FIELDS} } }`,
      { id: uploads[0]!.id },
      { cookie },
    );
    expect(status).toBe(200);
    expect(completed).toBe(true);
    expect(events.length).toBeGreaterThan(0);
    for (const e of events) expect(e.errors).toBeUndefined();
    const views = events.map((e) => (e.data as { uploadProgress: UploadView }).uploadProgress);
    // Only changes are sent, and stages only move forward.
    for (let i = 1; i < views.length; i++) {
      expect(JSON.stringify(views[i])).not.toBe(JSON.stringify(views[i - 1]));
      views[i]!.stages.forEach((s, j) =>
        expect(s.done).toBeGreaterThanOrEqual(views[i - 1]!.stages[j]!.done),
      );
    }
    const last = views[views.length - 1]!;
    expect(last.done).toBe(true);
    expect(last.stages.every((s) => s.done === s.total)).toBe(true);
  });

  it('stops reading progress when the subscriber goes away', async () => {
    const { cookie } = await h.signedIn('viewer');
    // An upload that never ends: created, never sealed.
    const id = `${Date.now()}-${randomBytes(4).toString('hex')}-0000-4000-8000-000000000000`;
    await h.ingester.uploads.create({ id, name: 'open-ended', createdAt: Date.now(), createdBy: 'test' });
    const spy = vi.spyOn(Uploads.prototype, 'progress');
    try {
      const t0 = Date.now();
      const { events } = await h.subscribe(
        'subscription($id: ID!) { uploadProgress(id: $id) { id done } }',
        { id },
        { cookie },
        1500,
      );
      // The stream lasted until the client left (the in-process server then ends it itself).
      expect(Date.now() - t0).toBeGreaterThanOrEqual(1400);
      expect(events[0]?.data).toEqual({ uploadProgress: { id, done: false } });
      expect(spy.mock.calls.length).toBeGreaterThan(3);
      await new Promise((r) => setTimeout(r, 500));
      const after = spy.mock.calls.length;
      await new Promise((r) => setTimeout(r, 1000));
      expect(spy.mock.calls.length).toBe(after);
    } finally {
      spy.mockRestore();
    }
  });

  it('refuses subscribing to an unknown upload and a malformed id', async () => {
    const { cookie } = await h.signedIn('viewer');
    const unknown = await h.subscribe(
      'subscription($id: ID!) { uploadProgress(id: $id) { id } }',
      { id: `${Date.now()}-00000000-0000-4000-8000-000000000000` },
      { cookie },
      10_000,
    );
    expect(unknown.events.map(errorCode)).toEqual(['NOT_FOUND']);
    const bad = await h.gql('query { upload(id: "../../etc") { id } }', {}, { cookie });
    expect(errorCode(bad.body)).toBe('BAD_INPUT');
  });

  it('refuses viewers (403), requests without a session (401) and cookie requests without the CSRF header (403)', async () => {
    const viewer = await h.signedIn('viewer');
    const analyst = await h.signedIn('analyst');
    const before = await h.redis.zcard(`${h.prefix}:uploads`);

    const asViewer = await h.ingest(ingestRequest('{}', { cookie: viewer.cookie }));
    expect(asViewer.status).toBe(403);
    expect(await asViewer.json()).toEqual({
      error: { code: 'FORBIDDEN', message: 'Your role does not allow this.' },
    });

    const anonymous = await h.ingest(ingestRequest('{}', {}));
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ error: { code: 'UNAUTHENTICATED' } });

    const stale = await h.ingest(
      ingestRequest('{}', { cookie: 'lg_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' }),
    );
    expect(stale.status).toBe(401);

    const noCsrf = await h.ingest(ingestRequest('{}', { cookie: analyst.cookie, csrf: false }));
    expect(noCsrf.status).toBe(403);
    expect(await noCsrf.json()).toMatchObject({ error: { code: 'CSRF' } });

    const tooBig = await h.ingest(
      ingestRequest(
        '{}',
        { cookie: analyst.cookie },
        { headers: { 'content-length': String(3 * 1024 ** 3) } },
      ),
    );
    expect(tooBig.status).toBe(413);

    expect(await h.redis.zcard(`${h.prefix}:uploads`)).toBe(before);
  });
});
