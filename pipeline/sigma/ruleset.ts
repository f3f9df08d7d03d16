/**
 * The compiled ruleset: rules indexed by (channel, EventID), so an event meets only the rules of its own
 * logsource. Channel names compare case-insensitively (collectors disagree on `Security` / `security`).
 * `evaluate` is synchronous and allocation-light; correlation is separate and async (correlation.ts).
 */
import type { NormalizedEvent } from '../../domain/event';
import type { CompiledCorrelation, CorrelationMatch, CorrelationState } from './correlation';
import { evaluateCorrelations } from './correlation';
import { EventView } from './event-view';
import { ANY_CHANNEL } from './logsource';
import type { CompiledRule } from './rule';
import type { SigmaMatch } from './types';

interface Bucket {
  readonly byEventId: Map<number, CompiledRule[]>;
  /** Rules for every EventID of the channel; also merged into each `byEventId` list. */
  readonly any: CompiledRule[];
}


function emptyBucket(): Bucket {
  return { byEventId: new Map(), any: [] };
}

class RuleIndex {
  private readonly buckets = new Map<string, Bucket>();
  private readonly global: Bucket = emptyBucket();
  private readonly channelCache = new Map<string, Bucket | null>();
  /** Channel list + global list, merged once per (channel, EventID) seen. */
  private readonly mergedCache = new Map<Bucket | null, Map<number, readonly CompiledRule[]>>();
  private mergedSize = 0;

  constructor(rules: readonly CompiledRule[]) {
    for (const rule of rules) {
      const seen = new Set<string>();
      for (const t of rule.targets) {
        const ch = t.channel.toLowerCase();
        const key = `${ch}\u0000${t.eventId ?? '*'}`;
        if (seen.has(key)) continue;
        seen.add(key);
        let b = ch === ANY_CHANNEL ? this.global : this.buckets.get(ch);
        if (!b) this.buckets.set(ch, (b = emptyBucket()));
        if (t.eventId === null) b.any.push(rule);
        else {
          let list = b.byEventId.get(t.eventId);
          if (!list) b.byEventId.set(t.eventId, (list = []));
          list.push(rule);
        }
      }
    }
    for (const b of [...this.buckets.values(), this.global])
      if (b.any.length > 0)
        for (const [id, list] of b.byEventId) {
          const merged = [...list];
          for (const r of b.any) if (!merged.includes(r)) merged.push(r);
          b.byEventId.set(id, merged);
        }
  }

  private get hasGlobal(): boolean {
    return this.global.any.length > 0 || this.global.byEventId.size > 0;
  }

  candidates(event: NormalizedEvent): readonly CompiledRule[] {
    let b = this.channelCache.get(event.channel);
    if (b === undefined) {
      b = this.buckets.get(event.channel.toLowerCase()) ?? null;
      // Bounded: channel names come from input data.
      if (this.channelCache.size < 4096) this.channelCache.set(event.channel, b);
    }
    const own = b === null ? EMPTY_RULES : (b.byEventId.get(event.eventId) ?? b.any);
    if (!this.hasGlobal) return own;
    let perBucket = this.mergedCache.get(b);
    let merged = perBucket?.get(event.eventId);
    if (merged) return merged;
    const g = this.global.byEventId.get(event.eventId) ?? this.global.any;
    merged = g.length === 0 ? own : own.length === 0 ? g : [...own, ...g.filter((r) => !own.includes(r))];
    if (this.mergedSize < 65_536) {
      if (!perBucket) this.mergedCache.set(b, (perBucket = new Map()));
      perBucket.set(event.eventId, merged);
      this.mergedSize++;
    }
    return merged;
  }
}

const EMPTY_RULES: readonly CompiledRule[] = Object.freeze([]);

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

  /** The standalone rules whose logsource covers this event (before matching). */
  candidates(event: NormalizedEvent): readonly CompiledRule[] {
    return this.index.candidates(event);
  }

  evaluate(event: NormalizedEvent): SigmaMatch[] {
    const list = this.index.candidates(event);
    const out: SigmaMatch[] = [];
    if (list.length === 0) return out;
    this.matchInto(list, new EventView(event), out);
    return out;
  }

  private matchInto(list: readonly CompiledRule[], view: EventView, out: SigmaMatch[]): void {
    for (let i = 0; i < list.length; i++) {
      const rule = list[i]!;
      try {
        if (rule.predicate(view)) out.push(rule.match);
      } catch (error) {
        this.onRuleError?.({ ruleId: rule.match.ruleId, error });
      }
    }
  }

  /** Matches of the correlation-only rules for an event (used by correlation evaluation). */
  evaluateCorrelationOnly(event: NormalizedEvent): SigmaMatch[] {
    const list = this.correlationInputIndex.candidates(event);
    const out: SigmaMatch[] = [];
    if (list.length > 0) this.matchInto(list, new EventView(event), out);
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
