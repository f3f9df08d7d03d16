import { describe, expect, it } from 'vitest';
import { escapeLucene, literalQuery, SEARCH_WORDS_MAX } from './lucene';

describe('literalQuery', () => {
  it('matches each word as a phrase or (for plain words) as a prefix', () => {
    expect(literalQuery('cmd.exe')).toBe('("cmd.exe" OR cmd.exe*)');
    expect(literalQuery('  Mimikatz   lsass ')).toBe('("mimikatz" OR mimikatz*) AND ("lsass" OR lsass*)');
    expect(literalQuery('C:\\Temp\\x.exe')).toBe('("c\\:\\\\temp\\\\x.exe")');
  });

  it('leaves nothing Lucene would read as syntax', () => {
    for (const payload of [
      '*:*',
      'a OR b',
      'image:* AND NOT x',
      '"unterminated',
      '/regex.*/',
      'foo~2 bar^10',
      '(a) [b TO c] {d}',
      '\\',
      "' OR 1=1 //",
      '}) RETURN n //',
      '<script>alert(1)</script>',
      '&& || !',
    ]) {
      const q = literalQuery(payload);
      if (q === null) continue;
      // Outside the quoted phrases, only our own operators, parentheses and trailing prefix stars remain.
      const outside = q.replace(/"(?:[^"\\]|\\.)*"/g, '""');
      expect(outside).toMatch(/^(\(""( OR (?:[^\s()"*:\\]|\\.)+\*)?\)( AND |$))+$/);
      expect(q).not.toMatch(/\b(OR|AND|NOT)\b(?=[^"]*"[^"]*$)/);
    }
  });

  it('lower-cases operators away and drops punctuation-only words', () => {
    expect(literalQuery('a OR b')).toBe('("a") AND ("or" OR or*) AND ("b")');
    expect(literalQuery('*:* && ||')).toBeNull();
    expect(literalQuery('   ')).toBeNull();
    expect(literalQuery('\u0000\u0007')).toBeNull();
  });

  it('takes at most SEARCH_WORDS_MAX words', () => {
    const q = literalQuery(Array.from({ length: 20 }, (_, i) => `w${i}`).join(' '))!;
    expect(q.split(' AND ')).toHaveLength(SEARCH_WORDS_MAX);
  });

  it('escapes every special character', () => {
    expect(escapeLucene('+-&|!(){}[]^"~*?:\\/<>=')).toBe('\\+\\-\\&\\|\\!\\(\\)\\{\\}\\[\\]\\^\\"\\~\\*\\?\\:\\\\\\/\\<\\>\\=');
  });
});
