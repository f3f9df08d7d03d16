import { describe, expect, it } from 'vitest';
import { isAscii, requiredLiterals } from './regex-prefilter';

describe('requiredLiterals', () => {
  it('collects the literal runs of a top-level concatenation, lower-cased', () => {
    expect(
      requiredLiterals('(Copy-Item|cpi) .{2,128} -Destination .{1,32}\\\\Windows\\\\(System32|SysWOW64)'),
    ).toEqual([' -destination ', '\\windows\\']);
    expect(requiredLiterals('(?i)(set).*&&\\s?set.*(environment|invoke|\\$\\{?input).*&&.*"')).toEqual([
      '&&',
      'set',
    ]);
  });

  it('drops characters a quantifier makes optional and keeps those repeated at least once', () => {
    expect(requiredLiterals('abcd?efg')).toEqual(['abc', 'efg']);
    expect(requiredLiterals('abcd*efg')).toEqual(['abc', 'efg']);
    expect(requiredLiterals('abcd+efg')).toEqual(['abcd', 'efg']);
    expect(requiredLiterals('abcd{0,3}efg')).toEqual(['abc', 'efg']);
    expect(requiredLiterals('abcd{2}efg')).toEqual(['abcd', 'efg']);
    expect(requiredLiterals('abcd*?efg')).toEqual(['abc', 'efg']);
  });

  it('yields nothing for top-level alternation, and treats groups, classes and escapes as opaque', () => {
    expect(requiredLiterals('abc|def')).toEqual([]);
    expect(requiredLiterals('x(abc|def)y')).toEqual([]);
    expect(requiredLiterals('foo[|]bar')).toEqual(['foo', 'bar']);
    expect(requiredLiterals('foo\\dbar\\.baz')).toEqual(['foo', 'bar.baz']);
    expect(requiredLiterals('^foo$')).toEqual(['foo']);
  });

  it('keeps short literals only when they hold punctuation', () => {
    expect(requiredLiterals('ab.cd')).toEqual([]);
    expect(requiredLiterals('a;.b:')).toEqual(['a;', 'b:']);
    expect(requiredLiterals('x.&&.y')).toEqual(['&&']);
  });

  it('never reports a literal a matching value lacks (checked on sample matches)', () => {
    const cases: Array<[string, string]> = [
      [
        '(Copy-Item|cpi) .{2,128} -Destination .{1,32}\\\\Windows\\\\(System32|SysWOW64)',
        'cpi ab -Destination c:\\Windows\\System32',
      ],
      ['\\$[A-Za-z]+\\s*=\\s*\\[char\\[\\]\\]', '$a = [char[]]'],
      ['(?i)iex\\s*\\(', 'IEX ('],
      ['a{2,}b+c?d', 'aabbd'],
    ];
    for (const [re, value] of cases) {
      expect(new RegExp(re.replace('(?i)', ''), re.startsWith('(?i)') ? 'i' : '').test(value)).toBe(true);
      for (const lit of requiredLiterals(re)) expect(value.toLowerCase()).toContain(lit);
    }
  });
});

describe('isAscii', () => {
  it('detects non-ASCII characters', () => {
    expect(isAscii('plain text 123')).toBe(true);
    expect(isAscii('\u212a')).toBe(false);
  });
});
