/**
 * Compiles a rule's `detection` section into one predicate over an EventView. Everything that can be
 * decided once is decided here: modifiers applied, patterns classified, regexes compiled, the condition
 * parsed and resolved, AND-ed items ordered cheapest first. Compilation errors are thrown as
 * `RuleCompileError` with a reason the loader reports; nothing here runs per event except the closures.
 *
 * Besides the predicate, compilation derives the set of EventIDs the rule can possibly match (from
 * `EventID: ...` items the condition requires), so the ruleset can index service rules (e.g. the 160
 * Security rules) by event id instead of running all of them on every Security event.
 */
import { RE2JS } from 're2js';
import { compileCidr } from './cidr';
import { parseCondition, type CondNode } from './condition';
import { isAscii, requiredLiterals } from './regex-prefilter';
import { fieldAccessor, KEYWORD_SEPARATOR, type EventView, type FieldAccessor } from './event-view';
import {
  parseSigmaString,
  plainString,
  STAR,
  withLeadingStar,
  withTrailingStar,
  type SigmaString,
} from './sigma-string';
import { compileAllOf, compileAnyOf, type StringTest } from './string-matcher';
import { applyStringModifiers, expandPlaceholders, STRING_MODIFIERS, type Group } from './value-modifiers';

export type Predicate = (view: EventView) => boolean;

export class RuleCompileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RuleCompileError';
  }
}

export interface DetectionContext {
  readonly placeholders: Readonly<Record<string, readonly string[]>>;
  /** Extra source fields tried when a Sigma field is missing (logsource-specific, e.g. Security 4688). */
  readonly fieldFallbacks?: Readonly<Record<string, readonly string[]>>;
}

/**
 * A necessary condition of a rule, for the ruleset's anchor index: the rule can only match an event in
 * which, for at least one (field, names) entry, the field's last path component (the text after the last
 * backslash, lower-cased; the whole value when it has none) is one of `names`. Derived from exact values
 * and `endswith: '\\name'` values, the shape of most rules' main selection (`Image|endswith:
 * '\\reg.exe'`, `OriginalFileName: 'reg.exe'`), so an event meets only the rules of its own image names.
 */
export type Anchor = ReadonlyMap<FieldAccessor, ReadonlySet<string>>;

export interface CompiledDetection {
  readonly predicate: Predicate;
  /** EventIDs the rule can match; `null` when any. */
  readonly eventIds: ReadonlySet<number> | null;
  /** See Anchor; `null` when the rule has no such necessary condition. */
  readonly anchor: Anchor | null;
  readonly selections: readonly string[];
}

interface Item {
  readonly pred: Predicate;
  readonly cost: number;
  readonly eventIds: ReadonlySet<number> | null;
  readonly anchor: Anchor | null;
}

/** Last path component of an already lower-cased value (the anchor key). */
export function anchorKey(lowerValue: string): string {
  const i = lowerValue.lastIndexOf('\\');
  return i < 0 ? lowerValue : lowerValue.slice(i + 1);
}

function anchorSize(a: Anchor): number {
  let n = 0;
  for (const s of a.values()) n += s.size;
  return n;
}

/** For an AND, any operand's condition is necessary: keep the most selective (fewest names). */
function bestAnchor(anchors: readonly (Anchor | null)[]): Anchor | null {
  let best: Anchor | null = null;
  for (const a of anchors) if (a !== null && (best === null || anchorSize(a) < anchorSize(best))) best = a;
  return best;
}

/** For an OR, the disjunction of the operands' conditions, if every operand has one. */
function unionAnchors(anchors: readonly (Anchor | null)[]): Anchor | null {
  const out = new Map<FieldAccessor, Set<string>>();
  for (const a of anchors) {
    if (a === null) return null;
    for (const [acc, names] of a) {
      let set = out.get(acc);
      if (!set) out.set(acc, (set = new Set()));
      for (const n of names) set.add(n);
    }
  }
  return out.size === 0 ? null : out;
}

/**
 * Anchor name of one value alternative, or undefined. An exact value anchors on its own last path
 * component. A suffix that contains a backslash anchors on the text after its last backslash: a value
 * ending with `\\Shell\\Open\\Command` has `command` as its last component.
 */
