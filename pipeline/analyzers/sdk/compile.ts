/**
 * Query DSL -> parameterised Cypher. Labels and relationship types come only from the model (checked when
 * the query was built); variable names are checked identifiers; every value is a parameter. The result is
 * a UNION ALL of one branch per anchor variable, each starting from an index seek on the changed keys:
 *
 *   MATCH (child:Process) USING INDEX child:Process(key) WHERE child.key IN $keys_Process
 *   MATCH (parent:Process)-[:PARENT_OF]->(child)
 *   WHERE <filters>
 *   WITH parent, child LIMIT $limit
 *   RETURN parent {.*} AS parent, child {.*} AS child
 *   UNION ALL
 *   MATCH (parent:Process) USING INDEX parent:Process(key) WHERE parent.key IN $keys_Process
 *   ...
 *
 * so a match is found when any anchored node of it changed, and the cost follows the update.
 * Pure; snapshot-tested in compile.test.ts.
 */
import type { NodeKind } from '../../../domain/model';
import type { Filter } from './filters';
import {
  anchorsOf,
  type CollectDecl,
  type HopDecl,
  type PropFilter,
  type QuerySpec,
  type Query,
} from './query';

export interface CompiledQuery {
  readonly cypher: string;
  /** Filter values; the runner adds `keys_<Kind>` (changed keys) and `limit`. */
  readonly params: Readonly<Record<string, unknown>>;
  /** Parameters that must be sent as integers (LIMIT values). */
  readonly intParams: readonly string[];
  /** The anchor variables, their kinds and the parameter holding their keys. */
  readonly anchors: readonly { readonly var: string; readonly kind: NodeKind; readonly param: string }[];
  /** What a returned row holds. */
  readonly columns: readonly { readonly name: string; readonly type: 'node' | 'edge' | 'list' }[];
}

export class Params {
  readonly values: Record<string, unknown> = {};
  readonly ints: string[] = [];
  private n = 0;
  private iter = 0;

  add(value: unknown): string {
    const name = `p${this.n++}`;
    this.values[name] = value;
    return `$${name}`;
  }

  /** An integer parameter (Bolt sends JavaScript numbers as floats, which LIMIT refuses). */
  addInt(value: number): string {
    const ref = this.add(value);
    this.ints.push(ref.slice(1));
    return ref;
  }

  /** A fresh iteration variable for list predicates. */
  it(prefix: string): string {
    return `${prefix}_${this.iter++}`;
  }
}

/** Java regex (Neo4j `=~` matches the whole value): search semantics, dot matches newlines. */
export function cypherRegex(pattern: string, caseSensitive: boolean): string {
  return `(?s${caseSensitive ? '' : 'i'}).*(?:${pattern}).*`;
}

function stringLeaf(
  expr: string,
  f: Extract<Filter, { op: 'eq' | 'contains' | 'startsWith' | 'endsWith' | 'regex' }>,
  P: Params,
): string {
  const cs = f.caseSensitive === true;
  const e = cs ? expr : `toLower(${expr})`;
  if (f.op === 'regex') return `${expr} =~ ${P.add(cypherRegex(f.pattern, cs))}`;
  const values = (f.values as readonly (string | number)[]).map((v) =>
    cs ? String(v) : String(v).toLowerCase(),
  );
  if (f.op === 'eq') return values.length === 1 ? `${e} = ${P.add(values[0])}` : `${e} IN ${P.add(values)}`;
  const op = f.op === 'contains' ? 'CONTAINS' : f.op === 'startsWith' ? 'STARTS WITH' : 'ENDS WITH';
  if (values.length === 1) return `${e} ${op} ${P.add(values[0])}`;
  const v = P.it('v');
  return `any(${v} IN ${P.add(values)} WHERE ${e} ${op} ${v})`;
}

function numberLeaf(expr: string, f: Filter, P: Params): string {
  switch (f.op) {
    case 'eq':
      return f.values.length === 1 ? `${expr} = ${P.add(f.values[0])}` : `${expr} IN ${P.add([...f.values])}`;
    case 'gt':
      return `${expr} > ${P.add(f.value)}`;
    case 'gte':
      return `${expr} >= ${P.add(f.value)}`;
    case 'lt':
      return `${expr} < ${P.add(f.value)}`;
    case 'lte':
      return `${expr} <= ${P.add(f.value)}`;
    default:
      throw new Error(`filter ${f.op} does not apply to a number`);
  }
}

