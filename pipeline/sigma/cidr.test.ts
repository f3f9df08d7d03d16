import { describe, expect, it } from 'vitest';
import { compileCidr, parseCidr, parseIPv6 } from './cidr';

describe('cidr', () => {
  it('matches IPv4 prefixes', () => {
    const t = compileCidr(['10.0.0.0/8', '192.168.1.0/24', '172.16.0.0/12']);
    expect(t('10.200.3.4')).toBe(true);
    expect(t('192.168.1.77')).toBe(true);
    expect(t('192.168.2.1')).toBe(false);
    expect(t('172.31.255.255')).toBe(true);
    expect(t('172.32.0.1')).toBe(false);
    expect(t('not an ip')).toBe(false);
  });

  it('matches IPv6 prefixes and IPv4-mapped IPv6 values', () => {
    const t = compileCidr(['fe80::/10', '::1/128', '127.0.0.0/8']);
    expect(t('fe80::1c2b:3a4d:5e6f:7a8b')).toBe(true);
    expect(t('FE80::1%12')).toBe(true);
    expect(t('::1')).toBe(true);
    expect(t('2001:db8::1')).toBe(false);
    expect(t('::ffff:127.0.0.1')).toBe(true);
  });

  it('parses the usual notations and rejects bad ones', () => {
    expect(parseIPv6('2001:db8::')?.[3]).toBe(0xb8);
    expect(parseIPv6('1:2:3:4:5:6:7:8')).toBeDefined();
    expect(parseIPv6('1:2:3')).toBeUndefined();
    expect(parseCidr('10.0.0.1').bits).toBe(32);
    expect(() => parseCidr('10.0.0.0/33')).toThrow();
    expect(() => parseCidr('300.0.0.0/8')).toThrow();
  });
});
