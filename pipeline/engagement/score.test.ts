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

  it('ranks three independent medium detections above one high', () => {
    const three = lensScore([
      risk({ detection: 'sigma:a', node: 'Process:A' }),
      risk({ detection: 'sigma:b', node: 'Process:A' }),
      risk({ detection: 'analyzer:c', node: 'Process:A' }),
    ]);
    const oneHigh = lensScore([risk({ detection: 'sigma:h', score: LEVEL_SCORES.high })]);
    expect(three).toBeGreaterThan(oneHigh);
    // even without any breadth bonus (one node, no techniques) the combination alone wins
    expect(scoreRisks([risk({ detection: 'a' }), risk({ detection: 'b' }), risk({ detection: 'c' })]).base).toBeCloseTo(83.4, 1);
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
    expect(s.score).toBeCloseTo(69.75 + 0.6975 * 4, 1);
  });

  it('counts sub-techniques of one technique once', () => {
    expect(parentTechnique('T1003.001')).toBe('T1003');
    const s = scoreRisks([risk({ techniques: ['T1003.001', 'T1003.002', 'T1003'] })]);
    expect(s.techniques).toBe(1);
    expect(s.breadth).toBe(0);
  });

  it('never decreases when evidence is added, and stays within 0..100', () => {
    const pool: RiskInput[] = [];
    let last = 0;
    for (let i = 0; i < 40; i++) {
      pool.push(risk({ detection: `d${i % 13}`, node: `Process:${i % 7}`, score: (i * 37) % 101, techniques: [`T10${10 + (i % 9)}`] }));
      const s = lensScore(pool);
      expect(s).toBeGreaterThanOrEqual(last);
      expect(s).toBeLessThanOrEqual(100);
      last = s;
    }
    expect(lensScore([risk({ score: 250 }), risk({ detection: 'x', score: -5 })])).toBe(100);
    expect(lensScore([risk({ score: Number.NaN })])).toBe(0);
  });

  it('a lone low hit stays low however many techniques its rule names', () => {
    const s = scoreRisks([risk({ score: LEVEL_SCORES.low, techniques: ['T1059', 'T1105', 'T1027'] })]);
    // three techniques from one detection still earn breadth, weighted by the weak base
    expect(s.score).toBeLessThan(25);
  });
});
