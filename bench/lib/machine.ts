/**
 * What the figures were measured on, and what processes used: machine info, load average, and per-process
 * peak RSS and CPU time read from /proc (Linux; elsewhere the fields are null).
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import { round } from './stats';

export interface MachineInfo {
  cores: number;
  cpuModel: string;
  memoryMb: number;
  freeMemoryMb: number;
  node: string;
  platform: string;
  kernel: string;
  loadavg: number[];
}

export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  return {
    cores: cpus.length,
    cpuModel: cpus[0]?.model.trim() ?? 'unknown',
    memoryMb: Math.round(os.totalmem() / 2 ** 20),
    freeMemoryMb: Math.round(os.freemem() / 2 ** 20),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    kernel: os.release(),
    loadavg: loadavg(),
  };
}

export function loadavg(): number[] {
  return os.loadavg().map((v) => round(v, 2));
}

function statusField(pid: number, field: string): number | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+)\\s+kB`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  } catch {
    return null;
  }
}

/** Peak resident set (VmHWM) of a live process, MiB. */
export function peakRssMb(pid: number): number | null {
  const kb = statusField(pid, 'VmHWM');
  return kb === null ? null : round(kb / 1024, 1);
}

/** Current resident set (VmRSS) of a live process, MiB. */
export function rssMb(pid: number): number | null {
  const kb = statusField(pid, 'VmRSS');
  return kb === null ? null : round(kb / 1024, 1);
}

/**
 * Resets the peak resident set (VmHWM) of a process we own to its current RSS (Linux >= 4.0: "5" into
 * /proc/<pid>/clear_refs), so that the next VmHWM read is the peak since this call. False where refused.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

let ticks: number | undefined;
function clockTicks(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
}

/** CPU time (user + system, all threads) a live process has used so far, ms; null when unreadable. */
export function processCpuMs(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may contain spaces and parentheses: fields start after the last ')'.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(rest[11]);
    const stime = Number(rest[12]);
    if (!Number.isFinite(utime) || !Number.isFinite(stime)) return null;
    return ((utime + stime) * 1000) / clockTicks();
  } catch {
    return null;
  }
}

/**
 * Keeps the highest RSS seen per process by sampling; VmHWM gives the same for processes still alive at
 * the end, the sampler covers ones that exit earlier.
 */
export class RssSampler {
  private readonly peak = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly procs: () => ReadonlyArray<{ name: string; pid: number }>) {}

  start(everyMs = 1000): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  sample(): void {
    for (const p of this.procs()) {
      const v = peakRssMb(p.pid) ?? rssMb(p.pid);
      if (v !== null) this.peak.set(p.name, Math.max(v, this.peak.get(p.name) ?? 0));
    }
  }

  stop(): Record<string, number> {
    if (this.timer) clearInterval(this.timer);
    this.sample();
    return Object.fromEntries(this.peak);
  }
}

/**
 * What a JVM's threads do, by thread name (HotSpot and Neo4j name their threads): the JIT compilers
 * (`C1 CompilerThre…`, `C2 CompilerThre…`), Neo4j's Bolt workers (the statements themselves), the garbage
 * collector, and everything else (Bolt network I/O, the page cache, checkpoints, schedulers).
 */
export type JvmThreadGroup = 'jit' | 'bolt' | 'gc' | 'other';

export function jvmThreadGroup(name: string): JvmThreadGroup {
  if (/^C[12] CompilerThre/.test(name)) return 'jit';
  if (/^neo4j\.BoltWork/.test(name)) return 'bolt'; // /proc keeps 15 characters of a name
  if (/^(GC Thread|G1 )/.test(name)) return 'gc';
  return 'other';
}

/** CPU time (ms) of each live thread of a process, by `<thread id>`, with its name; empty when unreadable. */
export function threadCpuMs(pid: number): Map<string, { name: string; ms: number }> {
  const out = new Map<string, { name: string; ms: number }>();
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ms = ((Number(rest[11]) + Number(rest[12])) * 1000) / clockTicks();
      if (Number.isFinite(ms)) out.set(tid, { name, ms });
    } catch {
      // The thread ended between the listing and the read.
    }
  }
  return out;
}

/**
 * CPU seconds each thread group used between two `threadCpuMs` snapshots. A thread that ended in between
 * is not counted (its time is lost with it); one that started counts from zero.
 */
export function jvmCpuBetween(
  before: Map<string, { name: string; ms: number }>,
  after: Map<string, { name: string; ms: number }>,
): Record<JvmThreadGroup, number> {
  const ms: Record<JvmThreadGroup, number> = { jit: 0, bolt: 0, gc: 0, other: 0 };
  for (const [tid, t] of after) ms[jvmThreadGroup(t.name)] += t.ms - (before.get(tid)?.ms ?? 0);
  return {
    jit: round(ms.jit / 1000, 2),
    bolt: round(ms.bolt / 1000, 2),
    gc: round(ms.gc / 1000, 2),
    other: round(ms.other / 1000, 2),
  };
}
