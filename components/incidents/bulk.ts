/**
 * What a change of several lenses at once reports (the incident list's triage): pure, so the wording is
 * tested without a browser.
 */
import { plural } from '../engagement/format';
import type { LensChangeOutcome } from '../engagement/api';

/** "Closed 3 lenses." or "Closed 2 lenses; 1 not changed: eng:…: Lens eng:… is already Closed." */
export function bulkSummary(done: string, outcomes: readonly LensChangeOutcome[]): string {
  const changed = outcomes.filter((o) => o.lens !== null).length;
  const refused = outcomes.filter((o) => o.error !== null);
  const head = `${done} ${plural(changed, 'lens', 'lenses')}`;
  if (refused.length === 0) return `${head}.`;
  const first = refused[0]!;
  const more = refused.length > 1 ? ` (and ${refused.length - 1} more)` : '';
  return `${head}; ${refused.length} not changed: ${first.id}: ${first.error!.message}${more}`;
}

/** The ids a change left as they were: kept selected, so the analyst can see and retry them. */
export function refusedIds(outcomes: readonly LensChangeOutcome[]): Set<string> {
  return new Set(outcomes.filter((o) => o.error !== null).map((o) => o.id));
}
