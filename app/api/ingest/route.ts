/**
 * POST /api/ingest: telemetry over HTTP (raw body or multipart files), streamed into the pipeline.
 * The handler is server/uploads/ingest-handler.ts; this file wires it to the process's services and one
 * process-wide ingester (its BullMQ queue shares the web process's Redis connection), and the per-caller
 * limit of uploads in progress (LENSGRAPH_MAX_CONCURRENT_UPLOADS, kept in Redis across web processes).
 */
import { Ingester } from '../../../pipeline/ingest';
import { config } from '../../../lib/config';
import { services } from '../../../server/context';
import { createIngestHandler } from '../../../server/uploads/ingest-handler';
import { errorAnswer } from '../../../server/uploads/ingest-request';
import { UploadSlots } from '../../../server/uploads/upload-slots';

export const runtime = 'nodejs';
export const dynamic = 'force-dynamic';

const KEY = Symbol.for('lensgraph.server.ingester');
const store = globalThis as unknown as Record<symbol, Ingester | undefined>;

function handler(): (request: Request) => Promise<Response> {
  const svc = services();
  const cfg = config();
  // Like the connections in server/context.ts, one ingester per process however often this module loads.
  const ingester = (store[KEY] ??= new Ingester({
    redis: svc.redis,
    prefix: svc.settings.prefix,
    payloadTtlSeconds: cfg.LENSGRAPH_PAYLOAD_TTL_HOURS * 3600,
    chunkRecords: cfg.LENSGRAPH_CHUNK_RECORDS,
    ...(cfg.LENSGRAPH_SPOOL_DIR ? { spoolDir: cfg.LENSGRAPH_SPOOL_DIR } : {}),
  }));
  const slots = new UploadSlots(
    svc.redis,
    svc.settings.prefix,
    { limit: cfg.LENSGRAPH_MAX_CONCURRENT_UPLOADS },
    svc.log.child({ component: 'ingest' }),
  );
  return createIngestHandler({ services: svc, ingester, slots });
}

export async function POST(request: Request): Promise<Response> {
  let handle: (request: Request) => Promise<Response>;
  try {
    handle = handler();
  } catch (err) {
    // Not configured (no Redis or Neo4j): answer in the endpoint's JSON shape rather than an HTML page.
    const { status, body } = errorAnswer(err);
    return Response.json(body, { status, headers: { 'cache-control': 'no-store' } });
  }
  return handle(request);
}
