import { describe, expect, it } from 'vitest';
import { LensStatus } from '../../domain/detection';
import { AppError } from '../../domain/errors';
import { TRANSITIONS, planStatusChange, type StatusRequest } from './lifecycle';

const state = (status: LensStatus, mergedInto: string | null = null) => ({
  key: 'eng:1',
  status,
  mergedInto,
});
const close = (over: Partial<StatusRequest> = {}): StatusRequest => ({
  status: 'Closed',
  resolution: 'TruePositive',
  summary: 'Confirmed.',
  ...over,
});

function refusal(fn: () => unknown): AppError {
  try {
    fn();
  } catch (e) {
    if (e instanceof AppError) return e;
    throw e;
  }
  throw new Error('expected a refusal');
}

describe('lifecycle transition table', () => {
  const all = LensStatus.options;
  const allowed = new Set(['New>Investigating', 'Investigating>Closed', 'Closed>Investigating']);

  for (const from of all) {
    for (const to of all) {
      const name = `${from} -> ${to}`;
      if (allowed.has(`${from}>${to}`)) {
        it(`allows ${name}`, () => {
          const req: StatusRequest = to === 'Closed' ? close() : { status: to };
          expect(planStatusChange(state(from), req).status).toBe(to);
        });
      } else {
        it(`refuses ${name} with INVALID_TRANSITION and a clear message`, () => {
          const req: StatusRequest = to === 'Closed' ? close() : { status: to };
          const e = refusal(() => planStatusChange(state(from), req));
          expect(e.code).toBe('INVALID_TRANSITION');
          expect(e.message).toContain(to);
          if (from !== to)
            expect(e.message).toMatch(new RegExp(`next status is ${TRANSITIONS[from].join(' or ')}`));
          else expect(e.message).toMatch(/already/);
        });
      }
    }
  }

  it('names the actions', () => {
    expect(planStatusChange(state('New'), { status: 'Investigating' }).action).toBe('status.start');
    expect(planStatusChange(state('Investigating'), close()).action).toBe('status.close');
    expect(planStatusChange(state('Closed'), { status: 'Investigating' })).toEqual({
      action: 'status.reopen',
      status: 'Investigating',
      resolution: null,
      summary: null,
      duplicateOf: null,
    });
  });

  it('refuses any change on a lens merged into another', () => {
    const e = refusal(() => planStatusChange(state('Investigating', 'eng:2'), close()));
    expect(e.code).toBe('INVALID_TRANSITION');
    expect(e.message).toContain('merged into eng:2');
  });
});

describe('closing', () => {
  it('needs a resolution and a summary', () => {
    expect(refusal(() => planStatusChange(state('Investigating'), close({ resolution: null }))).code).toBe(
      'BAD_INPUT',
    );
    expect(
      refusal(() => planStatusChange(state('Investigating'), close({ summary: '   ' }))).message,
    ).toMatch(/summary/);
    expect(
      refusal(() => planStatusChange(state('Investigating'), close({ summary: 'x'.repeat(10_001) }))).code,
    ).toBe('BAD_INPUT');
  });

  it('a Duplicate names the lens it duplicates, and only a Duplicate does', () => {
    expect(
      refusal(() => planStatusChange(state('Investigating'), close({ resolution: 'Duplicate' }))).message,
    ).toMatch(/duplicates/);
    expect(
      refusal(() =>
        planStatusChange(state('Investigating'), close({ resolution: 'Duplicate', duplicateOf: 'eng:1' })),
      ).message,
    ).toMatch(/itself/);
    expect(
      refusal(() => planStatusChange(state('Investigating'), close({ duplicateOf: 'eng:9' }))).code,
    ).toBe('BAD_INPUT');
    expect(
      planStatusChange(state('Investigating'), close({ resolution: 'Duplicate', duplicateOf: 'eng:9' })),
    ).toMatchObject({
      resolution: 'Duplicate',
      duplicateOf: 'eng:9',
      summary: 'Confirmed.',
    });
  });

  it('keeps the summary trimmed and refuses a resolution outside a close', () => {
    expect(planStatusChange(state('Investigating'), close({ summary: '  seen  ' })).summary).toBe('seen');
    expect(
      refusal(() => planStatusChange(state('New'), { status: 'Investigating', resolution: 'Benign' })).code,
    ).toBe('BAD_INPUT');
  });
});
