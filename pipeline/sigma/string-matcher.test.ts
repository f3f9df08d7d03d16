import { describe, expect, it } from 'vitest';
import { parseSigmaString } from './sigma-string';
import { compileAllOf, compileAnyOf, rarestBigram } from './string-matcher';

const any = (patterns: string[], cased = false) => compileAnyOf(patterns.map(parseSigmaString), cased);

describe('compileAnyOf', () => {
  it('matches exact, prefix, suffix, contains and general globs', () => {
    expect(any(['abc'])('abc')).toBe(true);
    expect(any(['abc'])('abcd')).toBe(false);
    expect(any(['ab*'])('abxyz')).toBe(true);
    expect(any(['*yz'])('abxyz')).toBe(true);
    expect(any(['*bx*'])('abxyz')).toBe(true);
    expect(any(['a*x*z'])('abxyz')).toBe(true);
    expect(any(['a*x*z'])('abxy')).toBe(false);
    // middle segment must not overlap the tail
    expect(any(['a*bc*c'])('abc')).toBe(false);
    expect(any(['a*bc*c'])('abcc')).toBe(true);
    expect(any(['*'])('')).toBe(true);
  });

  it('treats ? as exactly one character', () => {
    expect(any(['a?c'])('abc')).toBe(true);
    expect(any(['a?c'])('ac')).toBe(false);
    expect(any(['a?c'])('abbc')).toBe(false);
    expect(any(['*.ex?'])('c:\\x.exe')).toBe(true);
  });

  it('lower-cases patterns unless cased (values arrive lower-cased from the event view)', () => {
    expect(any(['*\\CMD.EXE'])('c:\\windows\\cmd.exe')).toBe(true);
    expect(any(['*\\CMD.EXE'], true)('c:\\windows\\cmd.exe')).toBe(false);
    expect(any(['*\\CMD.EXE'], true)('C:\\Windows\\CMD.EXE')).toBe(true);
  });

  it('handles long suffix lists of file names and mixed suffixes', () => {
    const t = any(['*\\a.exe', '*\\b.exe', '*.ps1', '*\\dir\\c.exe']);
    expect(t('c:\\x\\b.exe')).toBe(true);
    expect(t('b.exe')).toBe(false); // `\b.exe` requires the backslash
    expect(t('c:\\x\\script.ps1')).toBe(true);
    expect(t('c:\\dir\\c.exe')).toBe(true);
    expect(t('c:\\other\\c.exe')).toBe(false);
  });

  it('finds substrings in long values (bigram prefilter) without false negatives', () => {
    const needles = ['invoke-mimikatz', 'get-process', 'x', 'zz'];
    const t = any(needles.map((n) => `*${n}*`));
    const filler = 'lorem ipsum dolor sit amet '.repeat(50);
    expect(t(filler.replace(/x/g, ''))).toBe(false);
    expect(t(`${filler}invoke-mimikatz -dumpcreds`.replace(/x/g, ''))).toBe(true);
    expect(t(`${filler}get-process lsass`.replace(/x/g, ''))).toBe(true);
    expect(t(`${filler}zz`.replace(/x/g, ''))).toBe(true);
    // alternate long values (the bit-set cache holds several)
    const a = `${'a'.repeat(400)}invoke-mimikatz`;
    const b = 'b'.repeat(400);
    for (let i = 0; i < 3; i++) {
      expect(t(a)).toBe(true);
      expect(t(b)).toBe(false);
    }
  });
});

describe('guarded substring lists', () => {
  it('find every literal of a long list, and nothing else', () => {
    const kws = [
      'sekurlsa::',
      'lsadump::',
      'kerberos::golden',
      'mimidrv.sys',
      '\\mimilib.dll',
      'gentilkiwi.com',
      'a',
      'xy',
    ];
    const t = any(kws.map((k) => `*${k}*`));
    for (const k of kws) {
      expect(t(`prefix ${k} suffix`)).toBe(true);
      expect(t(k)).toBe(true);
    }
    expect(t('what a benign text')).toBe(true); // contains 'a'
    const noA = any(kws.filter((k) => k !== 'a').map((k) => `*${k}*`));
    expect(noA('what a benign text')).toBe(false);
    expect(noA('sekurlsa:')).toBe(false);
    expect(noA('x y')).toBe(false);
  });

  it('pick a rare bigram as the guard', () => {
    expect(rarestBigram('sekurlsa::')).toBe('::');
    expect(rarestBigram('mimidrv.sys')).toBe('v.');
  });
});

describe('compileAllOf', () => {
  it('requires every group, each group being an OR of alternatives', () => {
    const t = compileAllOf(
      [[parseSigmaString('*a*')], [parseSigmaString('*b*'), parseSigmaString('*c*')]],
      false,
    );
    expect(t('xaxc')).toBe(true);
    expect(t('xax')).toBe(false);
    expect(t('bc')).toBe(false);
  });
});
