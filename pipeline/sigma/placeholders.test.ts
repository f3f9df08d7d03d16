import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PLACEHOLDERS_FILE, parsePlaceholders } from './placeholders';

describe('placeholders file', () => {
  it('parses single values and lists as lists of strings', () => {
    expect(parsePlaceholders("placeholders:\n  a: x\n  b:\n    - 1\n    - 'y*'\n")).toEqual({
      a: ['x'],
      b: ['1', 'y*'],
    });
    expect(parsePlaceholders('placeholders:\n')).toEqual({});
    expect(parsePlaceholders('')).toEqual({});
  });

  it('rejects unknown keys and bad names', () => {
    expect(() => parsePlaceholders('placeholder: {}')).toThrow(/invalid placeholders file/);
    expect(() => parsePlaceholders("placeholders:\n  'bad name': x\n")).toThrow(/invalid placeholders file/);
  });

  it('the shipped config is valid', () => {
    const ph = parsePlaceholders(readFileSync(DEFAULT_PLACEHOLDERS_FILE, 'utf8'));
    expect(ph.administrators_group).toContain('Administrators');
  });
});
