/** Score and lens-status badges: colour plus text, so nothing depends on colour alone. */
import type { LensStatus } from './api';
import { formatScore, riskLevel } from './format';

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

/** Technique ids as small chips. */
export function Chips({ items, empty = '—', testId }: { items: string[]; empty?: string; testId?: string }) {
  if (items.length === 0) return <span className="muted">{empty}</span>;
  return (
    <ul className="chips" data-testid={testId}>
      {items.map((t) => (
        <li key={t} className="chip">
          {t}
        </li>
      ))}
    </ul>
  );
}
