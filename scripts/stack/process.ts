/**
 * Child processes the local stack owns: spawned attached to us, identified by PID plus kernel start
 * time (so a recycled PID is never mistaken for ours), stopped by that PID only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { z } from 'zod';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

export interface OwnedProcess {
  pid: number;
  child: ChildProcess;
  /** Settles once the process has exited (never rejects). */
  exited: Promise<ExitInfo>;
  hasExited(): boolean;
  /** The last lines the process wrote on stdout and stderr, for error messages. */
  tail(): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. Safe to call twice. */
  stop(graceMs: number): Promise<void>;
}

export interface SpawnOwnedOptions {
  command: string;
  args: string[];
  cwd: string;
  env?: NodeJS.ProcessEnv;
  /** Records PID, parent PID and start time so a later run can recognise a leftover of ours. */
  pidFile?: string;
  onLine?: (line: string, stream: 'stdout' | 'stderr') => void;
}

const TAIL_LINES = 80;

/** Absolute path of an executable on PATH, or undefined. */
export function findExecutable(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      if (fs.statSync(candidate).isFile()) return candidate;
    } catch {
      // Not here; keep looking.
    }
  }
  return undefined;
}

// Node has no way to tie a child's life to ours: if we are SIGKILLed, children with `detached: false`
// keep running and hold their ports and store locks. util-linux's setpriv (Essential on Debian) sets
// PR_SET_PDEATHSIG and then execs the real program, so the PID stays the program's own and the kernel
// sends it SIGTERM when we die. Note the kernel ties this to the spawning *thread*, so start servers from
// a process's main thread (vitest's default `forks` pool and globalSetup both do).
const setpriv = process.platform === 'linux' ? findExecutable('setpriv') : undefined;

export function spawnOwned(opts: SpawnOwnedOptions): OwnedProcess {
  const [command, args] = setpriv
    ? [setpriv, ['--pdeathsig', 'TERM', '--', opts.command, ...opts.args]]
    : [opts.command, opts.args];
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: opts.env ?? process.env,
    // A process group of its own: the terminal's Ctrl-C reaches only us, and we stop our servers after
    // the processes that use them (workers drain first). If we die without stopping them, --pdeathsig does.
    detached: true,
    // stdin stays an open pipe: the Neo4j launcher exits when it closes (a second guard when we die).
    stdio: ['pipe', 'pipe', 'pipe'],
  });

  const lines: string[] = [];
  const remember = (stream: 'stdout' | 'stderr') => (line: string) => {
    lines.push(line);
    if (lines.length > TAIL_LINES) lines.shift();
    opts.onLine?.(line, stream);
  };
  readline.createInterface({ input: child.stdout }).on('line', remember('stdout'));
  readline.createInterface({ input: child.stderr }).on('line', remember('stderr'));
  // Writing to a dead child's stdin would otherwise surface as an unhandled EPIPE.
  child.stdin.on('error', () => undefined);

  let exitInfo: ExitInfo | undefined;
  const exited = new Promise<ExitInfo>((resolve) => {
    child.once('exit', (code, signal) => resolve((exitInfo = { code, signal })));
    child.once('error', (error) => resolve((exitInfo = { code: null, signal: null, error })));
  });

  const pid = child.pid;
  if (pid === undefined) {
    // spawn failed synchronously (e.g. ENOENT); `exited` carries the reason.
    throw new Error(`could not start ${opts.command}`);
  }
  const pidFile = opts.pidFile;
  if (pidFile !== undefined) {
    writePidFile(pidFile, pid);
    void exited.then(() => removePidFile(pidFile, pid));
  }

  let stopping: Promise<void> | undefined;
  const stop = (graceMs: number): Promise<void> => {
    stopping ??= (async () => {
      if (exitInfo) return;
      child.kill('SIGTERM');
      if (await settlesWithin(exited, graceMs)) return;
      child.kill('SIGKILL');
      await exited;
    })();
    return stopping;
  };

  return {
    pid,
    child,
    exited,
    hasExited: () => exitInfo !== undefined,
    tail: () => lines.join('\n'),
    stop,
  };
}

