/** defineAnalyzer's checks of what an analyzer module declares (modules are untrusted-ish input). */
import { describe, expect, it } from 'vitest';
import { defineAnalyzer } from './define';
import { exists, match } from './index';

const base = {
  id: 'define-test',
  title: 'Define test',
  techniques: ['T1059'],
  score: 10,
  query: match('Process', 'p', { image: exists() }),
  hits: () => [],
};

describe('defineAnalyzer', () => {
  it('compiles each declared expansion, whatever its variables', () => {
    const parentOf = match('Process', 'child').parent('child', 'parent', { image: exists() });
    const a = defineAnalyzer({ ...base, expansions: [parentOf, match('File', 'f')] });
    expect(a.expansions.map((e) => e.query)).toEqual([parentOf, expect.anything()]);
    expect(a.expansions[0]!.compiled.cypher).toContain('PARENT_OF');
  });

  it('refuses an expansion that was not built with the SDK', () => {
    const forged = { spec: match('Process', 'p').spec };
    expect(() => defineAnalyzer({ ...base, expansions: [forged] })).toThrow(
      /expansions\[0\] must be a query built with the SDK/,
    );
    // @ts-expect-error -- a string is no query: the type says so before the check at run time does
    expect(() => defineAnalyzer({ ...base, expansions: ['MATCH (n) RETURN n'] })).toThrow(/expansions\[0\]/);
  });
});
