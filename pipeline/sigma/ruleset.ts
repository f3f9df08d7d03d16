/**
 * The compiled ruleset: rules indexed by (channel, EventID), so an event meets only the rules of its own
 * logsource, and within a logsource by anchor (see Anchor in detection.ts), so it meets only the rules
 * that could match its image names. Channel names compare case-insensitively (collectors disagree on
 * `Security` / `security`). `evaluate` is synchronous and allocation-light; correlation is separate and
 * async (correlation.ts).
 */
import type { NormalizedEvent } from '../../domain/event';
import type { CompiledCorrelation, CorrelationMatch, CorrelationState } from './correlation';
import { evaluateCorrelations } from './correlation';
import { anchorKey } from './detection';
import { EventView, type FieldAccessor } from './event-view';
import { ANY_CHANNEL } from './logsource';
import type { CompiledRule } from './rule';
import type { SigmaMatch } from './types';

/**
 * The rules one kind of event (channel, EventID) meets. Rules with an anchor (see detection.ts) sit in
 * per-field maps keyed by the anchor names and are visited only when the event's field has one of those
 * names; the others are visited for every event. Matches come out in rule order either way.
 */
export class RuleList {
  readonly all: readonly CompiledRule[];
  private readonly unanchored: Int32Array;
  private readonly probes: ReadonlyArray<{
    readonly acc: FieldAccessor;
    readonly byName: Map<string, number[]>;
  }>;
  /** marks[i] === stamp: rule i already visited for the current event (it may sit under several names). */
  private readonly marks: Uint32Array;
  private stamp = 0;

  constructor(rules: readonly CompiledRule[]) {
    this.all = rules;
    const unanchored: number[] = [];
    const probes = new Map<FieldAccessor, Map<string, number[]>>();
    rules.forEach((r, i) => {
      if (r.anchor === null) {
        unanchored.push(i);
        return;
      }
      for (const [acc, names] of r.anchor) {
        let byName = probes.get(acc);
        if (!byName) probes.set(acc, (byName = new Map()));
        for (const n of names) {
          const list = byName.get(n);
          if (list) list.push(i);
          else byName.set(n, [i]);
        }
      }
    });
    this.unanchored = Int32Array.from(unanchored);
    this.probes = [...probes].map(([acc, byName]) => ({ acc, byName }));
    this.marks = new Uint32Array(rules.length);
  }

  get size(): number {
    return this.all.length;
  }

  /** Rules visited for this event once the anchor index has been applied (for tests and tuning). */
  visited(view: EventView): CompiledRule[] {
    const ids = [...this.unanchored];
    const seen = new Set<number>();
    for (const p of this.probes) {
      const v = view.lower(p.acc);
      if (v === undefined) continue;
      for (const i of p.byName.get(anchorKey(v)) ?? []) if (!seen.has(i)) seen.add(i);
    }
    return [...ids, ...seen].sort((a, b) => a - b).map((i) => this.all[i]!);
  }

  matchInto(view: EventView, out: SigmaMatch[], onError: ((e: RuleError) => void) | undefined): void {
    const rules = this.all;
    let hits: number[] | undefined;
    const u = this.unanchored;
    for (let k = 0; k < u.length; k++) {
      const i = u[k]!;
      if (test(rules[i]!, view, onError)) (hits ??= []).push(i);
    }
    if (this.probes.length > 0) {
      if (++this.stamp === 0xffffffff) {
        this.marks.fill(0);
        this.stamp = 1;
      }
      const stamp = this.stamp;
      const marks = this.marks;
      for (let p = 0; p < this.probes.length; p++) {
        const probe = this.probes[p]!;
        const v = view.lower(probe.acc);
        if (v === undefined) continue;
        const ids = probe.byName.get(anchorKey(v));
        if (ids === undefined) continue;
        for (let k = 0; k < ids.length; k++) {
          const i = ids[k]!;
          if (marks[i] === stamp) continue;
          marks[i] = stamp;
          if (test(rules[i]!, view, onError)) (hits ??= []).push(i);
        }
      }
    }
    if (hits === undefined) return;
    if (hits.length > 1) hits.sort((a, b) => a - b);
    for (const i of hits) out.push(rules[i]!.match);
  }
}

function test(rule: CompiledRule, view: EventView, onError: ((e: RuleError) => void) | undefined): boolean {
  try {
    return rule.predicate(view);
  } catch (error) {
    onError?.({ ruleId: rule.match.ruleId, error });
    return false;
  }
}

interface Bucket {
  readonly byEventId: Map<number, RuleList>;
  /** Rules for every EventID of the channel; also merged into each `byEventId` list. */
  readonly any: RuleList;
}

interface RawBucket {
  readonly byEventId: Map<number, CompiledRule[]>;
  readonly any: CompiledRule[];
}

const EMPTY_LIST = new RuleList([]);

class RuleIndex {
  private readonly buckets = new Map<string, Bucket>();
  private readonly global: Bucket;
  private readonly hasGlobal: boolean;
  private readonly channelCache = new Map<string, Bucket | null>();
  /** Channel list + global list, merged once per (channel, EventID) seen. */
  private readonly mergedCache = new Map<Bucket | null, Map<number, RuleList>>();
  private mergedSize = 0;

