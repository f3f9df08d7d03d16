import { describe, expect, it } from 'vitest';
import { parseArgs } from './args';
import { jvmThreadGroup } from './machine';
import { unionMs } from './pipeline-probe';
import { percentile } from './stats';

describe('bench arguments', () => {
  it('defaults to parse, sigma and e2e with one worker process per stage', () => {
    const a = parseArgs([]);
    expect(a.only).toEqual(['parse', 'sigma', 'e2e']);
    expect(a.workers).toEqual(['parse', 'identify', 'merge', 'analyze', 'engage']);
    expect(parseArgs(['--workers', '2']).workers).toEqual([
      'parse',
      'parse',
      'identify',
      'identify',
      'merge',
      'merge',
      'analyze',
      'analyze',
      'engage',
      'engage',
    ]);
    expect(a.runs).toBe(5);
    expect(a.e2eWarmup).toBe(3);
  });

  it("takes the e2e warm-up passes apart from the other benchmarks' warm-up runs", () => {
    expect(parseArgs(['--quick'])).toMatchObject({ e2eWarmup: 1, warmup: 1 });
    expect(parseArgs(['--e2e-warmup', '0', '--quick'])).toMatchObject({ e2eWarmup: 0 });
    expect(parseArgs(['--warmup', '0'])).toMatchObject({ e2eWarmup: 3, warmup: 0 });
    expect(() => parseArgs(['--e2e-warmup', '-1'])).toThrow(/--e2e-warmup/);
  });

  it('keeps the data directory when asked to, and always with --cpu-prof (the profiles are written there)', () => {
    expect(parseArgs([])).toMatchObject({ keep: false, cpuProf: false });
    expect(parseArgs(['--keep'])).toMatchObject({ keep: true, cpuProf: false });
    expect(parseArgs(['--cpu-prof'])).toMatchObject({ keep: true, cpuProf: true });
  });

  it('selects benchmarks in canonical order and takes --flag=value', () => {
    const a = parseArgs([
      '--only',
      'e2e,parse',
      '--quick',
      '--worker-stages=parse,identify;merge,analyze,engage',
    ]);
    expect(a.only).toEqual(['parse', 'e2e']);
    expect(a.runs).toBe(2);
    expect(a.workers).toEqual(['parse,identify', 'merge,analyze,engage']);
  });

  it('runs hostile only on request, with the others in canonical order', () => {
    expect(parseArgs([]).only).not.toContain('hostile');
    expect(parseArgs(['--only', 'hostile,parse', '--quick']).only).toEqual(['parse', 'hostile']);
    expect(parseArgs(['--only=hostile']).only).toEqual(['hostile']);
  });

  it('rejects unknown benchmarks and options', () => {
    expect(() => parseArgs(['--only', 'parse,nope'])).toThrow(/nope/);
    expect(() => parseArgs(['--fast'])).toThrow(/unknown option/);
    expect(() => parseArgs(['--runs', '0'])).toThrow(/--runs/);
  });
});

describe('bench statistics', () => {
  it('sorts JVM threads by their /proc names (15 characters kept)', () => {
    expect(jvmThreadGroup('C2 CompilerThre')).toBe('jit');
    expect(jvmThreadGroup('C1 CompilerThre')).toBe('jit');
    expect(jvmThreadGroup('neo4j.BoltWorke')).toBe('bolt');
    expect(jvmThreadGroup('GC Thread#1')).toBe('gc');
    expect(jvmThreadGroup('G1 Conc#0')).toBe('gc');
    expect(jvmThreadGroup('neo4j.BoltNetwo')).toBe('other');
    expect(jvmThreadGroup('java')).toBe('other');
  });

  it('interpolates percentiles', () => {
    expect(percentile([4, 1, 3, 2], 50)).toBe(2.5);
    expect(percentile([10], 95)).toBe(10);
    expect(percentile([1, 2, 3, 4, 5], 100)).toBe(5);
    expect(Number.isNaN(percentile([], 50))).toBe(true);
  });

  it('measures the union of overlapping intervals', () => {
    expect(
      unionMs([
        [0, 10],
        [5, 15],
        [20, 25],
      ]),
    ).toBe(20);
    expect(unionMs([])).toBe(0);
  });
});
