import { describe, expect, it } from 'vitest';
import { LEVEL_SCORES } from '../../domain/detection';
import { lensScore, parentTechnique, scoreRisks, type RiskInput } from './score';

const risk = (over: Partial<RiskInput>): RiskInput => ({
  node: 'Process:A',
  detection: 'sigma:r1',
  score: LEVEL_SCORES.medium,
  techniques: [],
  ...over,
});

describe('lens score', () => {
  it('is 0 without risks and the detection score for one risk', () => {
    expect(lensScore([])).toBe(0);
    expect(lensScore([risk({ score: 70 })])).toBe(70);
  });

  it('adds detections with falling weights: four mediums outrank one high, twenty lows do not', () => {
    const mediums = (n: number) =>
      scoreRisks(Array.from({ length: n }, (_, i) => risk({ detection: `sigma:m${i}`, node: 'Process:A' }))).base;
    const oneHigh = lensScore([risk({ detection: 'sigma:h', score: LEVEL_SCORES.high })]);
    // 45 * (1 + 1/2^1.5 + 1/3^1.5) and then + 45/4^1.5, no breadth (one node, no techniques)
    expect(mediums(3)).toBeCloseTo(69.6, 1);
    expect(mediums(4)).toBeCloseTo(75.2, 1);
    expect(mediums(4)).toBeGreaterThan(oneHigh);
    const lows = scoreRisks(Array.from({ length: 20 }, (_, i) => risk({ detection: `d${i}`, score: LEVEL_SCORES.low }))).base;
    expect(lows).toBeCloseTo(43.4, 1);
    expect(lows).toBeLessThan(LEVEL_SCORES.high);
  });

  it('keeps ranking where a bounded probability would tie: more strong evidence scores higher', () => {
    // The noisy-OR this replaced gave all three 100.
    const criticals = (n: number) =>
      lensScore(Array.from({ length: n }, (_, i) => risk({ detection: `c${i}`, score: LEVEL_SCORES.critical })));
    expect(criticals(1)).toBe(90);
    expect(criticals(2)).toBeCloseTo(90 + 90 / Math.pow(2, 1.5), 1);
    expect(criticals(3)).toBeGreaterThan(criticals(2));
    expect(criticals(10)).toBeGreaterThan(criticals(3));
    expect(criticals(10)).toBeGreaterThan(100);
  });

  it('is the same whatever order the risks come in', () => {
    const risks = [10, 90, 45, 70, 20, 45].map((score, i) => risk({ detection: `d${i}`, score, node: `Process:${i % 3}` }));
    const s = lensScore(risks);
    expect(lensScore([...risks].reverse())).toBe(s);
    expect(lensScore([risks[3]!, risks[0]!, risks[5]!, risks[1]!, risks[4]!, risks[2]!])).toBe(s);
  });

  it('counts the same detection firing 50 times on one node once', () => {
    const once = lensScore([risk({ count: 1 })]);
    const fifty = lensScore(Array.from({ length: 50 }, () => risk({ count: 1 })));
    const counted = lensScore([risk({ count: 50 })]);
    expect(fifty).toBe(once);
    expect(counted).toBe(once);
    const fiftyDistinct = lensScore(Array.from({ length: 50 }, (_, i) => risk({ detection: `sigma:r${i}` })));
    expect(fiftyDistinct).toBeGreaterThan(once + 40);
  });

  it('the same detection on many nodes is one piece of evidence plus a bounded breadth bonus', () => {
    const one = lensScore([risk({})]);
    const many = lensScore(Array.from({ length: 50 }, (_, i) => risk({ node: `Process:${i}` })));
    expect(many).toBeGreaterThan(one);
    expect(many).toBeLessThan(one + 5);
    // far below 50 independent detections
    expect(many).toBeLessThan(lensScore(Array.from({ length: 3 }, (_, i) => risk({ detection: `d${i}` }))));
  });

  it('gives a non-zero breadth bonus for two techniques (no integer-division zero)', () => {
    const s = scoreRisks([
      risk({ detection: 'a', score: 45, techniques: ['T1003.001'] }),
      risk({ detection: 'b', score: 45, techniques: ['T1059.001'] }),
    ]);
    expect(s.techniques).toBe(2);
    expect(s.breadth).toBe(4);
    expect(s.score).toBeGreaterThan(s.base);
    // 45 + 45 / 2^1.5 = 60.9, and two techniques add 4 per cent of it
    expect(s.base).toBeCloseTo(60.9, 1);
    expect(s.score).toBeCloseTo(60.91 * 1.04, 1);
  });

  it('counts sub-techniques of one technique once', () => {
    expect(parentTechnique('T1003.001')).toBe('T1003');
    const s = scoreRisks([risk({ techniques: ['T1003.001', 'T1003.002', 'T1003'] })]);
    expect(s.techniques).toBe(1);
    expect(s.breadth).toBe(0);
  });

  it('never decreases when evidence is added, and stays within 0..313.5', () => {
    const pool: RiskInput[] = [];
    let last = 0;
    for (let i = 0; i < 40; i++) {
      pool.push(risk({ detection: `d${i % 13}`, node: `Process:${i % 7}`, score: (i * 37) % 101, techniques: [`T10${10 + (i % 9)}`] }));
      const s = lensScore(pool);
      expect(s).toBeGreaterThanOrEqual(last);
      last = s;
    }
    // A detection stronger than any before, and a weak one: both raise the score.
    const before = lensScore(pool);
    expect(lensScore([...pool, risk({ detection: 'top', score: 100, node: 'Process:0' })])).toBeGreaterThan(before);
    expect(lensScore([...pool, risk({ detection: 'weak', score: 10, node: 'Process:0' })])).toBeGreaterThan(before);
    // Out-of-range scores are clamped; 1,000 detections of 100 on many nodes with many techniques stay bounded.
    expect(lensScore([risk({ score: 250 }), risk({ detection: 'x', score: -5 })])).toBe(100);
    expect(lensScore([risk({ score: Number.NaN })])).toBe(0);
    const most = lensScore(
      Array.from({ length: 1000 }, (_, i) => risk({ detection: `m${i}`, score: 100, node: `Process:${i}`, techniques: [`T${1000 + i}`] })),
    );
    expect(most).toBeGreaterThan(300);
    expect(most).toBeLessThanOrEqual(313.5);
  });

  it('a lone low hit stays low however many techniques its rule names', () => {
    const s = scoreRisks([risk({ score: LEVEL_SCORES.low, techniques: ['T1059', 'T1105', 'T1027'] })]);
    // three techniques from one detection still earn breadth, weighted by the weak base
    expect(s.score).toBeLessThan(25);
  });
});
