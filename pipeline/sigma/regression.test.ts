/**
 * SigmaHQ regression cases (../shared/data/sigma-regression/INDEX.csv): for each, the rule must match at
 * least one of the recorded real events once they pass through the parser library. Rules whose logsource
 * the engine does not support are listed with the reason, and must stay few.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { normalizeRecord } from '../parsers';
import { loadRules } from './loader';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const DATA = path.resolve(repoRoot, '../shared/data');
const INDEX = path.join(DATA, 'sigma-regression/INDEX.csv');

interface Case {
  readonly ruleId: string;
  readonly title: string;
  readonly rulePath: string;
  readonly logsource: string;
  readonly json: string;
}

/** Minimal RFC 4180 reader (quoted fields, doubled quotes); the index has no multi-line fields. */
function parseCsvLine(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

function readCases(): Case[] {
  const [header, ...rows] = readFileSync(INDEX, 'utf8')
    .split(/\r?\n/)
    .filter((l) => l.trim() !== '');
  const cols = parseCsvLine(header!);
  const at = (name: string): number => {
    const i = cols.indexOf(name);
    if (i < 0) throw new Error(`INDEX.csv lacks column ${name}`);
    return i;
  };
  const [id, title, rulePath, logsource, json] = [
    'rule_id',
    'rule_title',
    'rule_path',
    'logsource',
    'json',
  ].map(at);
  return rows.map((r) => {
    const f = parseCsvLine(r);
    return {
      ruleId: f[id!]!,
      title: f[title!]!,
      rulePath: path.join(DATA, f[rulePath!]!),
      logsource: f[logsource!]!,
      json: path.join(DATA, f[json!]!),
    };
  });
}

/** The regression files hold one or more pretty-printed JSON objects back to back (not an array). */
export function splitConcatenatedJson(text: string): unknown[] {
  const out: unknown[] = [];
  let depth = 0;
  let start = -1;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    else if (c === '{' || c === '[') {
      if (depth === 0) start = i;
      depth++;
    } else if (c === '}' || c === ']') {
      depth--;
      if (depth === 0) out.push(JSON.parse(text.slice(start, i + 1)));
    }
  }
  const flat: unknown[] = [];
  for (const v of out)
    if (Array.isArray(v)) flat.push(...(v as unknown[]));
    else flat.push(v);
  return flat;
}

type Outcome = { kind: 'pass' } | { kind: 'unsupported'; reason: string } | { kind: 'fail'; reason: string };

async function runCase(c: Case): Promise<Outcome> {
  const { ruleset, report } = await loadRules([c.rulePath], { placeholders: {} });
  const skip = report.skipped.find((s) => s.id === c.ruleId) ?? report.skipped[0];
  if (ruleset.rules.length === 0) {
    const reason = skip?.reason ?? 'rule not loaded';
    return reason.startsWith('unsupported logsource')
      ? { kind: 'unsupported', reason }
      : { kind: 'fail', reason };
  }
  const records = splitConcatenatedJson(readFileSync(c.json, 'utf8'));
  const problems: string[] = [];
  for (const rec of records) {
    const r = normalizeRecord(rec, { keepUnsupported: true });
    if (r.kind !== 'event') {
      problems.push(r.kind === 'skipped' ? `parser skipped ${r.type}` : `parser rejected: ${r.reason}`);
      continue;
    }
    if (ruleset.evaluate(r.event).some((m) => m.ruleId === c.ruleId)) return { kind: 'pass' };
  }
  return {
    kind: 'fail',
    reason: problems.length > 0 ? problems.join('; ') : `no match in ${records.length} event(s)`,
  };
}

const haveData = existsSync(INDEX);

describe.skipIf(!haveData)('SigmaHQ regression cases', () => {
  it('every case with a supported logsource matches its recorded events', async () => {
    const cases = readCases();
    expect(cases.length).toBe(202);
    const failed: string[] = [];
    const unsupported: string[] = [];
    let passed = 0;
    for (const c of cases) {
      const o = await runCase(c);
      if (o.kind === 'pass') passed++;
      else if (o.kind === 'unsupported')
        unsupported.push(`${c.logsource} ${c.title} (${c.ruleId}): ${o.reason}`);
      else failed.push(`${c.logsource} ${c.title} (${c.ruleId}): ${o.reason}`);
    }
    console.log(
      `sigma regression: ${passed} passed, ${unsupported.length} unsupported, ${failed.length} failed of ${cases.length}`,
    );
    for (const u of unsupported) console.log(`  unsupported: ${u}`);
    for (const f of failed) console.log(`  FAILED: ${f}`);
    expect(failed).toEqual([]);
    expect(unsupported.length).toBeLessThanOrEqual(5);
  });
});