function anchorName(s: SigmaString): string | undefined {
  if (s.binary) return undefined;
  const [a, b] = s.parts;
  if (s.parts.length === 1 && typeof a === 'string') return anchorKey(a.toLowerCase());
  if (s.parts.length === 2 && a === STAR && typeof b === 'string' && b.includes('\\'))
    return anchorKey(b.toLowerCase());
  return undefined;
}

function groupsAnchor(acc: FieldAccessor, groups: readonly Group[], all: boolean): Anchor | null {
  const groupNames = groups.map((g) => {
    const names = new Set<string>();
    for (const s of g) {
      const n = anchorName(s);
      if (n === undefined) return null;
      names.add(n);
    }
    return names;
  });
  if (all) {
    // Every group must hold: any one group's names are necessary.
    let best: Set<string> | null = null;
    for (const n of groupNames) if (n !== null && (best === null || n.size < best.size)) best = n;
    return best === null ? null : new Map([[acc, best]]);
  }
  const names = new Set<string>();
  for (const n of groupNames) {
    if (n === null) return null;
    for (const x of n) names.add(x);
  }
  return names.size === 0 ? null : new Map([[acc, names]]);
}

const TIME_PARTS = new Set(['minute', 'hour', 'day', 'week', 'month', 'year']);
const NUMERIC = new Set(['lt', 'lte', 'gt', 'gte']);
const RE_FLAGS = new Set(['i', 'm', 's']);
const FLAG_MODIFIERS = new Set(['all', 'cased', 'neq', 'expand']);
const KNOWN_MODIFIERS = new Set([
  ...STRING_MODIFIERS,
  ...FLAG_MODIFIERS,
  ...NUMERIC,
  ...TIME_PARTS,
  ...RE_FLAGS,
  're',
  'cidr',
  'exists',
  'fieldref',
]);

type Scalar = string | number | boolean | null;

