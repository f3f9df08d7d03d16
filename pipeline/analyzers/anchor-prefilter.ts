/**
 * Which changed keys can start a match of an analyzer, decided before its query runs.
 *
 * Most analyzers filter their anchor on its own properties (`image` is cmd.exe, `command_line` matches a
 * regex), and most of an update's processes fail those filters. Sent to Neo4j anyway, every such key costs
 * an index seek and a property read in every analyzer's query: about 50 queries per batch, most of whose
 * keys are rejected by the first WHERE. The analyze stage therefore reads, once per batch
 * (`prefetchCypher`), the properties those filters name and, for every edge a pattern requires at an
 * anchor, how many edges of that type and direction the node has; each analyzer gets only the keys whose
 * stored values could pass one of its anchors' filters and that have every edge it needs (a registry
 * analyzer needs a process that set a value). An analyzer left without keys runs no query at all.
 *
 * The verdict here only ever removes a key the query itself would reject. Cypher's filters are evaluated
 * in its three-valued logic, and wherever JavaScript and Neo4j could disagree the answer is "unknown" and
 * the key is kept:
 *   - a value with characters outside printable ASCII (Java's and JavaScript's lower-casing differ on a few
 *     letters, and Java counts U+0085, U+2028 and U+2029 as line terminators);
 *   - a regex outside a portable subset (`portableRegex`), or one applied to a value holding a line break
 *     (Java's `$` also matches before a final line terminator);
 *   - a value of another type than the model says, a key that was not found.
 * Filter groups (`whereAny`), edge filters and the hops of sub-patterns are left to the query.
 * Properties read here can only change in a later update (immutable values are set once, lists and
 * counters grow), edges are only added (a fold moves a node's edges to the node it folds into, which that
 * update lists), and every update lists the keys it wrote, so a key skipped now is looked at again by the
 * batch of the write that could change the verdict.
 */
import type { EdgeKind, NodeKind } from '../../domain/model';
import type { Filter } from './sdk/filters';
import { anchorsOf, type PropFilter, type QuerySpec } from './sdk/query';

/** Cypher's three values, and `U`: could be any of them. */
export type Truth = 'T' | 'F' | 'N' | 'U';

type PropType = 'string' | 'number' | 'strings';

const NON_ASCII = /[^\u0020-\u007e\t\n\r]/;
const LINE_BREAK = /[\n\r]/;

/**
 * Whether a pattern means the same in Java (Neo4j's `=~`, wrapped as `(?s).*(?:p).*`) and in JavaScript
 * (`new RegExp(p, 's')` searched), on ASCII values without line breaks: printable ASCII only; escapes of
 * punctuation, `\s \S \d \D \w \W \t \n \r`, and `\b \B` outside classes; classes without nesting, `&&`
 * or a leading `]`; groups `(` and `(?:` only; quantifiers `* + ? {n} {n,} {n,m}`, lazy or greedy, never
 * possessive. Anything else (lookarounds, backreferences, `\Q`, `\p`, inline flags) is not portable.
 */
export function portableRegex(pattern: string): boolean {
  if (pattern === '' || /[^\x20-\x7e]/.test(pattern)) return false;
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    const next = pattern[i + 1];
    if (c === '\\') {
      if (next === undefined) return false;
      const letter = /[A-Za-z0-9]/.test(next);
      if (letter && !/[sSdDwWtnr]/.test(next) && (inClass || !/[bB]/.test(next))) return false;
      i++;
      continue;
    }
    if (inClass) {
      if (c === '[' || (c === '&' && next === '&')) return false;
      if (c === ']') inClass = false;
      continue;
    }
    if (c === '[') {
      inClass = true;
      if (next === '^') i++;
      if (pattern[i + 1] === ']') return false;
      continue;
    }
    if (c === '(' && next === '?' && pattern[i + 2] !== ':') return false;
    if (c === '{') {
      const m = /^\{\d+(?:,\d*)?\}/.exec(pattern.slice(i));
      if (!m) return false;
      i += m[0].length - 1;
    }
    if ((c === '*' || c === '+' || c === '?' || pattern[i] === '}') && pattern[i + 1] === '+') return false;
  }
  if (inClass) return false;
  try {
    new RegExp(pattern, 's');
  } catch {
    return false;
  }
  return true;
}

const regexCache = new Map<string, RegExp | null>();

function compiledRegex(pattern: string, caseSensitive: boolean): RegExp | null {
  const id = `${caseSensitive ? 's' : 'si'}/${pattern}`;
  let re = regexCache.get(id);
  if (re === undefined) {
    re = portableRegex(pattern) ? new RegExp(pattern, caseSensitive ? 's' : 'si') : null;
    regexCache.set(id, re);
  }
  return re;
}

function and(values: readonly Truth[]): Truth {
  if (values.includes('F')) return 'F';
  if (values.includes('U')) return 'U';
  return values.includes('N') ? 'N' : 'T';
}

function or(values: readonly Truth[]): Truth {
  if (values.includes('T')) return 'T';
  if (values.includes('U')) return 'U';
  return values.includes('N') ? 'N' : 'F';
}

