/**
 * The payload store: stage outputs kept in Redis under unguessable `<ms>-<uuidv4>` keys with a
 * retention TTL, gzip-compressed JSON. A queue message carries only the key, so no stage ever lists
 * keys, and a stage that lacks the key cannot read the payload.
 */
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip, gzip, constants } from 'node:zlib';
import type { Redis } from 'ioredis';
import type { z } from 'zod';
import { keys } from './redis';

const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** Decompressed payloads above this are refused: a payload is a few thousand records, not gigabytes. */
const MAX_PAYLOAD_BYTES = 512 * 1024 * 1024;

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
    const body = await gzipAsync(Buffer.from(JSON.stringify(value)), { level: constants.Z_BEST_SPEED });
    await this.redis.set(this.k.payload(key), body, 'EX', this.ttlSeconds);
    return key;
  }

  async get<T>(key: string, schema: z.ZodType<T>): Promise<T> {
    const body = await this.redis.getBuffer(this.k.payload(key));
    if (!body) throw new PayloadMissingError(key);
    let text: string;
    try {
      text = (await gunzipAsync(body, { maxOutputLength: MAX_PAYLOAD_BYTES })).toString('utf8');
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

  async exists(key: string): Promise<boolean> {
    return (await this.redis.exists(this.k.payload(key))) === 1;
  }

  async delete(keysToDelete: string[]): Promise<void> {
    if (keysToDelete.length === 0) return;
    await this.redis.del(...keysToDelete.map((k) => this.k.payload(k)));
  }
}
