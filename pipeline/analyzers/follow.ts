/**
 * Follow-up analyzers: run on the processes that the batch's detections (analyzers and Sigma alike) have
 * just flagged, not on the changed keys. They name nodes that belong to a flagged process without being
 * evidence of their own, so their hits score low and add no technique.
 *
 *   console-host   the conhost.exe a flagged console program started: the same program's console
 *                  window, part of its process tree (an analyst closing the incident kills both).
 *
 * A follow-up runs only for hits of at least FOLLOW_MIN_SCORE, so a weak or rarity-only hit does not
 * drag its console into findings, and never on its own hits.
 */
import type { Hit } from '../../domain/detection';
import { kindOfKey } from '../../domain/model';
import { basename, defineAnalyzer, describeProcess, imageIs, match, quote, type Analyzer } from './sdk';

/** Hits below this score are not followed. */
export const FOLLOW_MIN_SCORE = 60;

export const consoleHost = defineAnalyzer({
  id: 'console-host',
  title: 'Console host of a flagged process',
  techniques: [],
  // Not independent evidence: barely moves a lens score (noisy-OR), but puts the console in the story.
  score: 5,
  query: match('Process', 'proc').child('proc', 'console', { image: imageIs('conhost.exe') }).anchor('proc'),
  hits(m) {
    return {
      risky: [m.console],
      context: [m.proc],
      summary: `Console window of ${describeProcess(m.proc)} (${quote(basename(m.proc.image), 80)})`,
    };
  },
});

export const FOLLOWERS: readonly Analyzer[] = [consoleHost];

/** Process keys that strong hits flagged (a follower's own hits are never followed). */
export function followedKeys(hits: readonly Hit[], followers: readonly Analyzer[] = FOLLOWERS): string[] {
  const own = new Set(followers.map((f) => `analyzer:${f.id}`));
  const keys = new Set<string>();
  for (const h of hits) {
    if (h.score < FOLLOW_MIN_SCORE || own.has(h.detection)) continue;
    for (const k of h.riskyNodes) if (kindOfKey(k) === 'Process') keys.add(k);
  }
  return [...keys].sort();
}
