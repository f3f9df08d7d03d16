import { describe, expect, it } from 'vitest';
import { clientAddressOf } from './context';
import { hasCsrfHeader, needsCsrfHeader } from './plugins';

const url = (q = '') => new URL(`http://localhost/api/graphql${q}`);

describe('CSRF rule', () => {
  it('requires the header on every POST, cookie or not', () => {
    expect(needsCsrfHeader('POST', url(), new Headers())).toBe(true);
    expect(needsCsrfHeader('POST', url(), new Headers({ cookie: 'lg_session=x' }))).toBe(true);
  });

  it('requires it on GETs that carry a query, not on plain GETs or preflights', () => {
    expect(needsCsrfHeader('GET', url('?query={me{username}}'), new Headers())).toBe(true);
    expect(needsCsrfHeader('GET', url(), new Headers())).toBe(false);
    expect(needsCsrfHeader('OPTIONS', url(), new Headers())).toBe(false);
  });

  it('exempts bearer-token requests without cookies only', () => {
    expect(needsCsrfHeader('POST', url(), new Headers({ authorization: 'Bearer abc' }))).toBe(false);
    expect(
      needsCsrfHeader('POST', url(), new Headers({ authorization: 'Bearer abc', cookie: 'lg_session=x' })),
    ).toBe(true);
  });

  it('accepts only the exact header value', () => {
    expect(hasCsrfHeader(new Headers({ 'x-lensgraph-csrf': '1' }))).toBe(true);
    expect(hasCsrfHeader(new Headers({ 'x-lensgraph-csrf': 'yes' }))).toBe(false);
    expect(hasCsrfHeader(new Headers())).toBe(false);
  });
});

describe('client address', () => {
  it('takes the last X-Forwarded-For hop', () => {
    expect(clientAddressOf(new Headers({ 'x-forwarded-for': '1.1.1.1, 10.0.0.2' }))).toBe('10.0.0.2');
    expect(clientAddressOf(new Headers({ 'x-forwarded-for': '::1' }))).toBe('::1');
    expect(clientAddressOf(new Headers())).toBe('unknown');
    expect(clientAddressOf(new Headers({ 'x-forwarded-for': 'x'.repeat(100) }))).toBe('unknown');
  });
});
