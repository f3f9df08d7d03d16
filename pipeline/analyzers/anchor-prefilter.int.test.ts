/**
 * The anchor prefilter against Neo4j itself: for every filter the built-in analyzers put on their anchors,
 * and for generated filters, on real image and command-line values of the recorded attacks and on
 * generated strings meant to find disagreements (case, line breaks, non-ASCII letters, regex corners),
 * the JavaScript verdict must be exactly what the compiled Cypher predicate returns whenever it claims to
 * know it (true, false or null). A skipped key is a detection the analyzer never looks at, so this is the
 * test that keeps the prefilter honest.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphGateway } from '../../lib/neo4j';
import { mulberry32 } from '../../test/seeded-random';
import { gatewayFromEnv } from '../merge/test-support';
import { anchorTests, evaluate, type Truth } from './anchor-prefilter';
import { loadAnalyzers } from './host';
import {
  allOf,
  anyOf,
  caseSensitive,
  contains,
  endsWith,
  eq,
  exists,
  gt,
  imageIs,
  lt,
  missing,
  not,
  regex,
  startsWith,
  type Filter,
} from './sdk';
import { Params, predicate } from './sdk/compile';
import { readEvents } from './test-support';

const DATA = path.resolve(import.meta.dirname, '../../../shared/data/sysmon-json');

let gateway: GraphGateway;

beforeAll(() => {
  gateway = gatewayFromEnv();
});

afterAll(async () => {
  await gateway?.close();
});

type PropType = 'string' | 'number' | 'strings';

interface Disagreement {
  value: unknown;
  filter: string;
  js: Truth;
  cypher: unknown;
}

/** Runs the compiled predicate of `f` on every value in Neo4j and compares it with `evaluate`. */
async function compare(
  f: Filter,
  type: PropType,
  values: readonly unknown[],
): Promise<{ disagreements: Disagreement[]; unknown: number; unknownAt: Set<number> }> {
  const P = new Params();
  const pred = predicate('row.v', type, f, P);
  const rows = values.map((v, i) => (v === undefined ? { i } : { i, v }));
  const res = await gateway.query<{ i: number; r: unknown }>(
    'test.anchor-prefilter',
    `UNWIND $rows AS row RETURN row.i AS i, ${pred} AS r`,
    { ...P.values, rows },
  );
  expect(res).toHaveLength(values.length);
  const disagreements: Disagreement[] = [];
  const unknownAt = new Set<number>();
  for (const { i, r } of res) {
    const js = evaluate(values[i], type, f);
    if (js === 'U') {
      unknownAt.add(i);
      continue;
    }
    const expected = js === 'T' ? true : js === 'F' ? false : null;
    if (r !== expected) disagreements.push({ value: values[i], filter: JSON.stringify(f), js, cypher: r });
  }
  return { disagreements, unknown: unknownAt.size, unknownAt };
}

/** Strings built from pieces that sit on the edges of the two engines' semantics. */
function tricky(n: number, seed: number): string[] {
  const next = mulberry32(seed);
  const pieces = [
    'cmd.exe',
    'CMD.EXE',
    'C:\\Windows\\System32\\',
    'c:\\windows\\syswow64\\',
    'powershell',
    ' -enc ',
    'AAAA',
    '\\',
    '/',
    '.',
    ' ',
    'a',
    'B',
    '0',
    '_',
    '-',
    '\n',
    '\r\n',
    '\r',
    '\t',
    '\u0130',
    '\u0131',
    '\u212a',
    '\u017f',
    '\u00df',
    '\u03a3',
    '\u00e9',
    '\u2028',
    '\u0085',
    'exe',
    '.exe',
    'x{2}',
    '[',
    ']',
    '(',
    ')',
    '$',
    '^',
  ];
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    let s = '';
    const len = 1 + Math.floor(next() * 6);
    for (let j = 0; j < len; j++) s += pieces[Math.floor(next() * pieces.length)];
    out.push(s);
  }
  return out;
}

