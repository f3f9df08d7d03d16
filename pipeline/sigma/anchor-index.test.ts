/**
 * The anchor index must never change what matches: evaluate() (anchor index) is compared with a brute
 * force run of every candidate rule, on crafted events and on real telemetry when the shared data is there.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import type { NormalizedEvent } from '../../domain/event';
import { normalizeRecord } from '../parsers';
import { EventView } from './event-view';
import { loadRules } from './loader';
import { CompiledRuleset } from './ruleset';
import { compileYaml, detectionRule, sysmonEvent } from './test-helpers';

function bruteForce(rs: CompiledRuleset, e: NormalizedEvent): string[] {
  const view = new EventView(e);
  return rs
    .candidates(e)
    .filter((r) => r.predicate(view))
    .map((r) => r.match.ruleId);
}

function ruleWith(id: string, detection: string) {
  return compileYaml(detectionRule(detection).replace('00000000-0000-0000-0000-000000000001', id));
}

describe('anchors', () => {
  it('are derived from exact values and backslash suffixes, and not from contains, neq or not', () => {
    const names = (det: string) => {
      const a = ruleWith('x', det).anchor;
      return a === null ? null : [...a.values()].flatMap((s) => [...s]).sort();
    };
    expect(names("    s:\n        Image|endswith: '\\\\Reg.exe'\n    condition: s")).toEqual(['reg.exe']);
    expect(
      names("    s:\n        TargetObject|endswith: '\\\\Shell\\\\Open\\\\Command'\n    condition: s"),
    ).toEqual(['command']);
    expect(names("    s:\n        OriginalFileName: 'REG.EXE'\n    condition: s")).toEqual(['reg.exe']);
    expect(
      names(
        "    s:\n        - Image|endswith: '\\\\a.exe'\n        - OriginalFileName: 'b.exe'\n    condition: s",
      ),
    ).toEqual(['a.exe', 'b.exe']);
    // AND: the most selective operand
    expect(
      names(
        "    s:\n        Image|endswith: ['\\\\a.exe', '\\\\b.exe']\n        ParentImage|endswith: '\\\\w.exe'\n    condition: s",
      ),
    ).toEqual(['w.exe']);
    expect(names("    s:\n        Image|endswith: 'a.exe'\n    condition: s")).toBeNull();
    expect(names("    s:\n        Image|contains: '\\\\a.exe'\n    condition: s")).toBeNull();
    expect(names("    s:\n        Image|neq: 'a.exe'\n    condition: s")).toBeNull();
    expect(names("    s:\n        Image|endswith: '\\\\a.exe'\n    condition: not s")).toBeNull();
    // OR with an unanchored operand has no anchor
    expect(
      names(
        "    a:\n        Image|endswith: '\\\\a.exe'\n    b:\n        CommandLine|contains: 'x'\n    condition: a or b",
      ),
    ).toBeNull();
  });

  it('do not change matches on crafted events', () => {
    const rules = [
      ruleWith('r1', "    s:\n        Image|endswith: '\\\\reg.exe'\n    condition: s"),
      ruleWith(
        'r2',
        "    s:\n        - Image|endswith: '\\\\a.exe'\n        - OriginalFileName: 'reg.exe'\n    condition: s",
      ),
      ruleWith('r3', "    s:\n        CommandLine|contains: 'save'\n    condition: s"),
      ruleWith('r4', "    s:\n        Image: 'C:\\\\Windows\\\\reg.exe'\n    condition: s"),
      ruleWith('r5', "    s:\n        Image|endswith: '\\\\'\n    condition: s"),
    ];
    const rs = new CompiledRuleset(rules);
    const fieldSets: Array<Record<string, string>> = [
      { Image: 'C:\\Windows\\REG.exe', CommandLine: 'reg save', OriginalFileName: 'reg.exe' },
      { Image: 'C:\\x\\a.exe' },
      { Image: 'reg.exe' },
      { Image: 'C:\\dir\\' },
      { OriginalFileName: 'REG.EXE' },
      {},
    ];
    const events = fieldSets.map((f) => sysmonEvent(1, f));
    for (const e of events) expect(rs.evaluate(e).map((m) => m.ruleId)).toEqual(bruteForce(rs, e));
    expect(rs.evaluate(events[0]!).map((m) => m.ruleId)).toEqual(['r1', 'r2', 'r3', 'r4']);
    expect(rs.visited(events[1]!).map((r) => r.match.ruleId)).toEqual(['r2', 'r3']);
  });
});

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DATA = path.resolve(repoRoot, '../shared/data');
const KILL_CHAIN = path.join(DATA, 'sysmon-json/metasploit_out-minidump_lsass_memory_dump.jsonl.gz');

describe.skipIf(!existsSync(KILL_CHAIN))('anchor index on real telemetry', () => {
  it('gives the same matches as running every candidate rule', async () => {
    const { ruleset } = await loadRules(
      ['rules/windows', 'rules-threat-hunting', 'rules-emerging-threats'].map((d) =>
        path.join(DATA, 'sigma', d),
      ),
      { placeholders: {} },
    );
    const lines = gunzipSync(readFileSync(KILL_CHAIN)).toString('utf8').split('\n');
    let events = 0;
    let matches = 0;
    const mismatches: string[] = [];
    // Every other event keeps the run short; both halves hold every event type of the kill chain.
    for (let i = 0; i < lines.length; i += 2) {
      const line = lines[i]!;
      if (line.trim() === '') continue;
      const r = normalizeRecord(JSON.parse(line), { keepUnsupported: true });
      if (r.kind !== 'event') continue;
      events++;
      const got = ruleset.evaluate(r.event).map((m) => m.ruleId);
      const want = bruteForce(ruleset, r.event);
      matches += got.length;
      if (got.join() !== want.join() && mismatches.length < 10)
        mismatches.push(`${r.event.channel}:${r.event.eventId} got ${got.join()} want ${want.join()}`);
    }
    expect(events).toBe(20_284);
    expect(matches).toBeGreaterThan(0);
    expect(mismatches).toEqual([]);
  });
});
