/**
 * Multi-document rule files. Sigma v1 collections use `action: global` (merged into every following
 * document), `action: reset` (forget the global part) and `action: repeat` (the previous rule again, with
 * this document merged over it). Sigma v2 files instead hold a correlation rule and the rules it refers to.
 * This module turns a file's documents into standalone rule documents, leaving the classification
 * (detection vs correlation) to the loader.
 */

export interface RuleDocument {
  /** Position of the document in its file (0-based), for ids of rules that lack one and for messages. */
  readonly index: number;
  readonly doc: Record<string, unknown>;
}

export interface DocumentProblem {
  readonly index: number;
  readonly reason: string;
}

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Maps merge key by key; any other value of `over` replaces the base value. */
export function deepMerge(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    out[k] = isRecord(b) && isRecord(v) ? deepMerge(b, v) : v;
  }
  return out;
}

function withoutAction(d: Record<string, unknown>): Record<string, unknown> {
  const { action: _action, ...rest } = d;
  return rest;
}

export function expandCollection(docs: readonly unknown[]): {
  rules: RuleDocument[];
  problems: DocumentProblem[];
} {
  const rules: RuleDocument[] = [];
  const problems: DocumentProblem[] = [];
  let global: Record<string, unknown> | undefined;
  let previous: Record<string, unknown> | undefined;
  docs.forEach((d, index) => {
    if (d === null || d === undefined) return;
    if (!isRecord(d)) {
      problems.push({ index, reason: 'document is not a map' });
      return;
    }
    const action = d.action;
    if (action === 'global') {
      global = deepMerge(global ?? {}, withoutAction(d));
      return;
    }
    if (action === 'reset') {
      global = undefined;
      return;
    }
    if (action === 'repeat') {
      if (!previous) {
        problems.push({ index, reason: "'action: repeat' without a previous rule" });
        return;
      }
      previous = deepMerge(previous, withoutAction(d));
      rules.push({ index, doc: previous });
      return;
    }
    if (action !== undefined) {
      problems.push({ index, reason: `unknown action '${String(action)}'` });
      return;
    }
    previous = global ? deepMerge(global, d) : d;
    rules.push({ index, doc: previous });
  });
  return { rules, problems };
}
