/**
 * The lens score, a pure function of the lens's risks (docs/engagements.md, "Score").
 *
 *   1. Evidence counts once per distinct detection: a detection's strength is the highest score it reached
 *      on any risky node of the lens. The same rule firing 50 times on one node, or on 50 nodes, is still
 *      one piece of evidence (its `count` is ignored).
 *   2. Independent detections combine like independent probabilities (noisy-OR):
 *          base = 100 * (1 - Π_d (1 - s_d / 100))
 *      so three medium detections (45) give 83.4 and beat one high (70), and no sum exceeds 100.
 *   3. Breadth adds a bounded bonus, weighted by how sure the base already is:
 *          breadth = min(12, 4 * (T - 1)) + min(8, 2 * (N - 1))
 *          score   = min(100, base + base / 100 * breadth)
 *      T = distinct ATT&CK techniques (parent level, T1003.001 -> T1003), N = distinct risky nodes.
 *      All of this is floating point: no integer division can zero the bonus.
 *   The result is rounded to one decimal.
 */

export interface RiskInput {
  /** Key of the risky node. */
  node: string;
  /** Detection id (`sigma:<id>`, `analyzer:<id>`). */
  detection: string;
  /** 0..100 (clamped). */
  score: number;
  techniques?: readonly string[];
  /** How often it fired: shown, never scored. */
  count?: number;
}

export interface ScoreBreakdown {
  score: number;
  base: number;
  breadth: number;
  /** Strongest score per distinct detection. */
  detections: number;
  techniques: number;
  nodes: number;
}

export const SCORE_PARAMS = {
  techniqueStep: 4,
  techniqueMax: 12,
  nodeStep: 2,
  nodeMax: 8,
} as const;

const clamp = (s: number): number => (Number.isFinite(s) ? Math.min(100, Math.max(0, s)) : 0);

/** `T1003.001` -> `T1003`; anything else unchanged. */
export function parentTechnique(t: string): string {
  const m = /^(T\d{4})/.exec(t);
  return m ? m[1]! : t;
}

export function scoreRisks(risks: readonly RiskInput[]): ScoreBreakdown {
  const best = new Map<string, number>();
  const techniques = new Set<string>();
  const nodes = new Set<string>();
  for (const r of risks) {
    best.set(r.detection, Math.max(best.get(r.detection) ?? 0, clamp(r.score)));
    for (const t of r.techniques ?? []) techniques.add(t);
    nodes.add(r.node);
  }
  return scoreAggregates(best.values(), techniques, nodes.size);
}

/**
 * The same score from what it depends on, so a lens's risks can be aggregated where they are stored
 * (pipeline/engagement/repository.ts lensAggregates) instead of read one by one: each distinct detection's
 * highest score (clamped here), the lens's techniques (any level: counted by parent) and its number of
 * distinct risky nodes.
 */
export function scoreAggregates(
  bestScores: Iterable<number>,
  techniqueIds: Iterable<string>,
  nodeCount: number,
): ScoreBreakdown {
  let miss = 1;
  let detections = 0;
  for (const s of bestScores) {
    miss *= 1 - clamp(s) / 100;
    detections++;
  }
  const techniques = new Set<string>();
  for (const t of techniqueIds) techniques.add(parentTechnique(t));
  const base = 100 * (1 - miss);
  const t = techniques.size;
  const n = nodeCount;
  const breadth =
    Math.min(SCORE_PARAMS.techniqueMax, SCORE_PARAMS.techniqueStep * Math.max(0, t - 1)) +
    Math.min(SCORE_PARAMS.nodeMax, SCORE_PARAMS.nodeStep * Math.max(0, n - 1));
  const score = Math.min(100, base + (base / 100) * breadth);
  return {
    score: Math.round(score * 10) / 10,
    base: Math.round(base * 10) / 10,
    breadth,
    detections,
    techniques: t,
    nodes: n,
  };
}

export function lensScore(risks: readonly RiskInput[]): number {
  return scoreRisks(risks).score;
}
