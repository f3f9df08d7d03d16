import { describe, expect, it } from 'vitest';
import type { LensChangeOutcome } from '../engagement/api';
import { bulkSummary, refusedIds } from './bulk';

const ok = (id: string): LensChangeOutcome => ({
  id,
  lens: { id, status: 'Closed', assignee: null },
  error: null,
});
const no = (id: string, message: string): LensChangeOutcome => ({
  id,
  lens: null,
  error: { code: 'INVALID_TRANSITION', message },
});

describe('bulk triage reports', () => {
  it('counts what changed', () => {
    expect(bulkSummary('Closed', [ok('eng:a'), ok('eng:b'), ok('asset:H')])).toBe('Closed 3 lenses.');
    expect(bulkSummary('Assigned', [ok('eng:a')])).toBe('Assigned 1 lens.');
  });
  it('says which were not changed and why, the first in full', () => {
    const outcomes = [ok('eng:a'), no('eng:b', 'Lens eng:b is already Closed.'), no('eng:c', 'Not found.')];
    expect(bulkSummary('Closed', outcomes)).toBe(
      'Closed 1 lens; 2 not changed: eng:b: Lens eng:b is already Closed. (and 1 more)',
    );
    expect(refusedIds(outcomes)).toEqual(new Set(['eng:b', 'eng:c']));
    expect(bulkSummary('Closed', [no('eng:b', 'x')])).toBe('Closed 0 lenses; 1 not changed: eng:b: x');
  });
});
