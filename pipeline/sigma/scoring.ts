/**
 * Risk score of a Sigma match, from the rule's level (0-100, the scale the engage stage sums). The steps
 * widen with severity so that a few `low` hits do not outrank one `high`, and `critical` stays below 100
 * to leave room for corroboration by the graph analyzers. A missing or unknown level scores as `low`, so
 * a malformed rule is never promoted.
 */
export const SIGMA_LEVEL_RISK = {
  informational: 5,
  low: 20,
  medium: 45,
  high: 70,
  critical: 90,
} as const;

export type SigmaLevel = keyof typeof SIGMA_LEVEL_RISK;

export const SIGMA_LEVELS = Object.keys(SIGMA_LEVEL_RISK) as SigmaLevel[];

export function normalizeLevel(level: unknown): SigmaLevel {
  if (typeof level === 'string') {
    const l = level.trim().toLowerCase();
    if (l in SIGMA_LEVEL_RISK) return l as SigmaLevel;
  }
  return 'low';
}

export function riskScoreForLevel(level: unknown): number {
  return SIGMA_LEVEL_RISK[normalizeLevel(level)];
}

/** `attack.t1059.001` -> `T1059.001`; tactics (`attack.execution`) and other namespaces are not techniques. */
export function techniquesFromTags(tags: readonly string[]): string[] {
  const out = new Set<string>();
  for (const t of tags) {
    const m = /^attack\.(t\d{4}(?:\.\d{3})?)$/i.exec(t.trim());
    if (m) out.add(m[1]!.toUpperCase());
  }
  return [...out];
}