type StringLeaf = Extract<Filter, { op: 'eq' | 'contains' | 'startsWith' | 'endsWith' | 'regex' }>;

/** A filter's values as compile.ts sends them, computed once per filter (filters are immutable data). */
const leafValueCache = new WeakMap<StringLeaf, readonly string[]>();

function leafValues(f: Exclude<StringLeaf, { op: 'regex' }>): readonly string[] {
  let values = leafValueCache.get(f);
  if (!values) {
    const cs = f.caseSensitive === true;
    values = (f.values as readonly (string | number)[]).map((v) =>
      cs ? String(v) : String(v).toLowerCase(),
    );
    leafValueCache.set(f, values);
  }
  return values;
}

/** compile.ts `stringLeaf` on one stored value. */
function stringLeaf(value: unknown, f: StringLeaf): Truth {
  if (value === null || value === undefined) return 'N';
  if (typeof value !== 'string' || NON_ASCII.test(value)) return 'U';
  const cs = f.caseSensitive === true;
  if (f.op === 'regex') {
    const re = compiledRegex(f.pattern, cs);
    if (!re || LINE_BREAK.test(value)) return 'U';
    return re.test(value) ? 'T' : 'F';
  }
  const e = cs ? value : value.toLowerCase();
  const values = leafValues(f);
  const hit =
    f.op === 'eq'
      ? values.includes(e)
      : f.op === 'contains'
        ? values.some((v) => e.includes(v))
        : f.op === 'startsWith'
          ? values.some((v) => e.startsWith(v))
          : values.some((v) => e.endsWith(v));
  return hit ? 'T' : 'F';
}

/** compile.ts `numberLeaf` on one stored value. */
function numberLeaf(value: unknown, f: Filter): Truth {
  if (value === null || value === undefined) return 'N';
  if (typeof value !== 'number' || Number.isNaN(value)) return 'U';
  switch (f.op) {
    case 'eq':
      return f.values.some((v) => typeof v === 'number' && v === value) ? 'T' : 'F';
    case 'gt':
      return value > f.value ? 'T' : 'F';
    case 'gte':
      return value >= f.value ? 'T' : 'F';
    case 'lt':
      return value < f.value ? 'T' : 'F';
    case 'lte':
      return value <= f.value ? 'T' : 'F';
    default:
      return 'U';
  }
}

/** The value of compile.ts `predicate(expr, type, f)` when `expr` holds `value` (undefined: no property). */
export function evaluate(value: unknown, type: PropType, f: Filter): Truth {
  switch (f.op) {
    case 'not': {
      // NOT coalesce(p, false)
      const inner = evaluate(value, type, f.filter);
      return inner === 'U' ? 'U' : inner === 'T' ? 'F' : 'T';
    }
    case 'and':
      return and(f.filters.map((g) => evaluate(value, type, g)));
    case 'or':
      return or(f.filters.map((g) => evaluate(value, type, g)));
    case 'exists':
    case 'missing': {
      let present: boolean;
      if (type === 'strings') {
        if (value === null || value === undefined) present = false;
        else if (Array.isArray(value)) present = value.length > 0;
        else return 'U';
      } else present = value !== null && value !== undefined;
      return present === (f.op === 'exists') ? 'T' : 'F';
    }
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      return type === 'number' ? numberLeaf(value, f) : 'U';
    default:
      if (type === 'number') return numberLeaf(value, f);
      if (type === 'strings') {
        // any(x IN coalesce(expr, []) WHERE leaf(x))
        if (value === null || value === undefined) return 'F';
        if (!Array.isArray(value)) return 'U';
        return or(value.map((x) => stringLeaf(x, f)));
      }
      return stringLeaf(value, f);
  }
}

function propType(pf: PropFilter): PropType {
  return pf.spec === 'key' ? 'string' : pf.spec.type;
}

/** An edge a pattern needs at a node: of this type, leaving it (`out`) or entering it (`in`). */
export interface RequiredEdge {
  readonly edge: EdgeKind;
  readonly dir: 'out' | 'in';
}

/** What the prefetch learnt about one changed node. */
export interface NodeFacts {
  /** The properties anchor filters name, as stored (absent: no value). */
  readonly props: Readonly<Record<string, unknown>>;
  /** Edge counts by `degreeName`. */
  readonly degrees: Readonly<Record<string, number>>;
}

/** One anchor: the key can start a match only if all its own filters may hold and it has every edge. */
export interface AnchorTest {
  readonly kind: NodeKind;
  readonly filters: readonly PropFilter[];
  readonly edges: readonly RequiredEdge[];
}

/** The map key (and Cypher identifier) of a degree: `out_ACCESSED`. */
export function degreeName(e: RequiredEdge): string {
  return `${e.dir}_${e.edge}`;
}

/**
 * The anchors of a query, the filters on each anchor's own properties (ANDed in every branch), and the
 * edges its top-level hops need at the anchor (every hop of the pattern is required; sub-patterns, their
 * negations and collected context are not counted).
 */
