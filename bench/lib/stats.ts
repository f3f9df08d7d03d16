/**
 * Small numeric helpers of the benchmark harness: percentiles, rates, CPU + wall timing of one run.
 * Pure except `timed`, which reads the clock and process.cpuUsage().
 */
import { runInNewContext } from 'node:vm';
import v8 from 'node:v8';

/** p in [0, 100]; linear interpolation between closest ranks; NaN for an empty list. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 1) return sorted[0]!;
  const rank = (Math.min(100, Math.max(0, p)) / 100) * (sorted.length - 1);
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (rank - lo);
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

/** Items per second for `count` items in `ms` milliseconds (0 when no time elapsed). */
export function perSecond(count: number, ms: number): number {
  return ms > 0 ? (count * 1000) / ms : 0;
}

export function round(v: number, digits = 0): number {
  if (!Number.isFinite(v)) return v;
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export interface Timing {
  /** Wall-clock milliseconds. */
  ms: number;
  /** CPU milliseconds of this process (user + system, every thread: includes GC helper threads). */
  cpuMs: number;
}

/** Runs `fn` once and measures it. */
export function timed<T>(fn: () => T): { value: T } & Timing {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const value = fn();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { value, ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

export async function timedAsync<T>(fn: () => Promise<T>): Promise<{ value: T } & Timing> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { value, ms, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** Median wall and CPU time of several runs, and the spread, as reported in the JSON. */
export interface RunSummary {
  runs: number;
  medianMs: number;
  minMs: number;
  maxMs: number;
  medianCpuMs: number;
}

export function summarize(runs: readonly Timing[]): RunSummary {
  const ms = runs.map((r) => r.ms);
  return {
    runs: runs.length,
    medianMs: round(median(ms), 1),
    minMs: round(Math.min(...ms), 1),
    maxMs: round(Math.max(...ms), 1),
    medianCpuMs: round(median(runs.map((r) => r.cpuMs)), 1),
  };
}

let gcFn: (() => void) | null | undefined;

/**
 * A full garbage collection between measured runs, so that a run does not pay for the garbage of the one
 * before. `npm run bench` runs without --expose-gc, so the flag is set at run time; if that is refused
 * the runs simply go without.
 */
export function collectGarbage(): void {
  if (gcFn === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      gcFn = runInNewContext('gc') as () => void;
    } catch {
      gcFn = null;
    }
  }
  gcFn?.();
}
