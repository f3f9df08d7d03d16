/**
 * Sigma correlation rules (event_count, value_count, temporal, temporal_ordered), evaluated in stream:
 * each event's rule matches update per-(correlation, group) state, and a correlation fires at the event
 * that makes its condition true. After firing, the group's state is cleared, so a burst of 500 failed
 * logons against `gte: 100` yields 5 alerts, not 401.
 *
 * Windows are sliding and measured in event time (`NormalizedEvent.time`), not wall-clock time, so a
 * replay of last month's logs correlates exactly as the live stream did.
 *
 * The state lives behind `CorrelationState` so it can be shared by several workers (Redis,
 * correlation-redis.ts); `MemoryCorrelationState` (correlation-memory.ts) serves tests and single-process
 * use. Conditions are checked as each event arrives, so only conditions with a lower bound (gt, gte, eq,
 * possibly with an upper bound too) are supported: "fewer than N in an hour" would need a timer at the
 * window's end and such rules are skipped with a reason.
 */
import { createHash } from 'node:crypto';
import type { NormalizedEvent } from '../../domain/event';
import { isRecord } from './collection';
import { EventView, fieldAccessor } from './event-view';
import { makeMatch, ruleMeta, RuleSkip, stringList } from './rule';
import type { CompiledRuleset } from './ruleset';
import { SIGMA_LEVELS, type SigmaLevel } from './scoring';
import type { SigmaMatch } from './types';

export const CORRELATION_TYPES = ['event_count', 'value_count', 'temporal', 'temporal_ordered'] as const;
export type CorrelationType = (typeof CORRELATION_TYPES)[number];

export interface CountCondition {
  readonly gt?: number;
  readonly gte?: number;
  readonly lt?: number;
  readonly lte?: number;
  readonly eq?: number;
}

export interface CompiledCorrelation {
  readonly match: SigmaMatch;
  readonly name?: string;
  readonly path: string;
  readonly type: CorrelationType;
  /** Referenced rule (or correlation) ids, in the rule's order (the order matters for temporal_ordered). */
  readonly ruleIds: readonly string[];
  readonly groupBy: readonly string[];
  /** alias -> referenced rule id -> field name in that rule's events. */
  readonly aliases: Readonly<Record<string, Readonly<Record<string, string>>>>;
  readonly timespanMs: number;
  readonly condition: CountCondition;
  /** value_count: the field whose distinct values are counted. */
  readonly valueField?: string;
  /** Whether the referenced rules also alert on their own. */
  readonly generate: boolean;
}

export interface CorrelationMatch extends SigmaMatch {
  readonly type: CorrelationType;
  /** group-by field -> value (lower-cased) of the group that fired. */
  readonly group: Readonly<Record<string, string>>;
  /** The count that met the condition (events, distinct values, or rules seen). */
  readonly count: number;
  readonly ruleIds: readonly string[];
  /** Event time of the event that completed the correlation (epoch ms). */
  readonly time: number;
  readonly timespanMs: number;
}

/**
 * Correlation state: sliding windows and small numeric records, keyed by correlation and group. Keys are
 * opaque strings built by the engine; implementations may prefix them (tenant, namespace). Every method
 * must be safe to call concurrently for different keys.
 */
