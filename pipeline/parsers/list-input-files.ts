/**
 * Expands files and folders into the input files to read. Inside folders only names that look like
 * telemetry are taken (the shared data sets keep manifests, YAML metadata and READMEs next to the logs);
 * a file named explicitly is always taken, since its content decides its format anyway.
 */
import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

const TELEMETRY_EXTENSIONS = ['.json', '.jsonl', '.ndjson', '.log', '.xml', '.evtx'];

export function looksLikeTelemetry(file: string): boolean {
  const base = path.basename(file).toLowerCase();
  if (base.startsWith('.')) return false;
  const name = base.endsWith('.gz') ? base.slice(0, -3) : base;
  if (name !== base && !name.includes('.')) return true; // plain `.gz`: content decides
  return TELEMETRY_EXTENSIONS.some((ext) => name.endsWith(ext));
}

/** Expand files and folders (recursive) into input files, sorted, skipping obvious non-telemetry. */
export async function listInputFiles(paths: string[]): Promise<string[]> {
  const found = new Set<string>();
  const visitedDirs = new Set<string>();
  async function walk(dir: string): Promise<void> {
    // Symlink loops would otherwise recurse forever.
    const real = await realpath(dir);
    if (visitedDirs.has(real)) return;
    visitedDirs.add(real);
    const entries = await readdir(dir, { withFileTypes: true });
    for (const e of entries) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && looksLikeTelemetry(p)) found.add(p);
      else if (e.isSymbolicLink()) {
        const s = await stat(p).catch(() => undefined);
        if (s?.isDirectory()) await walk(p);
        else if (s?.isFile() && looksLikeTelemetry(p)) found.add(p);
      }
    }
  }
  for (const p of paths) {
    const s = await stat(p);
    if (s.isDirectory()) await walk(p);
    else found.add(p);
  }
  // Plain code-unit order: stable across machines and locales.
  return [...found].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
