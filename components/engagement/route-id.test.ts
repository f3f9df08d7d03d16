import { describe, expect, it } from 'vitest';
import { lensHref } from './api';
import { lensIdFromSegment } from './route-id';

describe('lens ids in the address', () => {
  it('decodes an encoded segment once and leaves a plain one alone', () => {
    expect(lensIdFromSegment('eng%3Aabc123')).toBe('eng:abc123');
    expect(lensIdFromSegment('eng:abc123')).toBe('eng:abc123');
    expect(lensIdFromSegment('asset:WS%ZZ')).toBe('asset:WS%ZZ');
  });

  it('builds links that hold the lens and the selected node', () => {
    expect(lensHref('eng:1')).toBe('/incidents/eng%3A1');
    expect(lensHref('eng:1', 'Process:{a b}')).toBe('/incidents/eng%3A1?node=Process%3A%7Ba%20b%7D');
    const href = lensHref('asset:WS5', 'File:c:\\x');
    const url = new URL(href, 'http://x');
    expect(lensIdFromSegment(url.pathname.split('/').pop()!)).toBe('asset:WS5');
    expect(url.searchParams.get('node')).toBe('File:c:\\x');
  });
});
