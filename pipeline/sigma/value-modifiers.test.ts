import { describe, expect, it } from 'vitest';
import { formatSigmaString, parseSigmaString, plainString, toPlain } from './sigma-string';
import { base64, base64offset, expandPlaceholders, utf16, windash } from './value-modifiers';

const plain = (s: ReturnType<typeof plainString>) => toPlain(s, 'test');

describe('encoding modifiers', () => {
  it('base64 encodes the UTF-8 bytes', () => {
    expect(plain(base64(plainString('cmd')))).toBe('Y21k');
  });

  it('base64offset yields the three shifted encodings without their unstable edge characters', () => {
    // Reference values: pySigma's SigmaBase64OffsetModifier.
    expect(base64offset(plainString('sigma rules')).map(plain)).toEqual([
      'c2lnbWEgcnVsZX',
      'NpZ21hIHJ1bGVz',
      'zaWdtYSBydWxlc',
    ]);
    expect(base64offset(plainString('Invoke-Mimikatz')).map(plain)).toEqual([
      'SW52b2tlLU1pbWlrYXR6',
      'ludm9rZS1NaW1pa2F0e',
      'JbnZva2UtTWltaWthdH',
    ]);
  });

  it('utf16le / utf16be / utf16 (with BOM) feed base64 as bytes', () => {
    expect(plain(base64(utf16(plainString('cmd'), 'utf16le')))).toBe('YwBtAGQA');
    expect(plain(base64(utf16(plainString('cmd'), 'utf16be')))).toBe('AGMAbQBk');
    expect(plain(base64(utf16(plainString('cmd'), 'utf16')))).toBe('//5jAG0AZAA=');
    expect(base64offset(utf16(plainString('ping'), 'utf16le')).map(plain)).toEqual([
      'cABpAG4AZw',
      'AAaQBuAGcA',
      'wAGkAbgBnA',
    ]);
  });

  it('refuses base64 of a value with wildcards', () => {
    expect(() => base64(parseSigmaString('a*'))).toThrow(/wildcards/);
  });
});

describe('windash', () => {
  it('permutes every switch-leading dash over - / and the three unicode dashes', () => {
    const out = windash(parseSigmaString(' -enc ')).map(formatSigmaString);
    expect(out).toEqual([' -enc ', ' /enc ', ' \u2013enc ', ' \u2014enc ', ' \u2015enc ']);
  });

  it('leaves dashes inside words alone and permutes each switch independently', () => {
    expect(windash(parseSigmaString('Invoke-Thing')).map(formatSigmaString)).toEqual(['Invoke-Thing']);
    expect(windash(parseSigmaString('-a -b'))).toHaveLength(25);
    // a leading slash is a switch too
    expect(windash(parseSigmaString('/c')).map(formatSigmaString)).toContain('-c');
  });
});

describe('expandPlaceholders', () => {
  it('substitutes every combination of values', () => {
    expect(expandPlaceholders('%a%\\%b%', { a: ['x', 'y'], b: ['1'] })).toEqual(['x\\1', 'y\\1']);
    expect(expandPlaceholders('no placeholder', {})).toEqual(['no placeholder']);
    expect(expandPlaceholders('%Known_CDCS%', { known_cdcs: ['dc1'] })).toEqual(['dc1']);
  });

  it('rejects an undefined placeholder', () => {
    expect(() => expandPlaceholders('%missing%', {})).toThrow(/undefined placeholder %missing%/);
  });
});