export interface CorrelationState {
  /**
   * Records `member` as seen at `time` under `key` (a member seen again keeps its latest time), forgets
   * members last seen before `time - windowMs`, and returns how many members remain. Idempotent for a
   * repeated (member, time).
   */
  windowAdd(key: string, member: string, time: number, windowMs: number): Promise<number>;
  /** The numeric fields stored under `key` (empty when none or expired). */
  getFields(key: string): Promise<Record<string, number>>;
  /**
   * Merges numeric fields into `key`, written for an event at `time`; the record may be dropped `ttlMs`
   * after its last write.
   */
  setFields(
    key: string,
    fields: Readonly<Record<string, number>>,
    time: number,
    ttlMs: number,
  ): Promise<void>;
  /** Forgets the window and fields under `key` (after the correlation fired). */
  clear(key: string): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------
// Compilation

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseTimespan(v: unknown): number {
  const m = typeof v === 'string' ? /^\s*(\d+)\s*([smhd])\s*$/.exec(v) : null;
  if (!m) throw new RuleSkip(`invalid timespan '${String(v)}' (expected e.g. 30s, 5m, 1h, 2d)`);
  const ms = Number(m[1]) * UNITS[m[2]!]!;
  if (ms <= 0) throw new RuleSkip(`timespan must be positive`);
  return ms;
}

function parseCondition(
  v: unknown,
  type: CorrelationType,
  nRules: number,
): { cond: CountCondition; field?: string } {
  if (v === undefined || v === null) {
    if (type === 'temporal' || type === 'temporal_ordered') return { cond: { gte: nRules } };
    throw new RuleSkip(`correlation ${type} needs a condition`);
  }
  if (!isRecord(v)) throw new RuleSkip('correlation condition must be a map');
  const cond: Record<string, number> = {};
  let field: string | undefined;
  for (const [k, raw] of Object.entries(v)) {
    if (k === 'field') {
      if (typeof raw !== 'string' || raw.trim() === '')
        throw new RuleSkip('condition.field must be a field name');
      field = raw.trim();
      continue;
    }
    if (!['gt', 'gte', 'lt', 'lte', 'eq'].includes(k))
      throw new RuleSkip(`unsupported correlation condition '${k}'`);
    const n = typeof raw === 'number' ? raw : typeof raw === 'string' ? Number(raw) : NaN;
    if (!Number.isFinite(n)) throw new RuleSkip(`condition.${k} must be a number`);
    cond[k] = n;
  }
  if (cond.gt === undefined && cond.gte === undefined && cond.eq === undefined)
    throw new RuleSkip(
      'correlation condition without a lower bound (gt/gte/eq) needs window-end evaluation, not supported',
    );
  if (type === 'value_count' && field === undefined) throw new RuleSkip('value_count needs condition.field');
  return { cond, ...(field !== undefined ? { field } : {}) };
}

/**
 * Compiles a correlation document. `resolve` maps a reference (rule id or name) to the id of a loaded
 * rule or correlation, or undefined.
 */
export function compileCorrelation(
  doc: Record<string, unknown>,
  opts: {
    path: string;
    fallbackId: string;
    resolve: (ref: string) => { id: string; level: SigmaLevel; tags: readonly string[] } | undefined;
  },
): CompiledCorrelation {
  const meta = ruleMeta(doc);
  if (!meta.title) throw new RuleSkip('missing title');
  const c = doc.correlation;
  if (!isRecord(c)) throw new RuleSkip('correlation section is not a map');
  const type = c.type;
  if (typeof type !== 'string' || !(CORRELATION_TYPES as readonly string[]).includes(type))
    throw new RuleSkip(`unsupported correlation type '${String(type)}'`);
  const ctype = type as CorrelationType;
  const refs = stringList(c.rules);
  if (refs.length === 0) throw new RuleSkip('correlation.rules is empty');
  const resolved = refs.map((r) => {
    const hit = opts.resolve(r);
    if (!hit) throw new RuleSkip(`correlation refers to unknown or skipped rule '${r}'`);
    return hit;
  });
  const ruleIds = resolved.map((r) => r.id);
  const groupBy = stringList(c['group-by']);
  const timespanMs = parseTimespan(c.timespan ?? c.timeframe);
  const { cond, field } = parseCondition(c.condition, ctype, ruleIds.length);

  const aliases: Record<string, Record<string, string>> = {};
  if (c.aliases !== undefined) {
    if (!isRecord(c.aliases)) throw new RuleSkip('correlation.aliases must be a map');
    for (const [alias, perRule] of Object.entries(c.aliases)) {
      if (!isRecord(perRule)) throw new RuleSkip(`alias '${alias}' must map rule names to fields`);
      const m: Record<string, string> = {};
      for (const [ref, f] of Object.entries(perRule)) {
        const hit = opts.resolve(ref);
        if (!hit) throw new RuleSkip(`alias '${alias}' refers to unknown rule '${ref}'`);
        if (typeof f !== 'string') throw new RuleSkip(`alias '${alias}.${ref}' must be a field name`);
        m[hit.id] = f;
      }
      aliases[alias] = m;
    }
  }

  // Without its own level/tags the correlation inherits the most severe level and all tags of its rules.
  const base = makeMatch(doc, opts.fallbackId);
  const ownLevel = typeof doc.level === 'string';
  const level = ownLevel
    ? base.level
    : resolved.reduce<SigmaLevel>(
        (acc, r) => (SIGMA_LEVELS.indexOf(r.level) > SIGMA_LEVELS.indexOf(acc) ? r.level : acc),
        'informational',
      );
  const tags = base.tags.length > 0 ? base.tags : [...new Set(resolved.flatMap((r) => r.tags))];
  const match = makeMatch({ ...doc, level, tags }, opts.fallbackId);

  return {
    match,
    ...(meta.name ? { name: meta.name } : {}),
    path: opts.path,
    type: ctype,
    ruleIds,
    groupBy,
    aliases,
    timespanMs,
    condition: cond,
    ...(field !== undefined ? { valueField: field } : {}),
    generate: c.generate === true || doc.generate === true,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Evaluation

export function conditionHolds(c: CountCondition, n: number): boolean {
  if (c.gt !== undefined && !(n > c.gt)) return false;
  if (c.gte !== undefined && !(n >= c.gte)) return false;
  if (c.lt !== undefined && !(n < c.lt)) return false;
  if (c.lte !== undefined && !(n <= c.lte)) return false;
  if (c.eq !== undefined && n !== c.eq) return false;
  return true;
}

function fieldFor(corr: CompiledCorrelation, name: string, hitRuleIds: readonly string[]): string {
  const alias = corr.aliases[name];
  if (!alias) return name;
  for (const id of hitRuleIds) {
    const f = alias[id];
    if (f !== undefined) return f;
  }
  return name;
}

const MAX_KEY_PART = 200;

/** State key of one correlation group; long group values are hashed to keep keys bounded. */
export function groupKey(correlationId: string, values: readonly string[]): string {
  const joined = values.join('\u0001');
  const part = joined.length > MAX_KEY_PART ? createHash('sha256').update(joined).digest('hex') : joined;
  return `${correlationId}\u0000${part}`;
}

/** Stable identity of an event, so a replayed event is not counted twice. */
export function eventIdentity(event: NormalizedEvent): string {
  const base = `${event.host.toLowerCase()}|${event.channel.toLowerCase()}|${event.eventId}`;
  if (event.recordId !== undefined) return `${base}|r${event.recordId}`;
  const h = createHash('sha256').update(JSON.stringify(event.fields)).digest('base64').slice(0, 16);
  return `${base}|t${event.time}|${h}`;
}

async function evaluateOne(
  corr: CompiledCorrelation,
  hits: ReadonlySet<string>,
  event: NormalizedEvent,
  view: EventView,
  state: CorrelationState,
): Promise<CorrelationMatch | undefined> {
  const hitIdx: number[] = [];
  corr.ruleIds.forEach((id, i) => {
    if (hits.has(id)) hitIdx.push(i);
  });
  if (hitIdx.length === 0) return undefined;
  const hitIds = hitIdx.map((i) => corr.ruleIds[i]!);

  const group: Record<string, string> = {};
  const values: string[] = [];
  for (const g of corr.groupBy) {
    const v = fieldAccessor(fieldFor(corr, g, hitIds)).raw(view);
    // Like `stats ... by X` in the SIEMs Sigma targets, events without a group-by value are not counted.
    if (v === undefined || v === '') return undefined;
    const low = v.toLowerCase();
    group[g] = low;
    values.push(low);
  }
  const key = groupKey(corr.match.ruleId, values);
  const t = event.time;
  const w = corr.timespanMs;
  let count: number;

  switch (corr.type) {
    case 'event_count':
      count = await state.windowAdd(key, eventIdentity(event), t, w);
      break;
    case 'value_count': {
      const v = fieldAccessor(fieldFor(corr, corr.valueField!, hitIds)).raw(view);
      if (v === undefined || v === '') return undefined;
      count = await state.windowAdd(key, v.toLowerCase(), t, w);
      break;
    }
    case 'temporal': {
      const fields = await state.getFields(key);
      const update: Record<string, number> = {};
      for (const i of hitIdx) update[`r${i}`] = Math.max(fields[`r${i}`] ?? -Infinity, t);
      const merged = { ...fields, ...update };
      count = 0;
      for (let i = 0; i < corr.ruleIds.length; i++) {
        const seen = merged[`r${i}`];
        if (seen !== undefined && seen >= t - w && seen <= t + w) count++;
      }
      if (!conditionHolds(corr.condition, count)) await state.setFields(key, update, t, w);
      break;
    }
    case 'temporal_ordered': {
      // s<i>: start time of the most recent chain that has completed steps 0..i in order.
      const fields = await state.getFields(key);
      const update: Record<string, number> = {};
      const get = (i: number): number | undefined => update[`s${i}`] ?? fields[`s${i}`];
      // Descending, so one event never completes two consecutive steps.
      for (const i of [...hitIdx].sort((a, b) => b - a)) {
        if (i === 0) update.s0 = t;
        else {
          const prev = fields[`s${i - 1}`];
          if (prev !== undefined && t - prev <= w) update[`s${i}`] = Math.max(get(i) ?? -Infinity, prev);
        }
      }
      count = 0;
      for (let i = 0; i < corr.ruleIds.length; i++) {
        const s = get(i);
        if (s === undefined || t - s > w) break;
        count = i + 1;
      }
      if (!conditionHolds(corr.condition, count)) {
        if (Object.keys(update).length > 0) await state.setFields(key, update, t, w);
      }
      break;
    }
  }
  if (!conditionHolds(corr.condition, count)) return undefined;
  await state.clear(key);
  return {
    ...corr.match,
    type: corr.type,
    group,
    count,
    ruleIds: corr.ruleIds,
    time: t,
    timespanMs: w,
  };
}

/** Correlations may refer to correlations; this bounds the chain (and any accidental cycle). */
const MAX_CHAIN_DEPTH = 8;

export async function evaluateCorrelations(
  ruleset: CompiledRuleset,
  matches: readonly SigmaMatch[],
  event: NormalizedEvent,
  state: CorrelationState,
): Promise<CorrelationMatch[]> {
  if (ruleset.correlations.length === 0) return [];
  let frontier = new Set<string>();
  for (const m of matches) if (ruleset.correlationInputs.has(m.ruleId)) frontier.add(m.ruleId);
  for (const m of ruleset.evaluateCorrelationOnly(event)) frontier.add(m.ruleId);
  const out: CorrelationMatch[] = [];
  const view = new EventView(event);
  for (let depth = 0; frontier.size > 0 && depth < MAX_CHAIN_DEPTH; depth++) {
    const next = new Set<string>();
    const todo = new Set<CompiledCorrelation>();
    for (const id of frontier) for (const c of ruleset.correlationsFor(id)) todo.add(c);
    for (const c of todo) {
      const hit = await evaluateOne(c, frontier, event, view, state);
      if (hit) {
        out.push(hit);
        next.add(c.match.ruleId);
      }
    }
    frontier = next;
  }
  return out;
}
