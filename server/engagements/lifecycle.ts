/**
 * The lens lifecycle, as a transition table and one pure function that checks a requested change
 * (docs/engagements.md, "Lifecycle"):
 *
 *   New ──start──> Investigating ──close (resolution + summary)──> Closed
 *                        ^                                            │
 *                        └──────────────────reopen───────────────────┘
 *
 * Everything else is refused with INVALID_TRANSITION and a message naming what is allowed; a close that
 * lacks its resolution, its summary or (for Duplicate) the lens it duplicates is BAD_INPUT. The pipeline
 * reopens a Closed lens by itself when new hits arrive (pipeline/engagement), outside this table.
 */
import { Resolution, type LensStatus } from '../../domain/detection';
import { AppError } from '../../domain/errors';

export const TRANSITIONS: Readonly<Record<LensStatus, readonly LensStatus[]>> = {
  New: ['Investigating'],
  Investigating: ['Closed'],
  Closed: ['Investigating'],
};

export type StatusAction = 'status.start' | 'status.close' | 'status.reopen';

export interface LensLifecycleState {
  key: string;
  status: LensStatus;
  mergedInto: string | null;
}

export interface StatusRequest {
  status: LensStatus;
  resolution?: Resolution | null;
  summary?: string | null;
  /** For resolution Duplicate: the lens this one duplicates. */
  duplicateOf?: string | null;
}

export interface StatusChange {
  action: StatusAction;
  status: LensStatus;
  resolution: Resolution | null;
  summary: string | null;
  duplicateOf: string | null;
}

export const SUMMARY_MAX = 10_000;

export function allowedFrom(status: LensStatus): readonly LensStatus[] {
  return TRANSITIONS[status];
}

/** Checks a status change against the table; returns what to write or throws. Pure. */
export function planStatusChange(current: LensLifecycleState, req: StatusRequest): StatusChange {
  if (current.mergedInto) {
    throw new AppError(
      'INVALID_TRANSITION',
      `Lens ${current.key} was merged into ${current.mergedInto}; change that lens instead.`,
      {
        mergedInto: current.mergedInto,
      },
    );
  }
  const from = current.status;
  const to = req.status;
  if (from === to) {
    throw new AppError('INVALID_TRANSITION', `Lens ${current.key} is already ${to}.`, { from, to });
  }
  if (!TRANSITIONS[from].includes(to)) {
    const allowed = TRANSITIONS[from];
    throw new AppError(
      'INVALID_TRANSITION',
      `A ${from} lens cannot become ${to}; from ${from} the next status is ${allowed.join(' or ')}.`,
      { from, to, allowed: [...allowed] },
    );
  }
  if (to !== 'Closed') {
    if (req.resolution || req.duplicateOf) {
      throw new AppError('BAD_INPUT', `A resolution is given only when closing a lens.`);
    }
    return {
      action: from === 'Closed' ? 'status.reopen' : 'status.start',
      status: to,
      resolution: null,
      summary: null,
      duplicateOf: null,
    };
  }
  const resolution = req.resolution ?? null;
  if (!resolution)
    throw new AppError(
      'BAD_INPUT',
      'Closing a lens needs a resolution (TruePositive, FalsePositive, Benign or Duplicate).',
    );
  if (!Resolution.safeParse(resolution).success)
    throw new AppError('BAD_INPUT', `Unknown resolution ${String(resolution)}.`);
  const summary = (req.summary ?? '').trim();
  if (!summary) throw new AppError('BAD_INPUT', 'Closing a lens needs a summary of what was found.');
  if (summary.length > SUMMARY_MAX)
    throw new AppError('BAD_INPUT', `The summary is longer than ${SUMMARY_MAX} characters.`);
  const duplicateOf = req.duplicateOf?.trim() || null;
  if (resolution === 'Duplicate') {
    if (!duplicateOf) throw new AppError('BAD_INPUT', 'A Duplicate needs the lens it duplicates.');
    if (duplicateOf === current.key) throw new AppError('BAD_INPUT', 'A lens cannot duplicate itself.');
  } else if (duplicateOf) {
    throw new AppError('BAD_INPUT', 'Only a Duplicate names the lens it duplicates.');
  }
  return { action: 'status.close', status: 'Closed', resolution, summary, duplicateOf };
}
