/**
 * Loads Sigma rules from folders (recursively, *.yml / *.yaml) or single files into a CompiledRuleset.
 * Total by design: any rule that cannot be read, parsed or compiled is skipped with a reason in the
 * LoadReport, and the loader goes on. Only an unreadable root (a configuration error) throws.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { expandCollection, isRecord } from './collection';
import { compileCorrelation, type CompiledCorrelation } from './correlation';
import { loadPlaceholders, type Placeholders } from './placeholders';
import { compileRule, ruleMeta, RuleSkip, type CompiledRule } from './rule';
import { CompiledRuleset } from './ruleset';
import type { SigmaLevel } from './scoring';
import type { LoadReport, SkippedRule } from './types';
import { loadYamlDocuments } from './yaml-safe';

export interface LoadOptions {
  /** Placeholder values for `expand`; default: read from `placeholdersFile`. */
  readonly placeholders?: Placeholders;
  /** Default: config/sigma-placeholders.yml of this repository. */
  readonly placeholdersFile?: string;
  /**
   * Rule statuses to load. Default: every status except `deprecated` and `unsupported` (SigmaHQ marks
   * with those the rules it no longer expects to work).
   */
  readonly statuses?: readonly string[];
}

const EXCLUDED_STATUSES = new Set(['deprecated', 'unsupported']);

async function listRuleFiles(root: string): Promise<string[]> {
  const st = await stat(root).catch((e: NodeJS.ErrnoException) => {
    throw new Error(`sigma rules path not readable: ${root} (${e.code ?? e.message})`);
  });
  if (st.isFile()) return [root];
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = await readdir(dir, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const e of entries) {
      const p = path.join(dir, e.name);
      // Symlinks are not followed: a link cycle must not hang the loader.
      if (e.isDirectory()) await walk(p);
      else if (e.isFile() && /\.ya?ml$/i.test(e.name)) out.push(p);
    }
  };
  await walk(root);
  return out;
}

interface PendingCorrelation {
  readonly doc: Record<string, unknown>;
  readonly path: string;
  readonly fallbackId: string;
}

interface Referable {
  readonly id: string;
  readonly level: SigmaLevel;
  readonly tags: readonly string[];
}

export async function loadRules(
  dirs: readonly string[],
  opts: LoadOptions = {},
): Promise<{ ruleset: CompiledRuleset; report: LoadReport }> {
  const placeholders = opts.placeholders ?? (await loadPlaceholders(opts.placeholdersFile));
  const statuses = opts.statuses ? new Set(opts.statuses.map((s) => s.toLowerCase())) : undefined;
  const skipped: SkippedRule[] = [];
  const rules: CompiledRule[] = [];
  const pending: PendingCorrelation[] = [];
  const seenIds = new Map<string, string>();

  const skip = (p: string, doc: Record<string, unknown> | undefined, reason: string): void => {
    const meta = doc ? ruleMeta(doc) : {};
    skipped.push({
      path: p,
      ...(meta.id ? { id: meta.id } : {}),
      ...(meta.title ? { title: meta.title } : {}),
      reason,
    });
  };

  const files: string[] = [];
  for (const d of dirs) files.push(...(await listRuleFiles(d)));

  for (const file of files) {
    let docs: unknown[];
    try {
      docs = loadYamlDocuments(await readFile(file, 'utf8'), file);
    } catch (e) {
      skip(file, undefined, `YAML error: ${(e as Error).message.split('\n')[0]}`);
      continue;
    }
    const { rules: ruleDocs, problems } = expandCollection(docs);
    for (const p of problems) skip(file, undefined, `document ${p.index}: ${p.reason}`);
    for (const { doc, index } of ruleDocs) {
      const fallbackId = `${file}#${index}`;
      const meta = ruleMeta(doc);
      const status = typeof doc.status === 'string' ? doc.status.trim().toLowerCase() : 'unknown';
      if (statuses ? !statuses.has(status) : EXCLUDED_STATUSES.has(status)) {
        skip(file, doc, `status ${status} not loaded`);
        continue;
      }
      const id = meta.id ?? fallbackId;
      const dup = seenIds.get(id);
      if (dup !== undefined) {
        skip(file, doc, `duplicate rule id (first loaded from ${dup})`);
        continue;
      }
      if (isRecord(doc.correlation)) {
        seenIds.set(id, file);
        pending.push({ doc, path: file, fallbackId });
        continue;
      }
      if (doc.filter !== undefined && doc.detection === undefined) {
        skip(file, doc, 'sigma filter documents are not supported');
        continue;
      }
      try {
        rules.push(compileRule(doc, { path: file, fallbackId, placeholders }));
        seenIds.set(id, file);
      } catch (e) {
        skip(file, doc, e instanceof RuleSkip ? e.message : `internal error: ${(e as Error).message}`);
      }
    }
  }

  const { correlations, correlationOnlyIds } = compileCorrelations(pending, rules, skip);
  const standalone = rules.filter((r) => !correlationOnlyIds.has(r.match.ruleId));
  const correlationOnly = rules.filter((r) => correlationOnlyIds.has(r.match.ruleId));

  const byLogsource: Record<string, number> = {};
  for (const r of rules) byLogsource[r.logsource] = (byLogsource[r.logsource] ?? 0) + 1;
  const ruleset = new CompiledRuleset(standalone, correlations, correlationOnly);
  return {
    ruleset,
    report: { loaded: rules.length, correlations: correlations.length, skipped, byLogsource },
  };
}

