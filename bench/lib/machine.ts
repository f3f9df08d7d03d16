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
