import { describe, expect, it } from 'vitest';
import { formatSigmaString, ONE, parseSigmaString, STAR } from './sigma-string';

describe('parseSigmaString', () => {
  it('splits wildcards from literals and collapses repeated stars', () => {
    expect(parseSigmaString('a*b?c').parts).toEqual(['a', STAR, 'b', ONE, 'c']);
    expect(parseSigmaString('**x**').parts).toEqual([STAR, 'x', STAR]);
  });

  it('treats a backslash before an ordinary character as literal (Windows paths need no doubling)', () => {
    expect(parseSigmaString('C:\\Windows\\System32\\').parts).toEqual(['C:\\Windows\\System32\\']);
  });

  it('applies the spec escapes: \\* \\? \\\\', () => {
    expect(parseSigmaString('a\\*b').parts).toEqual(['a*b']);
    expect(parseSigmaString('a\\?b').parts).toEqual(['a?b']);
    // \\* is a literal backslash followed by a wildcard
    expect(parseSigmaString('a\\\\*').parts).toEqual(['a\\', STAR]);
    // \\\* is a literal backslash and a literal star
    expect(parseSigmaString('a\\\\\\*').parts).toEqual(['a\\*']);
    // four backslashes are two literal backslashes (UNC prefix)
    expect(parseSigmaString('\\\\\\\\server').parts).toEqual(['\\\\server']);
  });

  it('round-trips through formatSigmaString', () => {
    for (const s of ['a*b?c', 'x\\*y', 'C:\\dir\\*']) {
      expect(parseSigmaString(formatSigmaString(parseSigmaString(s))).parts).toEqual(
        parseSigmaString(s).parts,
      );
    }
  });
});