/** The predicate of filter `f` on property expression `expr` of type `type`. */
export function predicate(expr: string, type: 'string' | 'number' | 'strings', f: Filter, P: Params): string {
  switch (f.op) {
    case 'not':
      return `NOT coalesce(${predicate(expr, type, f.filter, P)}, false)`;
    case 'and':
    case 'or':
      return `(${f.filters.map((g) => predicate(expr, type, g, P)).join(f.op === 'and' ? ' AND ' : ' OR ')})`;
    case 'exists':
      return type === 'strings' ? `size(coalesce(${expr}, [])) > 0` : `${expr} IS NOT NULL`;
    case 'missing':
      return type === 'strings' ? `size(coalesce(${expr}, [])) = 0` : `${expr} IS NULL`;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      if (type !== 'number') throw new Error(`filter ${f.op} needs a number`);
      return numberLeaf(expr, f, P);
    default:
      if (type === 'number') return numberLeaf(expr, f, P);
      if (type === 'strings') {
        const x = P.it('x');
        return `any(${x} IN coalesce(${expr}, []) WHERE ${stringLeaf(x, f, P)})`;
      }
      return stringLeaf(expr, f, P);
  }
}

function filterPredicate(pf: PropFilter, P: Params): string {
  const type = pf.spec === 'key' ? 'string' : pf.spec.type;
  return predicate(`${pf.var}.${pf.prop}`, type, pf.filter, P);
}

/** Pattern segments of `hops`, labelling each node at its first appearance. */
function segments(
  hops: readonly HopDecl[],
  labelled: Set<string>,
  kinds: Record<string, NodeKind>,
): string[] {
  const node = (name: string): string => {
    if (labelled.has(name)) return `(${name})`;
    labelled.add(name);
    return `(${name}:${kinds[name]})`;
  };
  return hops.map((h) => {
    const rel = `${h.edgeVar ?? ''}:${h.edge}${h.maxDepth !== undefined ? `*1..${h.maxDepth}` : ''}`;
    const from = node(h.from);
    const to = node(h.to);
    return h.dir === 'out' ? `${from}-[${rel}]->${to}` : `${from}<-[${rel}]-${to}`;
  });
}

function kindsOf(spec: QuerySpec): Record<string, NodeKind> {
  const out: Record<string, NodeKind> = {};
  for (const [name, v] of [...Object.entries(spec.outer), ...Object.entries(spec.vars)])
    if (v.type === 'node') out[name] = v.kind;
  return out;
}

/** WHERE conditions of a (sub)pattern: filters, comparisons, distinctness, existence subqueries. */
function conditions(spec: QuerySpec, P: Params, indent: string): string[] {
  const out: string[] = spec.filters.map((f) => filterPredicate(f, P));
  for (const group of spec.anyOf)
    out.push(
      `(${group.map((alt) => `(${alt.map((f) => filterPredicate(f, P)).join(' AND ')})`).join(' OR ')})`,
    );
  const nodes = kindsOf(spec);
  for (const c of spec.compares) {
    // Keys are unique, so two nodes with equal keys are one node: compare the nodes themselves. `a.key =
    // b.key` lets Neo4j look `a` up in the key index, and a reader sees a committing transaction's new
    // nodes and relationships in the store before its index entries: a NOT EXISTS that looked the node up
    // there found nothing, and a match was flagged on a graph that never existed (process-tampering-access
    // flagged a parent's access to its own new child that way). Node identity is checked on the store.
    const sameNode = !('value' in c.b) && c.a.prop === 'key' && c.b.prop === 'key' && c.offset === 0;
    if (sameNode && (c.op === '=' || c.op === '<>') && nodes[c.a.var] && nodes[c.b.var]) {
      out.push(`${c.a.var} ${c.op} ${c.b.var}`);
      continue;
    }
    // A node's property compared with another variable's is read through toFloat(): Neo4j could otherwise
    // find the node through a property index (Process has one on host and create_time), which has the same blind spot.
    const prop = (r: { var: string; prop: string }) =>
      nodes[r.var] && c.op !== '=' && c.op !== '<>' ? `toFloat(${r.var}.${r.prop})` : `${r.var}.${r.prop}`;
    const left = prop(c.a);
    let right = 'value' in c.b ? P.add(c.b.value + c.offset) : prop(c.b);
    if (!('value' in c.b) && c.offset !== 0) right = `${right} + ${P.add(c.offset)}`;
    out.push(`${left} ${c.op} ${right}`);
  }
  for (const [a, b] of spec.distinct) out.push(`${a} <> ${b}`);
  for (const s of spec.subs) {
    const body = subBody(s.spec, P, `${indent}  `);
    out.push(`${s.mode === 'notExists' ? 'NOT ' : ''}EXISTS {\n${body}\n${indent}}`);
  }
  return out;
}

