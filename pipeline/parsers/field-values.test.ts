import { describe, expect, it } from 'vitest';
import {
  fieldString,
  hexOrDecimalToDecimal,
  jsonNestingExceeds,
  normalizeGuid,
  parseTimestamp,
  safeFirstBytes,
  setField,
  unpadHex,
} from './field-values';

describe('normalizeGuid', () => {
  it('strips braces and upper-cases', () => {
    expect(normalizeGuid('{d273d0f0-d905-5f63-6a05-000000000400}')).toBe(
      'D273D0F0-D905-5F63-6A05-000000000400',
    );
    expect(normalizeGuid('{D273D0F0-D905-5F63-6A05-000000000400}')).toBe(
      'D273D0F0-D905-5F63-6A05-000000000400',
    );
    expect(normalizeGuid('0197231e-9be6-6934-5301-000000000b00')).toBe(
      '0197231E-9BE6-6934-5301-000000000B00',
    );
  });
  it('leaves non-GUID values alone', () => {
    expect(normalizeGuid('-')).toBe('-');
    expect(normalizeGuid('')).toBe('');
    expect(normalizeGuid('{not-a-guid-at-all-but-38-chars-long!}')).toBe(
      '{not-a-guid-at-all-but-38-chars-long!}',
    );
  });
});

describe('field values', () => {
  it('shortens zero-padded hex (GrantedAccess 0x00001010 -> 0x1010)', () => {
    expect(fieldString('GrantedAccess', '0x00001010')).toBe('0x1010');
    expect(fieldString('GrantedAccess', '0x1010')).toBe('0x1010');
    expect(fieldString('GrantedAccess', '0x001fffff')).toBe('0x1fffff');
    expect(fieldString('SubjectLogonId', '0x000000000007b186')).toBe('0x7b186');
    expect(unpadHex('0x00000000')).toBe('0x0');
    expect(unpadHex('0x0000zzzz')).toBe('0x0000zzzz');
  });
  it('lower-cases the Sysmon booleans only', () => {
    expect(fieldString('Initiated', 'True')).toBe('true');
    expect(fieldString('Initiated', 'FALSE')).toBe('false');
    expect(fieldString('Initiated', true)).toBe('true');
    expect(fieldString('DestinationIsIpv6', 'False')).toBe('false');
    expect(fieldString('CommandLine', 'True')).toBe('True');
  });
  it('turns numbers into decimal strings and null into empty', () => {
    expect(fieldString('ProcessId', 3412)).toBe('3412');
    expect(fieldString('RuleName', null)).toBe('');
    expect(fieldString('Data', ['a', 'b', 1])).toBe('a\nb\n1');
    expect(fieldString('X', { '#text': 5 })).toBe('5');
  });
  it('adds the ...Guid spelling to ...GUID fields', () => {
    const f: Record<string, string> = {};
    setField(f, 'SourceProcessGUID', '{365abb72-9b75-5c8e-0000-0010013f1200}');
    expect(f).toEqual({
      SourceProcessGUID: '365ABB72-9B75-5C8E-0000-0010013F1200',
      SourceProcessGuid: '365ABB72-9B75-5C8E-0000-0010013F1200',
    });
  });
  it('converts Security hex PIDs', () => {
    expect(hexOrDecimalToDecimal('0x1660')).toBe('5728');
    expect(hexOrDecimalToDecimal('5728')).toBe('5728');
    expect(hexOrDecimalToDecimal('0xZZ')).toBeUndefined();
    expect(hexOrDecimalToDecimal('')).toBeUndefined();
  });
});

describe('parseTimestamp', () => {
  it('reads Sysmon UtcTime as UTC', () => {
    expect(parseTimestamp('2020-10-18 19:50:22.123')).toBe(Date.UTC(2020, 9, 18, 19, 50, 22, 123));
    expect(parseTimestamp('2020-10-18 19:50:22')).toBe(Date.UTC(2020, 9, 18, 19, 50, 22));
    expect(parseTimestamp('2020-10-18 19:50:22.1')).toBe(Date.UTC(2020, 9, 18, 19, 50, 22, 100));
  });
  it('reads ISO-8601 with zone and sub-millisecond digits', () => {
    expect(parseTimestamp('2019-04-30T20:32:50.902962Z')).toBe(Date.UTC(2019, 3, 30, 20, 32, 50, 902));
    expect(parseTimestamp('2024-05-01T10:00:02+02:00')).toBe(Date.UTC(2024, 4, 1, 8, 0, 2));
    expect(parseTimestamp('2024-05-01T10:00:02-0130')).toBe(Date.UTC(2024, 4, 1, 11, 30, 2));
  });
  it('refuses malformed times', () => {
    for (const bad of [
      '',
      'yesterday',
      '2020-13-01 00:00:00',
      '2020-10-18 25:00:00',
      '2020-10-18T19:50:22.Z',
      '2020-10-18 19:50:22 junk',
    ]) {
      expect(parseTimestamp(bad), bad).toBeNaN();
    }
  });
});

describe('jsonNestingExceeds', () => {
  it('counts only real nesting', () => {
    expect(jsonNestingExceeds('{"a":{"b":[1,2]}}', 2)).toBe(true);
    expect(jsonNestingExceeds('{"a":{"b":[1,2]}}', 3)).toBe(false);
    // Brackets inside strings are not nesting.
    expect(jsonNestingExceeds(JSON.stringify({ s: '{'.repeat(500) }), 2)).toBe(false);
    expect(jsonNestingExceeds('['.repeat(100) + ']'.repeat(100), 64)).toBe(true);
  });
});

describe('safeFirstBytes', () => {
  it('is short and has no control or bidi characters', () => {
    const s = safeFirstBytes('\u0000\u001b[31mred\u202Eevil' + 'x'.repeat(500));
    expect(s.length).toBe(200);
    expect(s.startsWith('..[31mred.evil')).toBe(true);
    expect(safeFirstBytes(new Uint8Array([0xff, 0xfe, 0x41]))).toBe('..A');
  });
});
