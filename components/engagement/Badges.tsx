'use client';
/** Score and lens-status badges: colour plus text, so nothing depends on colour alone. */
import { useState } from 'react';
import type { LensStatus } from './api';
import { foldedChips, formatScore, riskLevel } from './format';

export function ScoreBadge({ score, label = 'Score' }: { score: number; label?: string }) {
  const level = riskLevel(score);
  return (
    <span className={`score-badge risk-${level}`} data-testid="score-badge" data-level={level} title={`${label} ${formatScore(score)} (${level})`}>
      <span className="sr-only">{label} </span>
      {formatScore(score)}
    </span>
  );
}

export function LensStatusBadge({ status }: { status: LensStatus }) {
  return (
    <span className={`lens-status lens-status-${status.toLowerCase()}`} data-testid="lens-status">
      {status}
    </span>
  );
}

/**
 * Technique ids as small chips. With `max`, a longer list (a lens of sixty techniques) starts folded to
 * `max` chips, with a button that shows the rest, so it does not push the rest of the view off screen.
 */
export function Chips({
  items,
  empty = '—',
  testId,
  max,
}: {
  items: string[];
  empty?: string;
  testId?: string;
  max?: number;
}) {
  const [open, setOpen] = useState(false);
  if (items.length === 0) return <span className="muted">{empty}</span>;
  const { shown, hidden } = max === undefined || open ? { shown: items, hidden: 0 } : foldedChips(items, max);
  const foldable = max !== undefined && items.length > max;
  return (
    <ul className="chips" data-testid={testId}>
      {shown.map((t) => (
        <li key={t} className="chip">
          {t}
        </li>
      ))}
      {foldable ? (
        <li>
          <button
            type="button"
            className="chip chip-more"
            aria-expanded={open}
            data-testid="chips-more"
            title={open ? undefined : items.slice(shown.length).join(' ')}
            onClick={() => setOpen(!open)}
          >
            {open ? 'fewer' : `+${hidden} more`}
          </button>
        </li>
      ) : null}
    </ul>
  );
}