  constructor(rules: readonly CompiledRule[]) {
    const raw = new Map<string, RawBucket>();
    const rawGlobal: RawBucket = { byEventId: new Map(), any: [] };
    for (const rule of rules) {
      const seen = new Set<string>();
      for (const t of rule.targets) {
        const ch = t.channel.toLowerCase();
        const key = `${ch}\u0000${t.eventId ?? '*'}`;
        if (seen.has(key)) continue;
        seen.add(key);
        let b = ch === ANY_CHANNEL ? rawGlobal : raw.get(ch);
        if (!b) raw.set(ch, (b = { byEventId: new Map(), any: [] }));
        if (t.eventId === null) b.any.push(rule);
        else {
          let list = b.byEventId.get(t.eventId);
          if (!list) b.byEventId.set(t.eventId, (list = []));
          list.push(rule);
        }
      }
    }
    const finish = (b: RawBucket): Bucket => {
      const byEventId = new Map<number, RuleList>();
      for (const [id, list] of b.byEventId) byEventId.set(id, new RuleList(mergeRules(list, b.any)));
      return { byEventId, any: new RuleList(b.any) };
    };
    for (const [ch, b] of raw) this.buckets.set(ch, finish(b));
    this.global = finish(rawGlobal);
    this.hasGlobal = rawGlobal.any.length > 0 || rawGlobal.byEventId.size > 0;
  }

  candidates(event: NormalizedEvent): RuleList {
    let b = this.channelCache.get(event.channel);
    if (b === undefined) {
      b = this.buckets.get(event.channel.toLowerCase()) ?? null;
      // Bounded: channel names come from input data.
      if (this.channelCache.size < 4096) this.channelCache.set(event.channel, b);
    }
    const own = b === null ? EMPTY_LIST : (b.byEventId.get(event.eventId) ?? b.any);
    if (!this.hasGlobal) return own;
    let perBucket = this.mergedCache.get(b);
    let merged = perBucket?.get(event.eventId);
    if (merged) return merged;
    const g = this.global.byEventId.get(event.eventId) ?? this.global.any;
    merged = g.size === 0 ? own : own.size === 0 ? g : new RuleList(mergeRules(own.all, g.all));
    if (this.mergedSize < 65_536) {
      if (!perBucket) this.mergedCache.set(b, (perBucket = new Map()));
      perBucket.set(event.eventId, merged);
      this.mergedSize++;
    }
    return merged;
  }
}

function mergeRules(a: readonly CompiledRule[], b: readonly CompiledRule[]): CompiledRule[] {
  const seen = new Set(a);
  return [...a, ...b.filter((r) => !seen.has(r))];
}

export interface RuleError {
  readonly ruleId: string;
  readonly error: unknown;
}

export class CompiledRuleset {
  private readonly index: RuleIndex;
  private readonly correlationInputIndex: RuleIndex;
  private readonly byInput = new Map<string, CompiledCorrelation[]>();
  /** Rule ids (standalone or not) that feed at least one correlation. */
  readonly correlationInputs: ReadonlySet<string>;
  /** Called when a rule throws while matching (a bug, never expected); the event goes on to other rules. */
  onRuleError: ((e: RuleError) => void) | undefined;

  /**
   * @param rules standalone rules: their matches are alerts.
   * @param correlationOnly rules referenced by correlations with `generate: false`: evaluated only for
   *   correlation, never reported by `evaluate`.
   */
  constructor(
    readonly rules: readonly CompiledRule[],
    readonly correlations: readonly CompiledCorrelation[] = [],
    readonly correlationOnly: readonly CompiledRule[] = [],
  ) {
    this.index = new RuleIndex(rules);
    this.correlationInputIndex = new RuleIndex(correlationOnly);
    const inputs = new Set<string>();
    for (const c of correlations)
      for (const r of c.ruleIds) {
        inputs.add(r);
        let list = this.byInput.get(r);
        if (!list) this.byInput.set(r, (list = []));
        if (!list.includes(c)) list.push(c);
      }
    this.correlationInputs = inputs;
  }

  /** Correlations that refer to a rule (or correlation) id. */
  correlationsFor(ruleId: string): readonly CompiledCorrelation[] {
    return this.byInput.get(ruleId) ?? [];
  }

  get size(): number {
    return this.rules.length;
  }

  /** The standalone rules whose logsource covers this event (before matching and anchor filtering). */
  candidates(event: NormalizedEvent): readonly CompiledRule[] {
    return this.index.candidates(event).all;
  }

  /** The rules actually run for this event, after the anchor index (for tests and tuning). */
  visited(event: NormalizedEvent): CompiledRule[] {
    return this.index.candidates(event).visited(new EventView(event));
  }

  evaluate(event: NormalizedEvent): SigmaMatch[] {
    const list = this.index.candidates(event);
    const out: SigmaMatch[] = [];
    if (list.size === 0) return out;
    list.matchInto(new EventView(event), out, this.onRuleError);
    return out;
  }

  /** Matches of the correlation-only rules for an event (used by correlation evaluation). */
  evaluateCorrelationOnly(event: NormalizedEvent): SigmaMatch[] {
    const list = this.correlationInputIndex.candidates(event);
    const out: SigmaMatch[] = [];
    if (list.size > 0) list.matchInto(new EventView(event), out, this.onRuleError);
    return out;
  }

  /**
   * Feeds this event's matches (from `evaluate`) into the correlation rules and returns the correlations
   * that fire. Async because the state may live in Redis.
   */
  evaluateCorrelations(
    matches: readonly SigmaMatch[],
    event: NormalizedEvent,
    state: CorrelationState,
  ): Promise<CorrelationMatch[]> {
    return evaluateCorrelations(this, matches, event, state);
  }
}
