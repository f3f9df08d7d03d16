import { describe, expect, it } from 'vitest';
import { relativeRulePath } from './detections';

describe('relativeRulePath', () => {
  it('names a rule by its path inside the folder it was found in', () => {
    expect(relativeRulePath(['/r/a', '/r/b'], '/r/b/windows/x.yml')).toBe('windows/x.yml');
    expect(relativeRulePath(['/r/a'], '/r/a/x.yml')).toBe('x.yml');
    expect(relativeRulePath(['/r/one.yml'], '/r/one.yml')).toBe('one.yml');
    expect(relativeRulePath(['/r/a'], '/elsewhere/y.yml')).toBe('y.yml');
  });
});
