/**
 * A reproducible Fisher-Yates shuffle for tests that prove order-independence: the same seed gives the same
 * order on every machine, so a failure can be replayed.
 */
export function seededShuffle<T>(list: readonly T[], seed: number): T[] {
  const out = [...list];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}
