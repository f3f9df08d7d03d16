import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRules } from './loader';
import { sysmonEvent } from './test-helpers';

let dir: string;

const rule = (
  id: string,
  extra = '',
  detection = "    selection:\n        Image|endswith: '\\\\x.exe'\n    condition: selection",
) => `title: rule ${id}
id: ${id}
status: test
level: medium
logsource:
    product: windows
    category: process_creation
${extra}detection:
${detection}
`;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sigma-loader-'));
  await mkdir(path.join(dir, 'sub', 'deeper'), { recursive: true });
  await writeFile(path.join(dir, 'a.yml'), rule('r-a'));
  await writeFile(path.join(dir, 'sub', 'b.yaml'), rule('r-b'));
  await writeFile(path.join(dir, 'sub', 'deeper', 'c.yml'), rule('r-c'));
  await writeFile(path.join(dir, 'sub', 'notes.txt'), 'not a rule');
  await writeFile(path.join(dir, 'dup.yml'), rule('r-a'));
  await writeFile(path.join(dir, 'broken.yml'), 'title: [unclosed\n');
  await writeFile(path.join(dir, 'linux.yml'), rule('r-linux').replace('product: windows', 'product: linux'));
  await writeFile(
    path.join(dir, 'deprecated.yml'),
    rule('r-dep').replace('status: test', 'status: deprecated'),
  );
  await writeFile(
    path.join(dir, 'badcond.yml'),
    rule('r-bad', '', '    selection:\n        Image: x\n    condition: selection and nothing'),
  );
  await writeFile(path.join(dir, 'notamap.yml'), '- just\n- a list\n');
  await writeFile(
    path.join(dir, 'placeholder.yml'),
    rule('r-ph', '', "    selection:\n        User|expand: '%undefined_thing%'\n    condition: selection"),
  );
  // Sigma v1 collection: global part merged into each document, repeat reuses the previous rule.
  await writeFile(
    path.join(dir, 'collection.yml'),
    `action: global
title: collection
status: test
level: high
logsource:
    product: windows
detection:
    condition: selection
---
id: r-coll-1
logsource:
    category: process_creation
detection:
    selection:
        Image|endswith: '\\\\one.exe'
---
action: repeat
id: r-coll-2
detection:
    selection:
        Image|endswith: '\\\\two.exe'
---
action: reset
---
title: after reset
id: r-coll-3
logsource:
    product: windows
    category: process_creation
detection:
    selection:
        Image|endswith: '\\\\three.exe'
    condition: selection
`,
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('loadRules', () => {
  it('loads *.yml/*.yaml recursively and skips every bad rule with a reason', async () => {
    const { ruleset, report } = await loadRules([dir], { placeholders: {} });
    const ids = ruleset.rules.map((r) => r.match.ruleId).sort();
    expect(ids).toEqual(['r-a', 'r-b', 'r-c', 'r-coll-1', 'r-coll-2', 'r-coll-3']);
    expect(report.loaded).toBe(6);
    expect(report.byLogsource).toEqual({ 'windows/process_creation': 6 });
    const reasons = Object.fromEntries(report.skipped.map((s) => [path.basename(s.path), s.reason]));
    expect(reasons['dup.yml']).toMatch(/duplicate rule id/);
    expect(reasons['broken.yml']).toMatch(/^YAML error/);
    expect(reasons['linux.yml']).toMatch(/^unsupported logsource: linux\/process_creation/);
    expect(reasons['deprecated.yml']).toMatch(/status deprecated/);
    expect(reasons['badcond.yml']).toMatch(/unknown selection 'nothing'/);
    expect(reasons['notamap.yml']).toMatch(/not a map/);
    expect(reasons['placeholder.yml']).toMatch(/undefined placeholder %undefined_thing%/);
    for (const s of report.skipped) expect(s.reason.length).toBeGreaterThan(0);
  });

  it('applies global and repeat documents of a collection', async () => {
    const { ruleset } = await loadRules([path.join(dir, 'collection.yml')], { placeholders: {} });
    const hit = (img: string) => ruleset.evaluate(sysmonEvent(1, { Image: img })).map((m) => m.ruleId);
    expect(hit('C:\\one.exe')).toEqual(['r-coll-1']);
    expect(hit('C:\\two.exe')).toEqual(['r-coll-2']);
    expect(hit('C:\\three.exe')).toEqual(['r-coll-3']);
    expect(ruleset.rules.find((r) => r.match.ruleId === 'r-coll-2')?.match.level).toBe('high');
    expect(ruleset.rules.find((r) => r.match.ruleId === 'r-coll-3')?.match.title).toBe('after reset');
  });

  it('can load selected statuses only', async () => {
    const { ruleset, report } = await loadRules([dir], { placeholders: {}, statuses: ['deprecated'] });
    expect(ruleset.rules.map((r) => r.match.ruleId)).toEqual(['r-dep']);
    expect(report.skipped.filter((s) => /status test not loaded/.test(s.reason)).length).toBeGreaterThan(0);
  });

  it('throws for a root that does not exist (a configuration error, not a bad rule)', async () => {
    await expect(loadRules([path.join(dir, 'nope')], { placeholders: {} })).rejects.toThrow(/not readable/);
  });
});

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const WINDOWS_RULES = path.resolve(repoRoot, '../shared/data/sigma/rules/windows');

describe.skipIf(!existsSync(WINDOWS_RULES))('SigmaHQ rules/windows', () => {
  it('loads all of them without crashing and reports every skip', async () => {
    const { ruleset, report } = await loadRules([WINDOWS_RULES]);
    const byReason = new Map<string, number>();
    for (const s of report.skipped) byReason.set(s.reason, (byReason.get(s.reason) ?? 0) + 1);
    console.log(`rules/windows: ${report.loaded} loaded, ${report.skipped.length} skipped`);
    for (const [reason, n] of [...byReason].sort((a, b) => b[1] - a[1]))
      console.log(`  ${String(n).padStart(4)}  ${reason}`);
    expect(report.loaded + report.skipped.length).toBeGreaterThanOrEqual(2407);
    expect(report.loaded).toBeGreaterThan(2350);
    expect(ruleset.rules.length).toBe(report.loaded);
    for (const s of report.skipped) expect(s.reason).toMatch(/\S/);
  });
});
