/**
 * RawChunk.clockOffsets crosses Redis: the parse stage accepts only what the ingester can produce (a
 * bounded number of bounded host keys, each a non-zero whole number of quarter hours within a day), and
 * payloads of older ingesters, without the field, still parse.
 */
import { describe, expect, it } from 'vitest';
import { chunkId } from '../domain/stages';
import { ClockOffsetMap, RawChunk } from './payloads';
import { MAX_HOST_KEY_CHARS, MAX_UPLOAD_HOSTS, QUARTER_HOUR_MS } from './stages/parse/clock-offset';

const H = 3600_000;
const chunk = {
  chunk: chunkId('1700000000000-00000000-0000-4000-8000-000000000000', 0),
  source: 'test',
  items: [{ n: 1, f: 'jsonl', t: '{}' }],
  digest: '0'.repeat(64),
};

describe('ClockOffsetMap', () => {
  it('takes offsets of whole quarter hours within a day, on either side', () => {
    const ok = { IT01: -19 * H, 'WS-5': 5.75 * H, A: QUARTER_HOUR_MS, B: -24 * H, C: 24 * H };
    expect(ClockOffsetMap.parse(ok)).toEqual(ok);
    expect(ClockOffsetMap.parse({})).toEqual({});
  });

  it('refuses zero, off-grid, fractional and out-of-range offsets', () => {
    for (const v of [
      0,
      1,
      QUARTER_HOUR_MS + 1,
      7.5 * 60_000,
      24 * H + QUARTER_HOUR_MS,
      -25 * H,
      0.5,
      NaN,
      Infinity,
    ]) {
      expect(ClockOffsetMap.safeParse({ WS: v }).success, String(v)).toBe(false);
    }
    expect(ClockOffsetMap.safeParse({ WS: String(H) }).success).toBe(false);
  });

  it('bounds host keys and their number', () => {
    expect(ClockOffsetMap.safeParse({ '': H }).success).toBe(false);
    expect(ClockOffsetMap.safeParse({ ['H'.repeat(MAX_HOST_KEY_CHARS)]: H }).success).toBe(true);
    expect(ClockOffsetMap.safeParse({ ['H'.repeat(MAX_HOST_KEY_CHARS + 1)]: H }).success).toBe(false);
    const hosts = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`H${i}`, H]));
    expect(ClockOffsetMap.safeParse(hosts(MAX_UPLOAD_HOSTS)).success).toBe(true);
    expect(ClockOffsetMap.safeParse(hosts(MAX_UPLOAD_HOSTS + 1)).success).toBe(false);
  });
});

describe('RawChunk', () => {
  it('parses with and without clock offsets; a bad map fails the whole payload', () => {
    expect(RawChunk.parse(chunk)).not.toHaveProperty('clockOffsets');
    expect(RawChunk.parse({ ...chunk, clockOffsets: { IT01: -19 * H } }).clockOffsets).toEqual({
      IT01: -19 * H,
    });
    expect(RawChunk.safeParse({ ...chunk, clockOffsets: { IT01: 0 } }).success).toBe(false);
    expect(RawChunk.safeParse({ ...chunk, clockOffsets: [] }).success).toBe(false);
  });
});
