/**
 * One Sigma detection rule document -> a CompiledRule: metadata narrowed from untrusted YAML, logsource
 * resolved to (channel, EventID) targets, detection compiled to a predicate.
 */
import { compileDetection, RuleCompileError, type Anchor, type Predicate } from './detection';
import { resolveLogsource, UnsupportedLogsourceError, type LogsourceTarget } from './logsource';
import type { Placeholders } from './placeholders';
import { normalizeLevel, riskScoreForLevel, techniquesFromTags } from './scoring';
import type { SigmaMatch } from './types';

export interface CompiledRule {
  readonly match: SigmaMatch;
  /** The rule's optional `name` (how correlation rules may refer to it). */
  readonly name?: string;
  readonly path: string;
  readonly logsource: string;
  readonly targets: readonly LogsourceTarget[];
  readonly predicate: Predicate;
  /** Necessary condition used by the ruleset's anchor index (see Anchor); null when none. */
  readonly anchor: Anchor | null;
}

export interface RuleMeta {
  readonly id?: string;
  readonly title?: string;
  readonly name?: string;
}

function optString(v: unknown): string | undefined {
  if (typeof v === 'string' && v.trim() !== '') return v.trim();
  if (typeof v === 'number') return String(v);
  return undefined;
}

export function ruleMeta(doc: Record<string, unknown>): RuleMeta {
  return { id: optString(doc.id), title: optString(doc.title), name: optString(doc.name) };
}

export function stringList(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  if (!Array.isArray(v)) return [];
  return v.filter((x): x is string => typeof x === 'string');
}

/** Frozen match object shared by every hit of the rule (no allocation per match). */
export function makeMatch(doc: Record<string, unknown>, fallbackId: string): SigmaMatch {
  const meta = ruleMeta(doc);
  const tags = stringList(doc.tags).map((t) => t.trim());
  const level = normalizeLevel(doc.level);
  return Object.freeze({
    ruleId: meta.id ?? fallbackId,
    title: meta.title ?? fallbackId,
    level,
    riskScore: riskScoreForLevel(level),
    techniques: Object.freeze(techniquesFromTags(tags)),
    tags: Object.freeze(tags),
    status: optString(doc.status)?.toLowerCase() ?? 'unknown',
  });
}

export class RuleSkip extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuleSkip';
  }
}

export function compileRule(
  doc: Record<string, unknown>,
  opts: { path: string; fallbackId: string; placeholders: Placeholders },
): CompiledRule {
  const meta = ruleMeta(doc);
  if (!meta.title) throw new RuleSkip('missing title');
  let logsource;
  try {
    logsource = resolveLogsource(doc.logsource);
  } catch (e) {
    if (e instanceof UnsupportedLogsourceError) throw new RuleSkip(e.message);
    throw e;
  }
  let detection;
  try {
    detection = compileDetection(doc.detection, {
      placeholders: opts.placeholders,
      fieldFallbacks: logsource.fieldFallbacks,
    });
  } catch (e) {
    if (e instanceof RuleCompileError) throw new RuleSkip(e.message);
    throw e;
  }
  // Narrow the logsource targets by the EventIDs the detection requires (service rules index by id).
  const ids = detection.eventIds;
  let targets: LogsourceTarget[] = [];
  if (ids === null) targets = [...logsource.targets];
  else
    for (const t of logsource.targets) {
      if (t.eventId === null) for (const id of ids) targets.push({ channel: t.channel, eventId: id });
      else if (ids.has(t.eventId)) targets.push(t);
    }
  if (targets.length === 0)
    throw new RuleSkip(
      `detection requires EventIDs ${[...(ids ?? [])].join(', ')} outside logsource ${logsource.label}`,
    );
  return {
    match: makeMatch(doc, opts.fallbackId),
    ...(meta.name ? { name: meta.name } : {}),
    path: opts.path,
    logsource: logsource.label,
    targets,
    predicate: detection.predicate,
    anchor: detection.anchor,
  };
}
