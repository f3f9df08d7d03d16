/**
 * The lens score, a pure function of the lens's risks (docs/engagements.md, "Score").
 *
 *   1. Evidence counts once per distinct detection: a detection's strength is the highest score it reached
 *      on any risky node of the lens (0..100, clamped). The same rule firing 50 times on one node, or on
 *      50 nodes, is still one piece of evidence (its `count` is ignored).
 *   2. Detections add up with falling weights, strongest first (a zeta-weighted sum):
 *          base = Σ_i s_(i) / i^1.5        s_(1) >= s_(2) >= ...
 *      The strongest counts in full, the second 35 %, the third 19 %, the tenth 3 %. So the score keeps
 *      ranking as evidence grows (the noisy-OR used before reached 100 with three strong detections, and
 *      most real attacks tied there), while any number of detections stays below ζ(1.5) × 100 = 261: a pile
 *      of weak hits cannot outrank one strong one (twenty lows of 20 make 43.4; one critical makes 90).
 *      Adding a detection, or raising one, never lowers the sum (each weight is at most the one before).
 *   3. Breadth adds a bounded bonus, in proportion to the base:
 *          breadth = min(12, 4 * (T - 1)) + min(8, 2 * (N - 1))
 *          score   = base * (1 + breadth / 100)
 *      T = distinct ATT&CK techniques (parent level, T1003.001 -> T1003), N = distinct risky nodes.
 *      All of this is floating point: no integer division can zero the bonus.
 *   A lens of one detection scores that detection's score; no lens scores more than 261.2 × 1.2 = 313.5.
 *   The result is rounded to one decimal.
 */

/**
 * Version of the formula above, stored on each lens with its score (`score_model`). Lenses scored by an
 * older formula are rescored once at setup (pipeline/engagement/rescore.ts), so one list never mixes two
 * scales. Raise it whenever the formula changes.
 */
export const SCORE_MODEL = 2;

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
  /** Weight of the i-th strongest detection: 1 / i^decay. */
  decay: 1.5,
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
  const strengths = [...bestScores].map(clamp).sort((a, b) => b - a);
  let base = 0;
  for (let i = 0; i < strengths.length; i++) base += strengths[i]! / Math.pow(i + 1, SCORE_PARAMS.decay);
  const detections = strengths.length;
  const techniques = new Set<string>();
  for (const t of techniqueIds) techniques.add(parentTechnique(t));
  const t = techniques.size;
  const n = nodeCount;
  const breadth =
    Math.min(SCORE_PARAMS.techniqueMax, SCORE_PARAMS.techniqueStep * Math.max(0, t - 1)) +
    Math.min(SCORE_PARAMS.nodeMax, SCORE_PARAMS.nodeStep * Math.max(0, n - 1));
  const score = base * (1 + breadth / 100);
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