export function describeExit(info: ExitInfo): string {
  if (info.error) return `failed to start: ${info.error.message}`;
  return info.signal ? `was killed by ${info.signal}` : `exited with code ${String(info.code)}`;
}

async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Resolves `ready`, or rejects when it fails, the process exits first or the time runs out; every
 * rejection goes through `describe` so it carries the process's output.
 */
export async function waitUntilReady<T>(
  proc: OwnedProcess,
  ready: Promise<T>,
  timeoutMs: number,
  describe: (reason: string) => string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      ready.catch((err: unknown) =>
        Promise.reject(new Error(describe(err instanceof Error ? err.message : String(err)))),
      ),
      proc.exited.then((info) => Promise.reject(new Error(describe(describeExit(info))))),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(describe(`was not ready after ${Math.round(timeoutMs / 1000)} s`))),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The last lines of a log file (empty when it does not exist), for error messages. */
export function fileTail(file: string, maxLines = 30): string {
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      const length = Math.min(size, 64 * 1024);
      const buffer = Buffer.alloc(length);
      fs.readSync(fd, buffer, 0, length, size - length);
      return buffer
        .toString('utf8')
        .split('\n')
        .slice(-maxLines - 1)
        .join('\n')
        .trimEnd();
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return '';
  }
}

// ---- leftovers of earlier runs -------------------------------------------------------------------

const PidRecord = z.object({
  pid: z.number().int().positive(),
  parentPid: z.number().int(),
  startTicks: z.string(),
});
type PidRecord = z.infer<typeof PidRecord>;

interface ProcStat {
  state: string;
  ppid: number;
  startTicks: string;
}

/** /proc/PID/stat, or undefined when that PID does not exist (or this is not Linux). */
function procStat(pid: number): ProcStat | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // The command name may contain spaces and parentheses; the fields after the last ')' are fixed.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const [state, ppid, startTicks] = [fields[0], fields[1], fields[19]];
  if (state === undefined || ppid === undefined || startTicks === undefined) return undefined;
  return { state, ppid: Number(ppid), startTicks };
}

export function isAlive(pid: number): boolean {
  const stat = procStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

function writePidFile(file: string, pid: number): void {
  const stat = procStat(pid);
  if (!stat) return; // already gone, or no /proc: nothing to recognise later
  const record: PidRecord = { pid, parentPid: process.pid, startTicks: stat.startTicks };
  fs.writeFileSync(file, `${JSON.stringify(record)}\n`);
}

function removePidFile(file: string, pid: number): void {
  if (readPidFile(file)?.pid === pid) fs.rmSync(file, { force: true });
}

function readPidFile(file: string): PidRecord | undefined {
  try {
    const parsed = PidRecord.safeParse(JSON.parse(fs.readFileSync(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Before starting a server on a data directory, deal with a process an earlier run started there.
 * Gone, or the PID now belongs to someone else (start time differs): forget it. Still attached to a
 * live parent: another session is using this directory, so refuse rather than kill its server.
 * Orphaned (its parent died without stopping it): it is ours and nobody will stop it, so stop it now.
 */
export async function reclaimLeftover(
  pidFile: string,
  what: string,
  log: (line: string) => void,
  graceMs: number,
): Promise<void> {
  const record = readPidFile(pidFile);
  if (!record) {
    fs.rmSync(pidFile, { force: true });
    return;
  }
  const stat = procStat(record.pid);
  if (!stat || stat.startTicks !== record.startTicks || !isAlive(record.pid)) {
    fs.rmSync(pidFile, { force: true });
    return;
  }
  if (stat.ppid === record.parentPid && isAlive(record.parentPid)) {
    throw new Error(
      `${what} is already running on this data directory as PID ${record.pid}, started by the live ` +
        `process ${record.parentPid}; stop that first or use another data directory (${pidFile})`,
    );
  }
  log(`${what}: stopping PID ${record.pid}, left running by an earlier run whose parent died`);
  process.kill(record.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(record.pid) && Date.now() < deadline) await sleep(200);
  if (isAlive(record.pid) && procStat(record.pid)?.startTicks === record.startTicks) {
    process.kill(record.pid, 'SIGKILL');
    while (isAlive(record.pid)) await sleep(100);
  }
  fs.rmSync(pidFile, { force: true });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