const GENERATED: Array<[PropType, Filter]> = [
  ['string', imageIs('cmd.exe', 'powershell.exe')],
  ['string', caseSensitive(endsWith('.exe'))],
  ['string', contains('system32', 'a')],
  ['string', startsWith('c:\\windows\\')],
  ['string', eq('cmd.exe', 'CMD.EXE', 'i')],
  ['string', not(imageIs('cmd.exe'))],
  ['string', allOf(contains('exe'), not(contains('\\')))],
  ['string', anyOf(missing(), endsWith('exe'))],
  ['string', exists()],
  ['string', regex('exe$')],
  ['string', regex('^cmd')],
  ['string', regex(String.raw`^[a-z]:\\windows\\(system32|syswow64)\\`)],
  ['string', regex(String.raw`\bexe\b`)],
  ['string', regex(String.raw`a.b`)],
  ['string', regex(String.raw`\s+-enc\s`)],
  ['string', regex(String.raw`[^\w]{2,}`)],
  ['string', caseSensitive(regex('[A-Z]+'))],
  ['string', regex('x{2}|\\[\\]')],
  ['string', not(regex('(?<=c)md'))],
  ['strings', eq('exe', 'a')],
  ['strings', contains('cmd')],
  ['strings', exists()],
  ['strings', not(regex('^c'))],
];

describe('anchor prefilter verdicts equal Neo4j predicates', () => {
  it('on generated strings built to disagree', async () => {
    const strings = [...tricky(1500, 7), '', 'cmd.exe\n', 'x.exe\u0085', '\u0130cmd.exe', undefined];
    let unknown = 0;
    let total = 0;
    const all: Disagreement[] = [];
    for (const [type, f] of GENERATED) {
      const values =
        type === 'strings'
          ? [
              ...strings.slice(0, 300).map((s, i) => (s === undefined ? s : [s, strings[i + 300]!])),
              [],
              undefined,
            ]
          : strings;
      const r = await compare(f, type, values);
      all.push(...r.disagreements);
      unknown += r.unknown;
      total += values.length;
    }
    expect(all.slice(0, 10)).toEqual([]);
    // Most of these strings hold a line break or a non-ASCII letter, so many verdicts are unknown; but the
    // prefilter must still decide most of them, or it saves nothing.
    expect(unknown / total).toBeLessThan(0.75);
  });

  it('on numbers', async () => {
    const values = [0, 1, -1, 2.5, 1e12, 1700000000000, undefined];
    for (const f of [gt(1), lt(2.5), eq(1, 2.5), not(gt(0)), exists(), missing()]) {
      const r = await compare(f, 'number', values);
      expect(r.disagreements).toEqual([]);
      expect(r.unknown).toBe(0);
    }
  });

  it('for every anchor filter of the built-in analyzers, on the images and command lines of real attacks', async () => {
    const files = (await fs.readdir(DATA)).filter((f) => f.endsWith('.jsonl'));
    expect(files.length).toBeGreaterThan(10);
    const events = (await Promise.all(files.map((f) => readEvents(path.join(DATA, f))))).flat();
    const byProp = new Map<string, Set<string>>([
      ['image', new Set()],
      ['command_line', new Set()],
    ]);
    for (const e of events) {
      for (const [field, prop] of [
        ['Image', 'image'],
        ['ParentImage', 'image'],
        ['SourceImage', 'image'],
        ['CommandLine', 'command_line'],
        ['ParentCommandLine', 'command_line'],
      ] as const) {
        const v = e.fields[field];
        if (v) byProp.get(prop)!.add(v);
      }
    }
    expect(byProp.get('image')!.size).toBeGreaterThan(20);
    expect(byProp.get('command_line')!.size).toBeGreaterThan(20);

    const { analyzers } = await loadAnalyzers(undefined);
    let checked = 0;
    let decided = 0;
    let total = 0;
    for (const a of analyzers) {
      for (const t of anchorTests(a.query.spec)) {
        for (const pf of t.filters) {
          const real = byProp.get(pf.prop);
          if (!real) continue;
          const type = pf.spec === 'key' ? 'string' : pf.spec.type;
          const values = [...real, ...tricky(200, checked + 1), undefined];
          total += real.size;
          const r = await compare(pf.filter, type, values);
          expect(r.disagreements.slice(0, 5), `${a.id}.${pf.var}.${pf.prop}`).toEqual([]);
          checked++;
          decided += real.size - [...r.unknownAt].filter((i) => i < real.size).length;
        }
      }
    }
    expect(checked).toBeGreaterThan(30);
    // On real telemetry the prefilter decides nearly everything itself.
    expect(decided / total).toBeGreaterThan(0.9);
  });
});
