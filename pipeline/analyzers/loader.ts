/**
 * Finds analyzer modules in a folder and imports them. A module exports its analyzers as the default
 * export (one analyzer or a list) and/or as `analyzers` (a list). Every export is checked (zod) and its
 * query compiled again here, so a hand-made object cannot smuggle its own Cypher in. A module that fails
 * to import, exports nothing usable, or reuses an id is reported and skipped; the others load.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileQuery } from './sdk/compile';
import { AnalyzerShape, type Analyzer } from './sdk/define';
import type { Query } from './sdk/query';

export interface AnalyzerLoadReport {
  loaded: string[];
  failed: Array<{ name: string; error: string }>;
}

export interface LoadedAnalyzers {
  analyzers: Analyzer[];
  report: AnalyzerLoadReport;
}

const MODULE = /\.(ts|mts|js|mjs)$/;
const IMPORT_TIMEOUT_MS = 30_000;

/** Analyzer module files of a folder: sources only, no tests, no `_helpers`, sorted. */
export async function analyzerFiles(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && MODULE.test(e.name))
    .map((e) => e.name)
    .filter(
      (n) => !n.startsWith('_') && !n.startsWith('.') && !n.endsWith('.d.ts') && !/\.test\.|\.spec\./.test(n),
    )
    .sort()
    .map((n) => path.join(dir, n));
}

function errorText(err: unknown): string {
  if (err instanceof Error) return err.message.split('\n')[0]!.slice(0, 1000);
  return String(err).slice(0, 1000);
}

async function importWithTimeout(file: string): Promise<Record<string, unknown>> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      import(pathToFileURL(file).href) as Promise<Record<string, unknown>>,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`import did not finish within ${IMPORT_TIMEOUT_MS / 1000} s`)),
          IMPORT_TIMEOUT_MS,
        );
      }),
    ]);
  } finally {
    if (timer) clearTimeout(timer);
  }
}

function candidates(mod: Record<string, unknown>): unknown[] | undefined {
  const out: unknown[] = [];
  let found = false;
  for (const name of ['default', 'analyzers']) {
    if (!(name in mod) || mod[name] === undefined) continue;
    found = true;
    const v = mod[name];
    if (Array.isArray(v)) out.push(...v);
    else out.push(v);
  }
  return found ? out : undefined;
}

/**
 * Loads every analyzer module of `dir` into `into`, recording what loaded and what failed. `label`
 * prefixes failure names (`builtin/x.ts`, `extra/y.ts`).
 */
export async function loadAnalyzersFrom(dir: string, label: string, into: LoadedAnalyzers): Promise<void> {
  let files: string[];
  try {
    files = await analyzerFiles(dir);
  } catch (err) {
    into.report.failed.push({ name: label, error: `cannot read analyzer folder: ${errorText(err)}` });
    return;
  }
  const ids = new Set(into.analyzers.map((a) => a.id));
  for (const file of files) {
    const name = `${label}/${path.basename(file)}`;
    let mod: Record<string, unknown>;
    try {
      mod = await importWithTimeout(file);
    } catch (err) {
      into.report.failed.push({ name, error: `import failed: ${errorText(err)}` });
      continue;
    }
    const list = candidates(mod);
    if (!list || list.length === 0) {
      into.report.failed.push({
        name,
        error: 'exports no analyzer (expected a default export or `analyzers`)',
      });
      continue;
    }
    list.forEach((c, i) => {
      const where = list.length > 1 ? `${name}#${i}` : name;
      const parsed = AnalyzerShape.safeParse(c);
      if (!parsed.success) {
        const why = parsed.error.issues
          .slice(0, 5)
          .map((x) => `${x.path.join('.') || 'export'}: ${x.message}`)
          .join('; ');
        into.report.failed.push({ name: where, error: `not an analyzer: ${why}` });
        return;
      }
      const a = c as Analyzer;
      if (ids.has(a.id)) {
        into.report.failed.push({ name: where, error: `duplicate analyzer id ${JSON.stringify(a.id)}` });
        return;
      }
      let compiled;
      try {
        compiled = compileQuery(a.query as unknown as Query<never, never, never>);
      } catch (err) {
        into.report.failed.push({ name: where, error: `query does not compile: ${errorText(err)}` });
        return;
      }
      ids.add(a.id);
      into.analyzers.push(Object.freeze({ ...a, compiled }));
      into.report.loaded.push(a.id);
    });
  }
}
