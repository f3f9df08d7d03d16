import { describe, expect, it } from 'vitest';
import type { LensChangeOutcome } from '../engagement/api';
import { bulkSummary, keptIds, sendInParts } from './bulk';

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
    expect(keptIds({ outcomes, unsent: [] })).toEqual(new Set(['eng:b', 'eng:c']));
    expect(bulkSummary('Closed', [no('eng:b', 'x')])).toBe('Closed 0 lenses; 1 not changed: eng:b: x');
  });
  it('says how many were not sent and why, after what the earlier parts changed', () => {
    expect(
      bulkSummary('Closed', [ok('eng:a')], { count: 150, reason: 'The server could not be reached.' }),
    ).toBe('Closed 1 lens; 150 not sent: The server could not be reached.');
    expect(bulkSummary('Closed', [ok('eng:a'), no('eng:b', 'x')], { count: 2, reason: 'Offline.' })).toBe(
      'Closed 1 lens; 1 not changed: eng:b: x; 2 not sent: Offline.',
    );
    expect(bulkSummary('Closed', [ok('eng:a')], { count: 0, reason: 'unused' })).toBe('Closed 1 lens.');
  });
});

describe('a selection sent in parts', () => {
  const ids = Array.from({ length: 7 }, (_, i) => `eng:${i}`);

  it('sends every id once, in parts of at most the limit, in order', async () => {
    const parts: string[][] = [];
    const r = await sendInParts(ids, 3, async (part) => {
      parts.push(part);
      return part.map(ok);
    });
    expect(parts).toEqual([ids.slice(0, 3), ids.slice(3, 6), ids.slice(6)]);
    expect(r.outcomes.map((o) => o.id)).toEqual(ids);
    expect(r).toMatchObject({ unsent: [], error: null });
    expect(keptIds(r)).toEqual(new Set());
  });

  it("keeps the earlier parts' outcomes when a later request fails, and stops there", async () => {
    const failure = new Error('network down');
    let calls = 0;
    const r = await sendInParts(ids, 3, async (part) => {
      calls++;
      if (calls === 2) throw failure;
      return part.map((id) => (id === 'eng:1' ? no(id, 'already Closed') : ok(id)));
    });
    expect(calls).toBe(2);
    expect(r.outcomes.map((o) => o.id)).toEqual(ids.slice(0, 3));
    expect(r.unsent).toEqual(ids.slice(3));
    expect(r.error).toBe(failure);
    // The refused lens and every lens not sent stay selected for a retry.
    expect(keptIds(r)).toEqual(new Set(['eng:1', ...ids.slice(3)]));
  });

  it('sends nothing for an empty selection', async () => {
    const r = await sendInParts([], 3, async () => {
      throw new Error('not called');
    });
    expect(r).toEqual({ outcomes: [], unsent: [], error: null });
  });
});
