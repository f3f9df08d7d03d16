import { describe, expect, it } from 'vitest';
import { ago, foldedChips, hashList, isLongValue, isoTime, localTime, parseTags, propText, riskLevel, shortTime, sortedProps } from './format';

describe('format', () => {
  const t = Date.UTC(2020, 9, 19, 7, 30, 46, 251);

  it('formats times as ISO, local and short, em dash when unknown', () => {
    expect(isoTime(t)).toBe('2020-10-19T07:30:46.251Z');
    expect(isoTime('2020-10-19T07:30:46.251Z')).toBe('2020-10-19T07:30:46.251Z');
    expect(isoTime(null)).toBe('—');
    expect(isoTime('not a time')).toBe('—');
    expect(localTime(t, 'UTC')).toBe('19/10/2020, 07:30:46');
    expect(shortTime(t)).toBe('2020-10-19 07:30:46');
  });

  it('bands risk scores', () => {
    expect(riskLevel(0)).toBe('none');
    expect(riskLevel(Number.NaN)).toBe('none');
    expect(riskLevel(10)).toBe('low');
    expect(riskLevel(30)).toBe('medium');
    expect(riskLevel(60)).toBe('high');
    expect(riskLevel(80)).toBe('critical');
    expect(riskLevel(100)).toBe('critical');
  });

  it('shows property values as text, time properties as ISO', () => {
    expect(propText('create_time', t)).toBe('2020-10-19T07:30:46.251Z');
    expect(propText('first_seen', t)).toBe('2020-10-19T07:30:46.251Z');
    expect(propText('pid', 620)).toBe('620');
    expect(propText('sources', ['a.jsonl', 'b.jsonl'])).toBe('a.jsonl\nb.jsonl');
    expect(propText('command_line', '<script>x</script>')).toBe('<script>x</script>');
    expect(propText('x', null)).toBe('—');
  });

  it('orders properties identity first', () => {
    expect(sortedProps({ zeta: 1, pid: 2, image: 'a', alpha: 3 }).map(([k]) => k)).toEqual([
      'image',
      'pid',
      'alpha',
      'zeta',
    ]);
  });

  it('treats command lines and long values as long', () => {
    expect(isLongValue('command_line', 'a')).toBe(true);
    expect(isLongValue('x', 'a'.repeat(81))).toBe(true);
    expect(isLongValue('x', 'short')).toBe(false);
  });

  it('parses tags', () => {
    expect(parseTags(' apt, lateral ,apt,, ')).toEqual(['apt', 'lateral']);
  });

  it('relative times', () => {
    const now = Date.parse('2020-01-01T01:00:00Z');
    expect(ago('2020-01-01T00:59:30Z', now)).toBe('30s ago');
    expect(ago('2020-01-01T00:00:00Z', now)).toBe('1h ago');
    expect(ago(null, now)).toBe('—');
  });
});

import { groupName } from './neighbour-groups';

describe('neighbour group names', () => {
  it('names known kinds by direction and falls back to the kind', () => {
    expect(groupName('PARENT_OF', 'out')).toBe('Child processes (PARENT_OF →)');
    expect(groupName('PARENT_OF', 'in')).toBe('Parent process (PARENT_OF ←)');
    expect(groupName('WEIRD', 'both')).toBe('WEIRD ↔');
  });
});

describe('foldedChips', () => {
  const ids = (n: number) => Array.from({ length: n }, (_, i) => `T${1000 + i}`);
  it('shows a list of at most max whole', () => {
    expect(foldedChips(ids(8), 8)).toEqual({ shown: ids(8), hidden: 0 });
    expect(foldedChips([], 8)).toEqual({ shown: [], hidden: 0 });
  });
  it('folds a longer one to max chips, the button counting as one, and counts what it hides', () => {
    const folded = foldedChips(ids(56), 8);
    expect(folded.shown).toEqual(ids(7));
    expect(folded.hidden).toBe(49);
    expect(folded.shown.length + folded.hidden).toBe(56);
    expect(foldedChips(ids(9), 8)).toEqual({ shown: ids(7), hidden: 2 });
    expect(foldedChips(ids(3), 1)).toEqual({ shown: ids(1), hidden: 2 });
  });
});

describe('hashList', () => {
  it("splits Sysmon's Hashes value into algorithm and digest pairs", () => {
    expect(hashList('hashes', 'SHA1=36C5D1,MD5=CDA48F,SHA256=908B64,IMPHASH=A7CEFA')).toEqual([
      { algorithm: 'SHA1', digest: '36C5D1' },
      { algorithm: 'MD5', digest: 'CDA48F' },
      { algorithm: 'SHA256', digest: '908B64' },
      { algorithm: 'IMPHASH', digest: 'A7CEFA' },
    ]);
    expect(hashList('hashes', 'sha256=ab01')).toEqual([{ algorithm: 'SHA256', digest: 'ab01' }]);
  });
  it('leaves anything else as it is: other properties, other shapes, attacker text', () => {
    expect(hashList('command_line', 'SHA1=36C5D1')).toBeNull();
    expect(hashList('hashes', 'SHA1=36C5D1,<img src=x onerror=alert(1)>')).toBeNull();
    expect(hashList('hashes', 'SHA1=not-hex')).toBeNull();
    expect(hashList('hashes', '')).toBeNull();
    expect(hashList('hashes', ['SHA1=36C5D1'])).toBeNull();
  });
});
