import { describe, expect, it } from 'vitest';
import { latestTime, shapeHit } from './hits';
import { describeProcess, oneLine, quote } from './text';

const source = { id: 'demo-analyzer', title: 'Demo', techniques: ['T1059.001'], score: 60 };

describe('hit shaping', () => {
  it('builds a domain hit with the analyzer detection id and defaults', () => {
    const r = shapeHit(source, { risky: ['Process:A'], summary: 'x' }, 1000);
    expect(r).toEqual({
      ok: true,
      hit: {
        detection: 'analyzer:demo-analyzer',
        source: 'analyzer',
        title: 'Demo',
        score: 60,
        techniques: ['T1059.001'],
        summary: 'x',
        riskyNodes: ['Process:A'],
        contextNodes: [],
        time: 1000,
      },
    });
  });

  it('clamps scores, merges techniques and drops invalid ones', () => {
    const r = shapeHit(
      source,
      {
        risky: ['Process:A'],
        summary: 'x',
        score: 250,
        techniques: ['T1059.001', 'T1003.001', 'bogus', 'T12'],
      },
      0,
    );
    expect(r.ok && r.hit.score).toBe(100);
    expect(r.ok && r.hit.techniques).toEqual(['T1059.001', 'T1003.001']);
    const low = shapeHit(source, { risky: ['Process:A'], summary: 'x', score: -3 }, 0);
    expect(low.ok && low.hit.score).toBe(0);
    const nan = shapeHit(source, { risky: ['Process:A'], summary: 'x', score: Number.NaN }, 0);
    expect(nan.ok && nan.hit.score).toBe(60);
  });

  it('takes keys from rows, de-duplicates them and keeps risky nodes out of the context', () => {
    const r = shapeHit(
      source,
      {
        risky: [{ key: 'Process:A' }, 'Process:A', null, undefined, '', { key: 'Process:B' }],
        context: ['Process:B', 'File:X:c:\\a', 'File:X:c:\\a', null],
        summary: 's',
      },
      0,
    );
    expect(r.ok && r.hit.riskyNodes).toEqual(['Process:A', 'Process:B']);
    expect(r.ok && r.hit.contextNodes).toEqual(['File:X:c:\\a']);
  });

  it('refuses a hit without a risky node', () => {
    const r = shapeHit(source, { risky: [null, ''], summary: 's' }, 0);
    expect(r.ok).toBe(false);
  });

  it('keeps summaries one line of bounded plain text', () => {
    const evil = 'powershell -c "iex(x)"\r\n[click](http://evil)\u202egnp.exe\u0007';
    const r = shapeHit(
      source,
      { risky: ['Process:A'], summary: `ran ${quote(evil)} ${'y'.repeat(5000)}`, title: 'T\nitle' },
      0,
    );
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    for (const c of ['\r', '\n', '\u0007', '\u202e']) expect(r.hit.summary).not.toContain(c);
    expect(r.hit.summary.length).toBeLessThanOrEqual(2000);
    expect(r.hit.summary).toContain('\\"iex(x)\\"');
    expect(r.hit.summary).toContain('\\u202e');
    expect(r.hit.title).toBe('T itle');
  });

  it('uses the latest creation or first-seen time of the rows as the hit time', () => {
    expect(latestTime([{ create_time: 5, first_seen: 1 }, { first_seen: 9 }, null, 'x'], 0)).toBe(9);
    expect(latestTime([{}], 42)).toBe(42);
  });
});

describe('summary helpers', () => {
  it('quotes attacker strings as data', () => {
    expect(quote('a"b')).toBe('"a\\"b"');
    expect(quote('x'.repeat(300), 10)).toBe(`"${'x'.repeat(9)}…"`);
    expect(quote(undefined)).toBe('""');
    expect(oneLine('a\n\tb   c')).toBe('a b c');
  });

  it('describes a process by file name, pid and host', () => {
    expect(
      describeProcess({ key: 'Process:1', image: 'C:\\Windows\\System32\\cmd.exe', pid: 42, host: 'WS1' }),
    ).toBe('cmd.exe (pid 42) on WS1');
    expect(describeProcess({ key: 'Process:1' })).toBe('process');
  });
});
