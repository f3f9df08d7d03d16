import { describe, expect, it } from 'vitest';
import { safeNext } from './safe-next';

describe('safeNext', () => {
  it('follows same-site paths only', () => {
    expect(safeNext('/pipeline')).toBe('/pipeline');
    expect(safeNext('/incidents?lens=abc')).toBe('/incidents?lens=abc');
    for (const bad of [
      undefined,
      '',
      'https://evil.example',
      '//evil.example',
      '/\\evil.example',
      '/login',
      'pipeline',
    ]) {
      expect(safeNext(bad)).toBe('/incidents');
    }
  });
});
