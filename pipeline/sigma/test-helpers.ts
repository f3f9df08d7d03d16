/**
 * Helpers for the engine's unit tests: compile a rule from YAML text, build events tersely.
 */
import type { NormalizedEvent } from '../../domain/event';
import { Channels } from '../../domain/event';
import { expandCollection } from './collection';
import { compileRule, type CompiledRule } from './rule';
import { CompiledRuleset } from './ruleset';
import { loadYamlDocuments } from './yaml-safe';

export function compileYaml(text: string, placeholders: Record<string, string[]> = {}): CompiledRule {
  const { rules } = expandCollection(loadYamlDocuments(text));
  const doc = rules[0];
  if (!doc) throw new Error('no rule document');
  return compileRule(doc.doc, { path: 'test.yml', fallbackId: 'test#0', placeholders });
}

/** A process_creation rule (Sysmon 1) with the given detection block (YAML, indented by 4). */
export function detectionRule(detection: string, extra = ''): string {
  return `title: test rule
id: 00000000-0000-0000-0000-000000000001
status: test
level: high
tags:
    - attack.execution
    - attack.t1059.001
logsource:
    product: windows
    category: process_creation
${extra}detection:
${detection}`;
}

export function sysmonEvent(
  eventId: number,
  fields: Record<string, string>,
  extra: Partial<NormalizedEvent> = {},
): NormalizedEvent {
  return {
    source: 'sysmon',
    channel: Channels.sysmon,
    provider: 'Microsoft-Windows-Sysmon',
    eventId,
    host: 'WS01',
    time: 1_700_000_000_000,
    fields,
    ...extra,
  };
}

/** Whether the rule (compiled from YAML) matches the event, going through the ruleset index. */
export function matches(
  ruleYaml: string,
  event: NormalizedEvent,
  placeholders: Record<string, string[]> = {},
): boolean {
  const rule = compileYaml(ruleYaml, placeholders);
  return new CompiledRuleset([rule]).evaluate(event).length > 0;
}

/** Shorthand: process_creation rule with `detection`, tested on a Sysmon 1 event with `fields`. */
export function procMatch(
  detection: string,
  fields: Record<string, string>,
  placeholders: Record<string, string[]> = {},
): boolean {
  return matches(detectionRule(detection), sysmonEvent(1, fields), placeholders);
}
