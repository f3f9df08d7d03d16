/**
 * What a change of several lenses at once reports (the incident list's triage): pure, so the wording is
 * tested without a browser.
 */
import { plural } from '../engagement/format';
import type { LensChangeOutcome } from '../engagement/api';

/** What a change sent in parts came to: the outcomes of the parts the server answered, and what was not sent. */
export interface PartsResult {
  outcomes: LensChangeOutcome[];
  /** The ids of the part whose request failed and of every part after it (none when all were answered). */
  unsent: string[];
  /** Why that request failed (a network error, an expired session); null when every part was answered. */
  error: unknown;
}

/**
 * Sends a selection in parts of at most `max` ids, one after another. A part whose request fails stops the
 * rest (the next would most likely meet the same outage) but keeps what the earlier parts changed, so the
 * analyst is told both.
 */
export async function sendInParts(
  ids: readonly string[],
  max: number,
  send: (part: string[]) => Promise<LensChangeOutcome[]>,
): Promise<PartsResult> {
  const outcomes: LensChangeOutcome[] = [];
  for (let i = 0; i < ids.length; i += max) {
    try {
      outcomes.push(...(await send(ids.slice(i, i + max))));
    } catch (error) {
      return { outcomes, unsent: ids.slice(i), error };
    }
  }
  return { outcomes, unsent: [], error: null };
}

/**
 * "Closed 3 lenses." or "Closed 2 lenses; 1 not changed: eng:…: Lens eng:… is already Closed." and, when a
 * request failed part-way, "…; 150 not sent: <why>".
 */
export function bulkSummary(
  done: string,
  outcomes: readonly LensChangeOutcome[],
  notSent?: { count: number; reason: string },
): string {
  const changed = outcomes.filter((o) => o.lens !== null).length;
  const refused = outcomes.filter((o) => o.error !== null);
  const parts = [`${done} ${plural(changed, 'lens', 'lenses')}`];
  if (refused.length > 0) {
    const first = refused[0]!;
    const more = refused.length > 1 ? ` (and ${refused.length - 1} more)` : '';
    parts.push(`${refused.length} not changed: ${first.id}: ${first.error!.message}${more}`);
  }
  if (notSent && notSent.count > 0) parts.push(`${notSent.count} not sent: ${notSent.reason}`);
  const text = parts.join('; ');
  return parts.length === 1 ? `${text}.` : text;
}

/** The ids a change left as they were (refused, or never sent): kept selected, so the analyst can retry them. */
export function keptIds(result: Pick<PartsResult, 'outcomes' | 'unsent'>): Set<string> {
  return new Set([...result.outcomes.filter((o) => o.error !== null).map((o) => o.id), ...result.unsent]);
}
