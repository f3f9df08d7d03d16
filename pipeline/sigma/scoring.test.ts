import { describe, expect, it } from 'vitest';
import { normalizeLevel, riskScoreForLevel, SIGMA_LEVEL_RISK, techniquesFromTags } from './scoring';

describe('level -> risk score', () => {
  it('is the documented mapping', () => {
    expect(SIGMA_LEVEL_RISK).toEqual({ informational: 5, low: 20, medium: 45, high: 70, critical: 90 });
    expect(riskScoreForLevel('informational')).toBe(5);
    expect(riskScoreForLevel('low')).toBe(20);
    expect(riskScoreForLevel('medium')).toBe(45);
    expect(riskScoreForLevel('high')).toBe(70);
    expect(riskScoreForLevel('critical')).toBe(90);
  });

  it('increases strictly with severity and stays within 0..100', () => {
    const scores = ['informational', 'low', 'medium', 'high', 'critical'].map(riskScoreForLevel);
    for (let i = 1; i < scores.length; i++) expect(scores[i]!).toBeGreaterThan(scores[i - 1]!);
    for (const s of scores) expect(s).toBeGreaterThan(0);
    for (const s of scores) expect(s).toBeLessThan(100);
  });

  it('normalises case and treats unknown or missing levels as low', () => {
    expect(riskScoreForLevel(' High ')).toBe(70);
    expect(normalizeLevel('severe')).toBe('low');
    expect(riskScoreForLevel(undefined)).toBe(20);
    expect(riskScoreForLevel(3)).toBe(20);
  });
});

describe('techniquesFromTags', () => {
  it('keeps ATT&CK technique tags, upper-cased, without tactics or duplicates', () => {
    expect(
      techniquesFromTags([
        'attack.execution',
        'attack.t1059.001',
        'attack.T1059.001',
        'attack.t1003',
        'cve.2021-1675',
        'attack.g0016',
      ]),
    ).toEqual(['T1059.001', 'T1003']);
  });
});
