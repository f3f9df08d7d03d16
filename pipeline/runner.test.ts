import { describe, expect, it } from 'vitest';
import { jobOptions, successorJobId } from './runner';
import { StageRegistry } from '../domain/stages';

describe('successorJobId', () => {
  it('depends on the set of chunks, not their order', () => {
    expect(successorJobId('merge', ['b', 'a'])).toBe(successorJobId('merge', ['a', 'b']));
    expect(successorJobId('merge', ['a'])).not.toBe(successorJobId('merge', ['a', 'b']));
    expect(successorJobId('merge', ['a'])).not.toBe(successorJobId('engage', ['a']));
  });

  it('contains no colon (BullMQ reserves it in custom ids)', () => {
    expect(successorJobId('parse', ['x/1'])).not.toContain(':');
  });
});

describe('jobOptions', () => {
  it('takes retry policy from the registry', () => {
    const o = jobOptions('merge', 'id');
    expect(o.attempts).toBe(StageRegistry.merge.attempts);
    expect(o.backoff.delay).toBe(StageRegistry.merge.backoffMs);
    expect(o.jobId).toBe('id');
  });
});