/**
 * Correlations are compiled after every file is read, since they may refer to rules in other files (by
 * id or name) and to other correlations. A correlation whose references are missing is skipped; one that
 * refers to a skipped correlation is skipped in turn (iterating until nothing changes).
 */
function compileCorrelations(
  pending: readonly PendingCorrelation[],
  rules: readonly CompiledRule[],
  skip: (p: string, doc: Record<string, unknown>, reason: string) => void,
): { correlations: CompiledCorrelation[]; correlationOnlyIds: Set<string> } {
  const byRef = new Map<string, Referable>();
  const ambiguous = new Set<string>();
  const addRef = (key: string, r: Referable): void => {
    const prev = byRef.get(key);
    if (prev && prev.id !== r.id) ambiguous.add(key);
    else byRef.set(key, r);
  };
  for (const r of rules) {
    const ref = { id: r.match.ruleId, level: r.match.level, tags: r.match.tags };
    addRef(r.match.ruleId, ref);
    if (r.name) addRef(r.name, ref);
  }
  const compiled = new Map<PendingCorrelation, CompiledCorrelation>();
  let progress = true;
  const failures = new Map<PendingCorrelation, string>();
  while (progress) {
    progress = false;
    for (const p of pending) {
      if (compiled.has(p)) continue;
      try {
        const c = compileCorrelation(p.doc, {
          path: p.path,
          fallbackId: p.fallbackId,
          resolve: (ref) => (ambiguous.has(ref) ? undefined : byRef.get(ref)),
        });
        compiled.set(p, c);
        failures.delete(p);
        const ref = { id: c.match.ruleId, level: c.match.level, tags: c.match.tags };
        addRef(c.match.ruleId, ref);
        if (c.name) addRef(c.name, ref);
        progress = true;
      } catch (e) {
        failures.set(p, e instanceof RuleSkip ? e.message : `internal error: ${(e as Error).message}`);
      }
    }
  }
  for (const [p, reason] of failures) skip(p.path, p.doc, reason);

  const correlations = [...compiled.values()];
  // A rule is correlation-only when every correlation that refers to it has `generate: false` (the spec's
  // default); a rule referred to by none stays standalone.
  const generating = new Set<string>();
  const referenced = new Set<string>();
  for (const c of correlations)
    for (const id of c.ruleIds) {
      referenced.add(id);
      if (c.generate) generating.add(id);
    }
  const ruleIds = new Set(rules.map((r) => r.match.ruleId));
  const correlationOnlyIds = new Set([...referenced].filter((id) => ruleIds.has(id) && !generating.has(id)));
  return { correlations, correlationOnlyIds };
}