function isScalar(v: unknown): v is Scalar {
  return v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function scalarText(v: string | number | boolean): string {
  return typeof v === 'string' ? v : String(v);
}

/** Parses a field value as a number: decimal, or hex with a 0x prefix (Security writes PIDs so). */
export function numericValue(v: string): number | undefined {
  const t = v.trim();
  if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
  if (/^0x[0-9a-f]+$/i.test(t)) return parseInt(t.slice(2), 16);
  return undefined;
}

function timePart(part: string, v: string): string | undefined {
  // Sysmon writes UtcTime as "2023-08-27 03:04:14.801" (UTC, no zone); treat zone-less times as UTC.
  let t = v.trim();
  if (/^\d{4}-\d{2}-\d{2} \d/.test(t)) t = t.replace(' ', 'T');
  if (/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(t)) t += 'Z';
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return undefined;
  switch (part) {
    case 'minute':
      return String(d.getUTCMinutes());
    case 'hour':
      return String(d.getUTCHours());
    case 'day':
      return String(d.getUTCDate());
    case 'month':
      return String(d.getUTCMonth() + 1);
    case 'year':
      return String(d.getUTCFullYear());
    case 'week': {
      const start = Date.UTC(d.getUTCFullYear(), 0, 1);
      return String(Math.floor((d.getTime() - start) / 86_400_000 / 7) + 1);
    }
    default:
      return undefined;
  }
}

function timeAccessor(base: FieldAccessor, part: string): FieldAccessor {
  const raw = (view: EventView): string | undefined => {
    const v = base.raw(view);
    return v === undefined ? undefined : timePart(part, v);
  };
  return {
    name: `${base.name}|${part}`,
    key: `\u0001${base.key}|${part}`,
    raw,
    has: (v) => raw(v) !== undefined,
  };
}

function anyOf(preds: readonly Predicate[]): Predicate {
  if (preds.length === 1) return preds[0]!;
  if (preds.length === 2) {
    const [a, b] = preds as [Predicate, Predicate];
    return (v) => a(v) || b(v);
  }
  return (v) => {
    for (let i = 0; i < preds.length; i++) if (preds[i]!(v)) return true;
    return false;
  };
}

function allOf(preds: readonly Predicate[]): Predicate {
  if (preds.length === 1) return preds[0]!;
  if (preds.length === 2) {
    const [a, b] = preds as [Predicate, Predicate];
    return (v) => a(v) && b(v);
  }
  return (v) => {
    for (let i = 0; i < preds.length; i++) if (!preds[i]!(v)) return false;
    return true;
  };
}

function intersectIds(sets: readonly (ReadonlySet<number> | null)[]): ReadonlySet<number> | null {
  let acc: Set<number> | null = null;
  for (const s of sets) {
    if (s === null) continue;
    if (acc === null) acc = new Set(s);
    else for (const x of [...acc]) if (!s.has(x)) acc.delete(x);
  }
  return acc;
}

function unionIds(sets: readonly (ReadonlySet<number> | null)[]): ReadonlySet<number> | null {
  const acc = new Set<number>();
  for (const s of sets) {
    if (s === null) return null;
    for (const x of s) acc.add(x);
  }
  return acc;
}

/** Field-value test on the cached lower-case (or raw, when cased) value of one field. */
function fieldStringPred(acc: FieldAccessor, test: StringTest, cased: boolean): Predicate {
  if (cased)
    return (view) => {
      const v = acc.raw(view);
      return v !== undefined && test(v);
    };
  return (view) => {
    const v = view.lower(acc);
    return v !== undefined && test(v);
  };
}

/** Keyword search for plain substrings: one scan of the joined values (see EventView.joinedLower). */
function joinedKeywordPred(test: StringTest, cased: boolean): Predicate {
  return cased ? (view) => test(view.joinedRaw()) : (view) => test(view.joinedLower());
}

function isPlainContains(s: SigmaString): boolean {
  const [a, b, c] = s.parts;
  return (
    s.parts.length === 3 &&
    a === STAR &&
    c === STAR &&
    typeof b === 'string' &&
    !b.includes(KEYWORD_SEPARATOR)
  );
}

/** Keyword (unbound value) search: any field value satisfies the test. */
function keywordPred(test: StringTest, cased: boolean): Predicate {
  return (view) => {
    const values = cased ? view.rawValues() : view.lowerValues();
    for (let i = 0; i < values.length; i++) if (test(values[i]!)) return true;
    return false;
  };
}

function stringCost(groups: readonly Group[]): number {
  let cost = 2;
  for (const g of groups)
    for (const s of g) {
      const wild = s.parts.filter((p) => typeof p !== 'string').length;
      cost += wild === 0 ? 0.1 : wild === 1 ? 0.3 : 0.6;
    }
  return cost;
}

/**
 * One `field|modifiers: value(s)` item of a selection map. `field` is '' for keyword maps (`'|all': [...]`).
 */
function compileItem(key: string, value: unknown, ctx: DetectionContext): Item {
  const [rawField, ...rawMods] = key.split('|');
  const field = rawField!.trim();
  const mods = rawMods.map((m) => m.trim().toLowerCase()).filter((m) => m !== '');
  for (const m of mods)
    if (!KNOWN_MODIFIERS.has(m)) throw new RuleCompileError(`unsupported modifier '${m}'`);
  const has = (m: string): boolean => mods.includes(m);
  const isKeyword = field === '';

  const values: unknown[] = Array.isArray(value) ? value : [value];
  if (values.length === 0) throw new RuleCompileError(`empty value list for '${key}'`);
  for (const v of values) if (!isScalar(v)) throw new RuleCompileError(`value of '${key}' is not a scalar`);
  const scalars = values as Scalar[];

  let acc: FieldAccessor | undefined;
  if (!isKeyword) {
    acc = fieldAccessor(field, ctx.fieldFallbacks?.[field]);
    const timeMods = mods.filter((m) => TIME_PARTS.has(m));
    if (timeMods.length > 1) throw new RuleCompileError(`more than one time modifier in '${key}'`);
    if (timeMods.length === 1) acc = timeAccessor(acc, timeMods[0]!);
  } else if (has('exists') || has('fieldref') || has('cidr') || mods.some((m) => NUMERIC.has(m))) {
    throw new RuleCompileError(`modifier needs a field name in '${key}'`);
  }

  const all = has('all');
  const neq = has('neq');
  const cased = has('cased');
  const combine = all ? allOf : anyOf;
  const finish = (
    pred: Predicate,
    cost: number,
    eventIds: ReadonlySet<number> | null = null,
    anchor: Anchor | null = null,
  ): Item => {
    if (!neq) return { pred, cost, eventIds, anchor };
    return { pred: (v) => !pred(v), cost, eventIds: null, anchor: null };
  };

  if (has('exists')) {
    if (scalars.length !== 1) throw new RuleCompileError(`'exists' takes one boolean in '${key}'`);
    const s = scalars[0];
    const want = s === true || s === 'true' ? true : s === false || s === 'false' ? false : undefined;
    if (want === undefined) throw new RuleCompileError(`'exists' takes a boolean in '${key}'`);
    const a = acc!;
    return finish((v) => a.has(v) === want, 0.5);
  }

  // `Field: null` (alone or in a list): the field is absent or empty.
  const nullPreds: Predicate[] = [];
  const nonNull: Array<string | number | boolean> = [];
  for (const s of scalars) {
    if (s === null) {
      if (isKeyword) throw new RuleCompileError(`null keyword in '${key}'`);
      const a = acc!;
      nullPreds.push((v) => {
        const x = a.raw(v);
        return x === undefined || x === '';
      });
    } else nonNull.push(s);
  }
  if (nonNull.length === 0) return finish(combine(nullPreds), 0.5);

  let valuePreds: Predicate[];
  let cost: number;
  let eventIds: ReadonlySet<number> | null = null;
  let anchor: Anchor | null = null;

  if (has('re')) {
    for (const m of mods)
      if (!['re', 'i', 'm', 's', 'all', 'neq', 'cased'].includes(m) && !TIME_PARTS.has(m))
        throw new RuleCompileError(`modifier '${m}' cannot be combined with 're'`);
    let flags = 0;
    if (has('i')) flags |= RE2JS.CASE_INSENSITIVE;
    if (has('m')) flags |= RE2JS.MULTILINE;
    if (has('s')) flags |= RE2JS.DOTALL;
    valuePreds = nonNull.map((s) => {
      const src = scalarText(s);
      let re: RE2JS;
      try {
        re = RE2JS.compile(src, flags);
      } catch (e) {
        throw new RuleCompileError(
          `regex not supported by RE2 (${(e as Error).message.split('\n')[0]}): ${src}`,
        );
      }
      if (isKeyword) return keywordPred((x) => re.test(x), true);
      const lits = requiredLiterals(src);
      const a = acc!;
      if (lits.length === 0)
        return (view: EventView) => {
          const x = a.raw(view);
          return x !== undefined && re.test(x);
        };
      return (view: EventView) => {
        const x = a.raw(view);
        if (x === undefined) return false;
        if (isAscii(x)) {
          const low = view.lower(a)!;
          for (let i = 0; i < lits.length; i++) if (!low.includes(lits[i]!)) return false;
        }
        return re.test(x);
      };
    });
    cost = 20 + valuePreds.length;
  } else if (mods.some((m) => RE_FLAGS.has(m))) {
    throw new RuleCompileError(`regex flags without 're' in '${key}'`);
  } else if (has('cidr')) {
    const specs = nonNull.map(scalarText);
    let tests: Array<(x: string) => boolean>;
    try {
      tests = all ? specs.map((s) => compileCidr([s])) : [compileCidr(specs)];
    } catch (e) {
      throw new RuleCompileError((e as Error).message);
    }
    valuePreds = tests.map((t) => fieldStringPred(acc!, t, true));
    cost = 3;
  } else if (mods.some((m) => NUMERIC.has(m))) {
    const op = mods.find((m) => NUMERIC.has(m))!;
    const preds = nonNull.map((s) => {
      const n = typeof s === 'number' ? s : numericValue(scalarText(s));
      if (n === undefined) throw new RuleCompileError(`'${op}' needs a number in '${key}'`);
      const cmp =
        op === 'lt'
          ? (x: number) => x < n
          : op === 'lte'
            ? (x: number) => x <= n
            : op === 'gt'
              ? (x: number) => x > n
              : (x: number) => x >= n;
      return fieldStringPred(
        acc!,
        (x) => {
          const num = numericValue(x);
          return num !== undefined && cmp(num);
        },
        true,
      );
    });
    valuePreds = preds;
    cost = 2;
  } else if (has('fieldref')) {
    const base = mods.filter((m) => m === 'contains' || m === 'startswith' || m === 'endswith');
    for (const m of mods)
      if (!['fieldref', 'contains', 'startswith', 'endswith', 'all', 'neq', 'cased'].includes(m))
        throw new RuleCompileError(`modifier '${m}' cannot be combined with 'fieldref'`);
    const mode = base[0] ?? 'equals';
    valuePreds = nonNull.map((s) => {
      const ref = fieldAccessor(scalarText(s), ctx.fieldFallbacks?.[scalarText(s)]);
      const a = acc!;
      const get = (v: EventView, f: FieldAccessor): string | undefined => (cased ? f.raw(v) : v.lower(f));
      return (v: EventView) => {
        const x = get(v, a);
        const y = get(v, ref);
        if (x === undefined || y === undefined) return false;
        if (mode === 'contains') return x.includes(y);
        if (mode === 'startswith') return x.startsWith(y);
        if (mode === 'endswith') return x.endsWith(y);
        return x === y;
      };
    });
    cost = 2;
  } else {
    // Plain string matching, through the string modifiers.
    let groups: Group[] = [];
    for (const s of nonNull) {
      const text = scalarText(s);
      let raws: string[];
      try {
        raws = has('expand') ? expandPlaceholders(text, ctx.placeholders) : [text];
      } catch (e) {
        throw new RuleCompileError((e as Error).message);
      }
      groups.push(raws.map((r) => (typeof s === 'string' ? parseSigmaString(r) : plainString(r))));
    }
    try {
      groups = applyStringModifiers(groups, mods);
    } catch (e) {
      throw new RuleCompileError(`${(e as Error).message} in '${key}'`);
    }
    if (isKeyword) groups = groups.map((g) => g.map((x) => withTrailingStar(withLeadingStar(x))));
    let test: StringTest;
    try {
      test = all ? compileAllOf(groups, cased) : compileAnyOf(groups.flat(), cased);
    } catch (e) {
      throw new RuleCompileError(`cannot compile pattern in '${key}': ${(e as Error).message}`);
    }
    const joined = isKeyword && groups.every((g) => g.every(isPlainContains));
    valuePreds = [
      !isKeyword
        ? fieldStringPred(acc!, test, cased)
        : joined
          ? joinedKeywordPred(test, cased)
          : keywordPred(test, cased),
    ];
    cost = isKeyword ? 15 : stringCost(groups);
    const timed = mods.some((m) => TIME_PARTS.has(m));
    // EventID is already indexed by the ruleset; an anchor on it would only displace a selective one.
    if (!isKeyword && !timed && nullPreds.length === 0 && field !== 'EventID')
      anchor = groupsAnchor(acc!, groups, all);
    if (field === 'EventID' && mods.length === 0 && nullPreds.length === 0) {
      const ids = nonNull.map((s) => (typeof s === 'number' ? s : Number(s)));
      if (ids.every((n) => Number.isInteger(n))) eventIds = new Set(ids);
    }
  }

  const preds = [...nullPreds, ...valuePreds];
  return finish(combine(preds), cost, eventIds, anchor);
}

function compileMap(map: Record<string, unknown>, ctx: DetectionContext): Item {
  const entries = Object.entries(map);
  if (entries.length === 0) throw new RuleCompileError('empty selection');
  const items = entries.map(([k, v]) => compileItem(k, v, ctx));
  items.sort((a, b) => a.cost - b.cost);
  return {
    pred: allOf(items.map((i) => i.pred)),
    cost: items.reduce((s, i) => s + i.cost, 0),
    eventIds: intersectIds(items.map((i) => i.eventIds)),
    anchor: bestAnchor(items.map((i) => i.anchor)),
  };
}

function compileSelection(name: string, def: unknown, ctx: DetectionContext): Item {
  if (isRecord(def)) return compileMap(def, ctx);
  if (Array.isArray(def)) {
    if (def.length === 0) throw new RuleCompileError(`selection '${name}' is an empty list`);
    const keywords = def.filter((d) => !isRecord(d));
    const maps = def.filter(isRecord).map((m) => compileMap(m, ctx));
    const alts: Item[] = [...maps];
    if (keywords.length > 0) alts.push(compileItem('', keywords, ctx));
    return {
      pred: anyOf(alts.map((a) => a.pred)),
      cost: Math.max(...alts.map((a) => a.cost)),
      eventIds: unionIds(alts.map((a) => a.eventIds)),
      anchor: unionAnchors(alts.map((a) => a.anchor)),
    };
  }
  if (typeof def === 'string' || typeof def === 'number') return compileItem('', [def], ctx);
  throw new RuleCompileError(`selection '${name}' has an unsupported shape`);
}

function compileNode(node: CondNode, sel: ReadonlyMap<string, Item>): Item {
  switch (node.type) {
    case 'ref':
      return sel.get(node.name)!;
    case 'not': {
      const inner = compileNode(node.item, sel);
      const p = inner.pred;
      return { pred: (v) => !p(v), cost: inner.cost, eventIds: null, anchor: null };
    }
    case 'and': {
      const items = node.items.map((n) => compileNode(n, sel));
      return {
        pred: allOf(items.map((i) => i.pred)),
        cost: items.reduce((s, i) => s + i.cost, 0),
        eventIds: intersectIds(items.map((i) => i.eventIds)),
        anchor: bestAnchor(items.map((i) => i.anchor)),
      };
    }
    case 'or': {
      const items = node.items.map((n) => compileNode(n, sel));
      return {
        pred: anyOf(items.map((i) => i.pred)),
        cost: items.reduce((s, i) => s + i.cost, 0),
        eventIds: unionIds(items.map((i) => i.eventIds)),
        anchor: unionAnchors(items.map((i) => i.anchor)),
      };
    }
    case 'atLeast': {
      const items = node.items.map((n) => compileNode(n, sel));
      const preds = items.map((i) => i.pred);
      const n = node.n;
      return {
        pred: (v) => {
          let hits = 0;
          for (let i = 0; i < preds.length; i++) if (preds[i]!(v) && ++hits >= n) return true;
          return false;
        },
        cost: items.reduce((s, i) => s + i.cost, 0),
        eventIds: unionIds(items.map((i) => i.eventIds)),
        anchor: unionAnchors(items.map((i) => i.anchor)),
      };
    }
  }
}

export function compileDetection(detection: unknown, ctx: DetectionContext): CompiledDetection {
  if (!isRecord(detection)) throw new RuleCompileError('detection is missing or not a map');
  const rawCondition = detection.condition;
  let condition: string;
  if (typeof rawCondition === 'string') condition = rawCondition;
  else if (
    Array.isArray(rawCondition) &&
    rawCondition.length > 0 &&
    rawCondition.every((c) => typeof c === 'string')
  )
    // A list of conditions is the legacy form of their OR.
    condition = (rawCondition as string[]).map((c) => `(${c})`).join(' or ');
  else throw new RuleCompileError('detection.condition is missing or not a string');

  const names = Object.keys(detection).filter((k) => k !== 'condition' && k !== 'timeframe');
  let tree: CondNode;
  try {
    tree = parseCondition(condition, names);
  } catch (e) {
    throw new RuleCompileError(`condition: ${(e as Error).message}`);
  }
  const selections = new Map<string, Item>();
  const used = new Set<string>();
  const collect = (n: CondNode): void => {
    if (n.type === 'ref') used.add(n.name);
    else if (n.type === 'not') collect(n.item);
    else n.items.forEach(collect);
  };
  collect(tree);
  for (const name of used) {
    try {
      selections.set(name, compileSelection(name, detection[name], ctx));
    } catch (e) {
      if (e instanceof RuleCompileError) throw new RuleCompileError(`${name}: ${e.message}`);
      throw e;
    }
  }
  const root = compileNode(tree, selections);
  return { predicate: root.pred, eventIds: root.eventIds, anchor: root.anchor, selections: names };
}
