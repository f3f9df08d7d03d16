import { describe, expect, it } from 'vitest';
import { seededShuffle } from '../../test/seeded-shuffle';
import { scoreRisks } from './score';
import { aggregateRisks, strongerRisk, summarizeLens, type LensRisk } from './summary';

const risk = (over: Partial<LensRisk>): LensRisk => ({
  node: 'Process:1',
  detection: 'sigma:a',
  title: 'A',
  score: 45,
  techniques: [],
  count: 1,
  host: 'WS1',
  firstSeen: 10,
  lastSeen: 20,
  ...over,
});

describe('lens summary', () => {
  it('names the lens after its strongest risk, counts the other detections, lists up to three hosts', () => {
    const s = summarizeLens('engagement', [
      risk({ detection: 'sigma:low', title: 'Low one', score: 20, lastSeen: 99 }),
      risk({
        detection: 'analyzer:dump',
        title: 'Credential dump',
        score: 90,
        node: 'Process:2',
        host: 'DC1',
      }),
      risk({ detection: 'sigma:mid', title: 'Mid', score: 45, host: 'WS2' }),
      risk({ detection: 'sigma:mid', title: 'Mid', score: 45, host: 'WS3', node: 'Process:3' }),
      risk({ detection: 'sigma:mid', title: 'Mid', score: 45, host: 'WS4', node: 'Process:4' }),
    ]);
    expect(s.title).toBe('Credential dump (+2 detections) on DC1, WS1, WS2 +2');
    const two = summarizeLens('engagement', [
      risk({ detection: 'sigma:low', title: 'Low one', score: 20 }),
      risk({ detection: 'analyzer:dump', title: 'Credential dump', score: 90 }),
    ]);
    expect(two.title).toBe('Credential dump (+1 detection) on WS1');
    expect(summarizeLens('engagement', [risk({ title: 'Alone', score: 90 })]).title).toBe('Alone on WS1');
    expect(s.hosts).toEqual(['DC1', 'WS1', 'WS2', 'WS3', 'WS4']);
    expect(s).toMatchObject({
      detections: 3,
      riskCount: 5,
      riskyCount: 4,
      hitCount: 5,
      firstSeen: 10,
      lastSeen: 99,
    });
  });

  it('an asset lens is named after its host, with or without risks', () => {
    expect(summarizeLens('asset', [], 'SRV1')).toMatchObject({
      title: 'SRV1',
      hosts: ['SRV1'],
      score: 0,
      riskCount: 0,
      firstSeen: null,
    });
    expect(summarizeLens('asset', [risk({ title: 'Mimikatz', host: 'SRV1' })], 'SRV1').title).toBe(
      'SRV1: Mimikatz',
    );
    expect(summarizeLens('engagement', []).title).toBe('Engagement');
  });

  it('breaks ties on score and time by the title last in code-point order, whatever the input order', () => {
    const tied = [
      risk({ title: 'Alpha', detection: 'a' }),
      risk({ title: 'beta', detection: 'b' }),
      risk({ title: 'Gamma', detection: 'c' }),
    ];
    for (let seed = 1; seed <= 5; seed++) {
      expect(aggregateRisks(seededShuffle(tied, seed)).topTitle).toBe('beta');
    }
    expect(strongerRisk(risk({ score: 50 }), risk({ score: 40, lastSeen: 999 }))).toBeLessThan(0);
    expect(strongerRisk(risk({ lastSeen: 5 }), risk({ lastSeen: 6 }))).toBeGreaterThan(0);
    expect(strongerRisk(risk({ title: 'x' }), risk({ title: 'x' }))).toBe(0);
  });

  it('the score from the aggregates is the score from the risks, and the summary does not depend on risk order', () => {
    const risks: LensRisk[] = [];
    for (let i = 0; i < 60; i++) {
      risks.push(
        risk({
          node: `Process:${i % 7}`,
          detection: `sigma:${i % 9}`,
          title: `T${i % 9}`,
          score: (i * 37) % 101,
          techniques: i % 4 === 0 ? [`T10${10 + (i % 5)}.00${i % 3}`] : [],
          count: (i % 3) + 1,
          host: i % 5 === 0 ? null : `H${i % 4}`,
          firstSeen: i % 6 === 0 ? null : 1000 - i,
          lastSeen: 2000 + ((i * 13) % 17),
        }),
      );
    }
    const s = summarizeLens('engagement', risks);
    expect(s.score).toBe(scoreRisks(risks).score);
    expect(s.riskyCount).toBe(7);
    expect(s.detections).toBe(9);
    for (let seed = 1; seed <= 5; seed++)
      expect(summarizeLens('engagement', seededShuffle(risks, seed))).toEqual(s);
  });
});
