import { gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { decodePayload, encodePayload, PayloadInvalidError } from './payload-store';

const Anything = z.unknown();

describe('payload encoding', () => {
  const values: unknown[] = [
    { a: 'plain ascii', n: 1, list: [true, null] },
    { a: 'caf\u00e9 \u00ae \u6e41', '\u00e9k': 'v' },
    { lone: '\ud800 x \udfff', pair: '\ud83d\ude00' },
    ['\u0000\u001f\u007f\u0080'],
    'x'.repeat(200_000),
    { many: Array.from({ length: 5000 }, (_, i) => ({ n: i, t: `{"k":"v\u00ae${i}"}` })) },
    42,
    null,
  ];

  it('stores gzip of the JSON text in UTF-8, whatever the characters', () => {
    for (const v of values) {
      expect(gunzipSync(encodePayload(v)).equals(Buffer.from(JSON.stringify(v), 'utf8'))).toBe(true);
    }
  });

  it('reads back what was stored', () => {
    for (const v of values) expect(decodePayload('k', encodePayload(v), Anything)).toEqual(v);
  });

  it('reads payloads written by other gzip settings, and trailers that misstate the size', () => {
    const v = { t: 'r\u00e9cord '.repeat(10_000) };
    const plain = gzipSync(Buffer.from(JSON.stringify(v)));
    expect(decodePayload('k', plain, Anything)).toEqual(v);
    for (const size of [0, 1, 0xffffffff]) {
      const lying = Buffer.from(plain);
      lying.writeUInt32LE(size, lying.length - 4);
      // The size is only a buffer hint: the gzip check of the length still refuses a wrong one.
      expect(() => decodePayload('k', lying, Anything)).toThrow(PayloadInvalidError);
    }
  });

  it('refuses what is not gzip, not JSON or not of the schema, saying which', () => {
    expect(() => decodePayload('k1', Buffer.from('not gzip'), Anything)).toThrow(
      'payload k1 is invalid: not gzip or too large (incorrect header check)',
    );
    const truncated = encodePayload({ a: 'x'.repeat(1000) }).subarray(0, 20);
    expect(() => decodePayload('k2', truncated, Anything)).toThrow(
      /^payload k2 is invalid: not gzip or too large/,
    );
    expect(() => decodePayload('k3', gzipSync(Buffer.from('{"a":')), Anything)).toThrow(
      'payload k3 is invalid: not JSON',
    );
    expect(() => decodePayload('k4', encodePayload({ a: 1 }), z.object({ a: z.string() }))).toThrow(
      PayloadInvalidError,
    );
  });
});