function whereClause(conds: string[], indent: string): string {
  return conds.length === 0 ? '' : `\n${indent}WHERE ${conds.join(`\n${indent}  AND `)}`;
}

function subBody(spec: QuerySpec, P: Params, indent: string): string {
  const labelled = new Set(Object.keys(spec.outer));
  const segs = segments(spec.hops, labelled, kindsOf(spec));
  return `${indent}MATCH ${segs.join(', ')}${whereClause(conditions(spec, P, indent), indent)}`;
}

function collectExpr(c: CollectDecl, P: Params): string {
  const body = subBody(c.spec, P, '    ');
  return `COLLECT {\n${body}\n    RETURN DISTINCT ${c.ret} {.*} AS ${c.ret} LIMIT ${P.addInt(c.limit)}\n  } AS ${c.name}`;
}

/** The variable each branch unwinds its anchor keys into. */
const ANCHOR_KEY = 'anchor_key';

/** Compiles a query; throws on a query that cannot be anchored. */
export function compileQuery(query: Query<never, never, never> | { spec: QuerySpec }): CompiledQuery {
  const spec = query.spec;
  if (Object.keys(spec.outer).length > 0)
    throw new Error('analyzer query: a sub-pattern cannot be compiled on its own');
  const kinds = kindsOf(spec);
  if (ANCHOR_KEY in spec.vars) throw new Error(`analyzer query: ${ANCHOR_KEY} is a reserved name`);
  const anchors = anchorsOf(spec).map((v) => {
    const kind = kinds[v];
    if (!kind) throw new Error(`analyzer query: anchor ${v} is not a node`);
    return { var: v, kind, param: `keys_${kind}` };
  });
  const visible = spec.order.filter((n) => spec.vars[n] !== undefined);
  const columns = [
    ...visible.map((n) => ({
      name: n,
      type: spec.vars[n]!.type === 'node' ? ('node' as const) : ('edge' as const),
    })),
    ...spec.collects.map((c) => ({ name: c.name, type: 'list' as const })),
  ];
  // Conditions and context are the same in every branch; only where the match starts differs.
  const P = new Params();
  const conds = conditions(spec, P, '  ');
  const ret = [
    ...visible.map((n) => `${n} {.*} AS ${n}`),
    ...spec.collects.map((c) => collectExpr(c, P)),
  ].join(', ');
  const branches = anchors.map((a) => {
    const labelled = new Set([a.var]);
    // The anchor is one index seek per changed key, whatever the statistics say, and the rest of the
    // pattern is planned after it (WITH). Neo4j keeps a plan for minutes (min_replan_interval) while the
    // graph grows, and every analyzer's first plan is made on a nearly empty graph: planned there, a label
    // scan, or (with a plain USING INDEX hint, which a scan satisfies) a scan of the whole key index joined
    // on the keys, looked cheap, and then read every process of the graph for every batch (the registry
    // analyzers took about a second per batch in the scale bench). USING INDEX SEEK allows only a seek.
    const lines = [
      `UNWIND $${a.param} AS ${ANCHOR_KEY}`,
      `MATCH (${a.var}:${a.kind}) USING INDEX SEEK ${a.var}:${a.kind}(key) WHERE ${a.var}.key = ${ANCHOR_KEY}`,
      `WITH ${a.var}`,
    ];
    const segs = segments(spec.hops, labelled, kinds);
    if (segs.length > 0) lines.push(`MATCH ${segs.join(', ')}${whereClause(conds, '')}`);
    else if (conds.length > 0) lines.push(`WHERE ${conds.join('\n  AND ')}`);
    lines.push(`WITH ${visible.join(', ')} LIMIT $limit`);
    lines.push(`RETURN ${ret}`);
    return lines.join('\n');
  });
  // UNION ALL: the runner drops repeated matches itself, and needs the raw row count to tell whether a
  // branch reached its limit (UNION's de-duplication could hide that).
  return { cypher: branches.join('\nUNION ALL\n'), params: P.values, intParams: P.ints, anchors, columns };
}
