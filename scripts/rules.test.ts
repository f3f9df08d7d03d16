import { describe, expect, it } from 'vitest';
import { formatSummary, summarizeReport } from './rules';

describe('rules --check output', () => {
  const report = {
    loaded: 3,
    correlations: 1,
    byLogsource: { 'windows/process_creation': 2, 'windows/security': 1 },
    skipped: [
      {
        path: '/r/a.yml',
        id: 'a',
        title: 'A',
        reason: 'unsupported logsource: linux/process_creation (only product windows is supported)',
      },
      { path: '/r/b.yml', reason: 'YAML error: bad indentation' },
      {
        path: '/r/c.yml',
        id: 'c',
        title: 'C',
        reason: 'unsupported logsource: linux/process_creation (only product windows is supported)',
      },
    ],
  };

  it('groups skipped rules by reason with counts, most frequent first', () => {
    const s = summarizeReport(['/r'], report);
    expect(Object.entries(s.skippedByReason)).toEqual([
      ['unsupported logsource: linux/process_creation (only product windows is supported)', 2],
      ['YAML error: bad indentation', 1],
    ]);
  });

  it('prints counts and every skipped rule under its reason', () => {
    const text = formatSummary(summarizeReport(['/r'], report));
    expect(text).toContain('loaded: 3 rules, 1 correlation rules; skipped: 3');
    expect(text).toMatch(/2 {2}unsupported logsource: linux\/process_creation/);
    expect(text).toContain('/r/a.yml  (a A)');
    expect(text).toContain('/r/b.yml');
  });
});
