/**
 * What detections this installation runs: the Sigma rules of LENSGRAPH_SIGMA_DIRS and the analyzers
 * (built-in pack and LENSGRAPH_ANALYZERS_DIR), loaded the way the workers load them, with every rule or
 * module that was skipped and why. Loaded once, on first request, in a child process
 * (./detections-cli.ts), and kept; a failed load is not kept, so the next request tries again.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { AppError } from '../../domain/errors';
import type { Logger } from '../../lib/log';
import { requirePermission, type Viewer } from '../auth/roles';

export interface DetectionSettings {
  sigmaDirs: readonly string[];
  analyzersDir?: string | undefined;
  /** Repository root (where node_modules/tsx and server/graph live); default the working directory. */
  root?: string;
  log: Logger;
  /** Longest a load may take (ms); default 3 minutes. */
  timeoutMs?: number;
}

const SigmaOutput = z.object({
  loaded: z.number().int(),
  correlations: z.number().int(),
  skipped: z.array(
    z.object({ path: z.string(), id: z.string().optional(), title: z.string().optional(), reason: z.string() }),
  ),
});

const AnalyzerOutput = z.object({
  loaded: z.array(
    z.object({
      id: z.string(),
      title: z.string(),
      techniques: z.array(z.string()),
      source: z.enum(['builtin', 'extra']),
    }),
  ),
  failed: z.array(z.object({ name: z.string(), error: z.string() })),
});

export interface SigmaReport {
  dirs: string[];
  loaded: number;
  correlations: number;
  /** Paths relative to the rule folder they were found in. */
  skipped: Array<{ path: string; title: string | null; reason: string }>;
  /** Null when no folder is configured (nothing was loaded). */
  loadedAt: number | null;
}

export type AnalyzerReport = z.infer<typeof AnalyzerOutput> & { loadedAt: number };

const OUTPUT_MAX = 32 * 1024 * 1024;

/** The path of a skipped rule relative to the configured folder holding it (the folder's name when it is a file). */
export function relativeRulePath(dirs: readonly string[], file: string): string {
  for (const d of dirs) {
    const rel = path.relative(d, file);
    if (rel === '') return path.basename(file);
    if (!rel.startsWith('..') && !path.isAbsolute(rel)) return rel.split(path.sep).join('/');
  }
  return path.basename(file);
}

export class DetectionReports {
  private sigma: Promise<SigmaReport> | undefined;
  private analyzers: Promise<AnalyzerReport> | undefined;
  private readonly root: string;

  constructor(private readonly settings: DetectionSettings) {
    this.root = settings.root ?? process.cwd();
  }

  async sigmaReport(viewer: Viewer | null): Promise<SigmaReport> {
    requirePermission(viewer, 'read');
    const dirs = [...this.settings.sigmaDirs];
    if (dirs.length === 0) return { dirs, loaded: 0, correlations: 0, skipped: [], loadedAt: null };
    this.sigma ??= this.keep(async () => {
      const out = SigmaOutput.parse(await this.run(['sigma', ...dirs]));
      return {
        dirs,
        loaded: out.loaded,
        correlations: out.correlations,
        skipped: out.skipped.map((s) => ({
          path: relativeRulePath(dirs, s.path),
          title: s.title ?? null,
          reason: s.reason,
        })),
        loadedAt: Date.now(),
      };
    }, () => (this.sigma = undefined));
    return this.sigma;
  }

  async analyzerReport(viewer: Viewer | null): Promise<AnalyzerReport> {
    requirePermission(viewer, 'read');
    const dir = this.settings.analyzersDir;
    this.analyzers ??= this.keep(
      async () => ({
        ...AnalyzerOutput.parse(await this.run(['analyzers', ...(dir ? [dir] : [])])),
        loadedAt: Date.now(),
      }),
      () => (this.analyzers = undefined),
    );
    return this.analyzers;
  }

  private keep<T>(load: () => Promise<T>, forget: () => void): Promise<T> {
    const p = load();
    p.catch((err: unknown) => {
      forget();
      this.settings.log.warn('detection report failed', { err: err instanceof Error ? err.message : String(err) });
    });
    return p.catch(() => {
      throw new AppError('UNAVAILABLE', 'The detection report could not be loaded; try again later.');
    });
  }

  /** Runs detections-cli.ts and parses its one line of JSON. */
  private run(args: string[]): Promise<unknown> {
    const script = path.join(this.root, 'server/graph/detections-cli.ts');
    if (!existsSync(script)) return Promise.reject(new Error(`missing ${script}`));
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
        cwd: this.root,
        stdio: ['ignore', 'pipe', 'pipe'],
        // Only what the loaders need: no secrets of the web process.
        env: { PATH: process.env.PATH ?? '', NODE_ENV: 'production' },
      });
      const out: Buffer[] = [];
      let size = 0;
      let err = '';
      const timer = setTimeout(() => child.kill('SIGKILL'), this.settings.timeoutMs ?? 180_000);
      child.stdout.on('data', (b: Buffer) => {
        size += b.length;
        if (size > OUTPUT_MAX) child.kill('SIGKILL');
        else out.push(b);
      });
      child.stderr.on('data', (b: Buffer) => {
        if (err.length < 4000) err += b.toString('utf8');
      });
      child.on('error', (e) => {
        clearTimeout(timer);
        reject(e);
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        if (code !== 0) {
          reject(new Error(`detections-cli ${args[0]} ended with ${signal ?? code}: ${err.trim().slice(0, 500)}`));
          return;
        }
        try {
          const text = Buffer.concat(out).toString('utf8').trim().split('\n').pop() ?? '';
          resolve(JSON.parse(text) as unknown);
        } catch (e) {
          reject(e instanceof Error ? e : new Error(String(e)));
        }
      });
    });
  }
}
