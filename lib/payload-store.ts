/**
 * The payload store: stage outputs kept in Redis under unguessable `<ms>-<uuidv4>` keys with a
 * retention TTL, gzip-compressed JSON. A queue message carries only the key, so no stage ever lists
 * keys, and a stage that lacks the key cannot read the payload.
 */
import { randomUUID } from 'node:crypto';
import { constants, gunzipSync, gzipSync } from 'node:zlib';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { keys } from './redis';

/** Decompressed payloads above this are refused: a payload is a few thousand records, not gigabytes. */
const MAX_PAYLOAD_BYTES = 512 * 1024 * 1024;
/** Largest output buffer gunzip starts with (its size comes from the gzip trailer, which is only a hint). */
const MAX_GUNZIP_CHUNK = 64 * 1024 * 1024;
/** zlib's own default output buffer size. */
const MIN_ZLIB_CHUNK = 16 * 1024;

/**
 * gunzip's output buffer size for a body: the size the gzip trailer announces (ISIZE, the size mod 2^32 of
 * the last member) plus one byte, so that a payload is decompressed into one buffer in one call rather than
 * into 16 KiB pieces that are then copied together. A wrong trailer costs only a buffer too small or too large.
 */
function gunzipChunkSize(body: Buffer): number {
  const announced = body.length >= 18 ? body.readUInt32LE(body.length - 4) : 0;
  return Math.min(Math.max(announced + 1, MIN_ZLIB_CHUNK), MAX_GUNZIP_CHUNK);
}

export class PayloadMissingError extends Error {
  constructor(public readonly key: string) {
    super(`payload ${key} is missing (expired or already consumed)`);
    this.name = 'PayloadMissingError';
  }
}

export class PayloadInvalidError extends Error {
  constructor(
    public readonly key: string,
    detail: string,
  ) {
    super(`payload ${key} is invalid: ${detail}`);
    this.name = 'PayloadInvalidError';
  }
}

export function newPayloadKey(now = Date.now()): string {
  return `${String(now).padStart(13, '0')}-${randomUUID()}`;
}

/** A payload as stored: gzip-compressed JSON. Pure (no Redis), so benchmarks measure the stages' own code. */
export function encodePayload(value: unknown): Buffer {
  const json = JSON.stringify(value);
  // Counting the bytes first and writing into an exact buffer costs less than Buffer.from(json); one byte
  // per character means ASCII only, whose UTF-8 is its Latin-1, which is written faster.
  const input = Buffer.allocUnsafe(Buffer.byteLength(json, 'utf8'));
  input.write(json, input.length === json.length ? 'latin1' : 'utf8');
  // Synchronous, like the JSON.stringify before it (a few ms per payload): zlib's thread-pool variant
  // costs more CPU per payload. Payloads compress well, so an output buffer of an eighth of the input
  // usually holds all of it.
  return gzipSync(input, {
    level: constants.Z_BEST_SPEED,
    chunkSize: Math.max(MIN_ZLIB_CHUNK, input.length >> 3),
  });
}

/**
 * The payload stored under `key` (`body` as read from Redis), validated by `schema`; PayloadInvalidError
 * when it is not gzip, too large, not JSON or not of the schema. Pure (no Redis).
 */
export function decodePayload<T>(key: string, body: Buffer, schema: z.ZodType<T>): T {
  let text: string;
  try {
    // Synchronous, like the JSON.parse after it: zlib's thread-pool variant costs more CPU per payload.
    text = gunzipSync(body, {
      maxOutputLength: MAX_PAYLOAD_BYTES,
      chunkSize: gunzipChunkSize(body),
    }).toString('utf8');
  } catch (e) {
    throw new PayloadInvalidError(key, `not gzip or too large (${(e as Error).message})`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new PayloadInvalidError(key, 'not JSON');
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success) throw new PayloadInvalidError(key, parsed.error.issues[0]?.message ?? 'schema');
  return parsed.data;
}

export class PayloadStore {
  private readonly k: ReturnType<typeof keys>;

  constructor(
    private readonly redis: Redis,
    prefix: string,
    private readonly ttlSeconds: number,
  ) {
    this.k = keys(prefix);
  }

  async put(value: unknown): Promise<string> {
    const key = newPayloadKey();
    await this.redis.set(this.k.payload(key), encodePayload(value), 'EX', this.ttlSeconds);
    return key;
  }

  async get<T>(key: string, schema: z.ZodType<T>): Promise<T> {
    const body = await this.redis.getBuffer(this.k.payload(key));
    if (!body) throw new PayloadMissingError(key);
    return decodePayload(key, body, schema);
  }

  async exists(key: string): Promise<boolean> {
    return (await this.redis.exists(this.k.payload(key))) === 1;
  }

  async delete(keysToDelete: string[]): Promise<void> {
    if (keysToDelete.length === 0) return;
    await this.redis.del(...keysToDelete.map((k) => this.k.payload(k)));
  }
}
