import { describe, expect, it } from 'vitest';
import { parseHeartbeats, withDeadline } from './health-service';

const now = 1_800_000_000_000;
const hb = (stage: string, workerId: string, ageMs: number) =>
  JSON.stringify({
    stage,
    workerId,
    pid: 42,
    host: 'h',
    startedAt: now - 60_000,
    at: now - ageMs,
    processed: 5,
    failed: 1,
  });

describe('parseHeartbeats', () => {
  it('marks workers up within 15 s, down after, and forgets them after 10 minutes', () => {
    const workers = parseHeartbeats(
      {
        'merge:b': hb('merge', 'b', 20_000),
        'parse:a': hb('parse', 'a', 1_000),
        'engage:old': hb('engage', 'old', 11 * 60_000),
      },
      now,
    );
    expect(workers.map((w) => [w.stage, w.workerId, w.up])).toEqual([
      ['parse', 'a', true],
      ['merge', 'b', false],
    ]);
    expect(workers[0]).toMatchObject({ processed: 5, failed: 1, lastSeen: now - 1_000 });
  });

  it('skips malformed entries', () => {
    expect(parseHeartbeats({ x: 'not json', y: JSON.stringify({ stage: 'parse' }) }, now)).toEqual([]);
  });
});

describe('withDeadline', () => {
  it('returns the fallback when work is slow or fails', async () => {
    expect(await withDeadline(new Promise(() => {}), 10, 'late')).toBe('late');
    expect(await withDeadline(Promise.reject(new Error('x')), 1000, 'failed')).toBe('failed');
    expect(await withDeadline(Promise.resolve('ok'), 1000, 'no')).toBe('ok');
  });
});