export function anchorTests(spec: QuerySpec): readonly AnchorTest[] {
  // Asked for every analyzer on every update: worked out once per query (specs are immutable).
  let tests = anchorTestCache.get(spec);
  if (!tests) anchorTestCache.set(spec, (tests = computeAnchorTests(spec)));
  return tests;
}

const anchorTestCache = new WeakMap<QuerySpec, readonly AnchorTest[]>();

function computeAnchorTests(spec: QuerySpec): AnchorTest[] {
  const kinds: Record<string, NodeKind> = {};
  for (const [name, v] of Object.entries(spec.vars)) if (v.type === 'node') kinds[name] = v.kind;
  return anchorsOf(spec)
    .filter((v) => kinds[v] !== undefined)
    .map((v) => {
      const edges = new Map<string, RequiredEdge>();
      for (const h of spec.hops) {
        if (h.from === v) edges.set(degreeName({ edge: h.edge, dir: h.dir }), { edge: h.edge, dir: h.dir });
        if (h.to === v) {
          const e: RequiredEdge = { edge: h.edge, dir: h.dir === 'out' ? 'in' : 'out' };
          edges.set(degreeName(e), e);
        }
      }
      return {
        kind: kinds[v]!,
        filters: spec.filters.filter((f) => f.var === v),
        edges: [...edges.values()],
      };
    });
}

function unconditional(t: AnchorTest): boolean {
  return t.filters.length === 0 && t.edges.length === 0;
}

/** Whether a node with these facts may start a match at this anchor (undefined facts: not found). */
export function mayPass(t: AnchorTest, facts: NodeFacts | undefined): boolean {
  if (facts === undefined) return true;
  for (const e of t.edges) if (facts.degrees[degreeName(e)] === 0) return false;
  for (const pf of t.filters) {
    const v = evaluate(pf.prop === 'key' ? facts.props.key : facts.props[pf.prop], propType(pf), pf.filter);
    if (v === 'F' || v === 'N') return false;
  }
  return true;
}

/** What to read per node kind: the anchor-filtered properties and the required edges of these queries. */
export interface PrefetchPlan {
  readonly props: readonly string[];
  readonly edges: readonly RequiredEdge[];
}

export function prefetchPlan(specs: readonly QuerySpec[]): Map<NodeKind, PrefetchPlan> {
  const out = new Map<NodeKind, { props: Set<string>; edges: Map<string, RequiredEdge> }>();
  for (const spec of specs) {
    for (const t of anchorTests(spec)) {
      if (unconditional(t)) continue;
      let plan = out.get(t.kind);
      if (!plan) out.set(t.kind, (plan = { props: new Set(), edges: new Map() }));
      for (const f of t.filters) if (f.prop !== 'key') plan.props.add(f.prop);
      for (const e of t.edges) plan.edges.set(degreeName(e), e);
    }
  }
  return new Map(
    [...out].map(([k, p]) => [
      k,
      {
        props: [...p.props].sort(),
        edges: [...p.edges.values()].sort((a, b) => degreeName(a).localeCompare(degreeName(b))),
      },
    ]),
  );
}

/**
 * Reads the planned properties and edge counts of the nodes of one kind by key. Labels, property names and
 * relationship types come from the model (checked when each query was built); the keys are a parameter.
 * A count is a `COUNT { }` of one type and direction, which Neo4j answers from the node's degree store.
 */
export function prefetchCypher(kind: NodeKind, plan: PrefetchPlan): string {
  const projection = ['.key', ...plan.props.map((p) => `.${p}`)].join(', ');
  const degrees = plan.edges
    .map(
      (e) =>
        `${degreeName(e)}: COUNT { (n)${e.dir === 'out' ? '-' : '<-'}[:${e.edge}]${e.dir === 'out' ? '->' : '-'}() }`,
    )
    .join(', ');
  return [
    'UNWIND $keys AS anchor_key',
    `MATCH (n:${kind}) USING INDEX SEEK n:${kind}(key) WHERE n.key = anchor_key`,
    `RETURN n {${projection}} AS n, {${degrees}} AS d`,
  ].join('\n');
}

/**
 * The changed keys an analyzer's query needs: per kind, those that may start a match at one of its
 * anchors of that kind. `facts` holds what the prefetch read, by key (a key missing from it is kept).
 * Kinds left without keys are dropped, so an empty map means the analyzer has nothing to run on.
 */
export function keysFor(
  spec: QuerySpec,
  byKind: ReadonlyMap<NodeKind, readonly string[]>,
  facts: ReadonlyMap<string, NodeFacts>,
): Map<NodeKind, string[]> {
  const tests = anchorTests(spec);
  const out = new Map<NodeKind, string[]>();
  for (const [kind, keys] of byKind) {
    const mine = tests.filter((t) => t.kind === kind);
    if (mine.length === 0) continue;
    const kept = mine.some(unconditional)
      ? [...keys]
      : keys.filter((k) => mine.some((t) => mayPass(t, facts.get(k))));
    if (kept.length > 0) out.set(kind, kept);
  }
  return out;
}
