/**
 * Throughput measurement of `ruleset.evaluate` over already-normalised events (parsing excluded, so the
 * number is the engine's own cost). Used by scripts/bench and the benchmark suite, not by timed tests.
 */
import type { NormalizedEvent } from '../../domain/event';
import type { CompiledRuleset } from './ruleset';

export interface SigmaBenchResult {
  readonly events: number;
  readonly matches: number;
  /** Wall-clock time. */
  readonly ms: number;
  readonly eventsPerSecond: number;
  /** CPU time of this process (user + system): steadier than wall time on a shared machine. */
  readonly cpuMs: number;
  readonly eventsPerCpuSecond: number;
  /** Matches per rule id, for a quick look at the noisiest rules. */
  readonly byRule: Record<string, number>;
}

export function benchSigma(
  ruleset: CompiledRuleset,
  events: Iterable<NormalizedEvent>,
  passes = 1,
): SigmaBenchResult {
  const list = Array.isArray(events) ? (events as NormalizedEvent[]) : [...events];
  const byRule: Record<string, number> = {};
  let matches = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  for (let p = 0; p < passes; p++)
    for (const e of list) {
      const m = ruleset.evaluate(e);
      if (p === 0)
        for (const x of m) {
          matches++;
          byRule[x.ruleId] = (byRule[x.ruleId] ?? 0) + 1;
        }
    }
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const n = list.length * passes;
  const rate = (t: number): number => (t > 0 ? (n / t) * 1000 : Infinity);
  return {
    events: n,
    matches,
    ms,
    eventsPerSecond: rate(ms),
    cpuMs,
    eventsPerCpuSecond: rate(cpuMs),
    byRule,
  };
}
