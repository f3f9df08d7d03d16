/**
 * The analyzer query DSL: a typed pattern over the graph model of domain/model.ts. Node kinds, edge kinds
 * and property names are checked by the compiler (TypeScript) and again when the query is built (for
 * modules that bypass the types), so a query can only name labels, relationship types and properties
 * the model declares. Values never reach query text: ./compile.ts turns every one into a parameter.
 *
 *   match('Process', 'child', { image: imageIs('cmd.exe') })
 *     .parent('child', 'parent', { image: imageIs('services.exe', 'wmiprvse.exe') })
 *     .connection('parent', 'ep', {}, { edgeAs: 'conn', edgeWhere: { direction: 'inbound' } })
 *
 * Every builder method returns a new query (queries are immutable values, safe to share).
 */
import {
  EdgeKinds,
  NodeKinds,
  edgePropSpec,
  propSpec,
  type EdgeKind,
  type NodeKind,
  type PropSpec,
  type PropValue,
} from '../../../domain/model';
import { toFilter, type Filter, type FilterInput } from './filters';

// ------------------------------------------------------------------------------------------------ types

export type PropName<K extends NodeKind> = Extract<keyof (typeof NodeKinds)[K]['props'], string>;
export type EdgePropName<E extends EdgeKind> = Extract<keyof (typeof EdgeKinds)[E]['props'], string>;
export type EdgeFrom<E extends EdgeKind> = (typeof EdgeKinds)[E]['from'];
export type EdgeTo<E extends EdgeKind> = (typeof EdgeKinds)[E]['to'];
/** Edge kinds that leave / enter a node of kind K. */
export type EdgesOutOf<K extends NodeKind> = { [E in EdgeKind]: EdgeFrom<E> extends K ? E : never }[EdgeKind];
export type EdgesInto<K extends NodeKind> = { [E in EdgeKind]: EdgeTo<E> extends K ? E : never }[EdgeKind];

/** Filters on a node's properties (and its `key`). */
export type Where<K extends NodeKind> = { readonly [P in PropName<K> | 'key']?: FilterInput };
/** Filters on an edge's properties. */
export type EdgeWhere<E extends EdgeKind> = { readonly [P in EdgePropName<E>]?: FilterInput };

/** No variables (the identity of the variable intersections below). */
export type NoVars = Record<never, never>;
export type NodeVars = Record<string, NodeKind>;
export type EdgeVars = Record<string, EdgeKind>;

/** A matched node: its key and the properties it has (merged values as stored). */
export type NodeRow<K extends NodeKind> = { readonly key: string } & {
  readonly [P in PropName<K>]?: PropValue;
};
/** A matched edge: the properties it has. */
export type EdgeRow<E extends EdgeKind> = { readonly [P in EdgePropName<E>]?: PropValue };

/** One match of a query: a row per bound node and edge, a list per collected context. */
export type Match<V extends NodeVars, E extends EdgeVars = NoVars, O extends NodeVars = NoVars> = {
  readonly [N in keyof V]: NodeRow<V[N]>;
} & { readonly [N in keyof E]: EdgeRow<E[N]> } & { readonly [N in keyof O]: readonly NodeRow<O[N]>[] };

/** A property of a bound node or edge, for comparisons between variables. */
export type Ref<V extends NodeVars, E extends EdgeVars> =
  | { [N in keyof V & string]: readonly [N, PropName<V[N]> | 'key'] }[keyof V & string]
  | { [N in keyof E & string]: readonly [N, EdgePropName<E[N]>] }[keyof E & string];

export type CompareOp = '=' | '<>' | '<' | '<=' | '>' | '>=';

export interface HopOptions<K extends NodeKind, Ed extends EdgeKind> {
  /** Filters on the node the hop reaches. */
  readonly where?: Where<K>;
  /** Bind the edge under this name (its properties appear in the match and can be compared). */
  readonly edgeAs?: string;
  /** Filters on the edge. */
  readonly edgeWhere?: EdgeWhere<Ed>;
}

// ------------------------------------------------------------------------------------------- plain spec

export interface PropFilter {
  readonly var: string;
  readonly prop: string;
  readonly spec: PropSpec | 'key';
  readonly filter: Filter;
}

export interface HopDecl {
  readonly from: string;
  readonly to: string;
  readonly toKind: NodeKind;
  readonly edge: EdgeKind;
  /** 'out': (from)-[edge]->(to); 'in': (from)<-[edge]-(to). */
  readonly dir: 'out' | 'in';
  /** Bound edge name (user's, or generated when the edge has filters). */
  readonly edgeVar?: string;
  /** True when the user named the edge (it is returned with the match). */
  readonly edgeVisible: boolean;
  /** Variable-length hop: 1..max edges (no edge variable). */
  readonly maxDepth?: number;
}

export interface CompareDecl {
  readonly a: { readonly var: string; readonly prop: string };
  readonly op: CompareOp;
  readonly b: { readonly var: string; readonly prop: string } | { readonly value: number };
  /** Added to b (ms for times). */
  readonly offset: number;
}

export interface SubDecl {
  readonly mode: 'exists' | 'notExists';
  readonly spec: QuerySpec;
}

export interface CollectDecl {
  readonly name: string;
  readonly kind: NodeKind;
  readonly ret: string;
  readonly limit: number;
  readonly spec: QuerySpec;
}

export type VarInfo =
  { readonly type: 'node'; readonly kind: NodeKind } | { readonly type: 'edge'; readonly kind: EdgeKind };

export interface QuerySpec {
  /** Variables bound outside this (sub)pattern: a subquery's view of its parent. */
  readonly outer: Readonly<Record<string, VarInfo>>;
  /** Variables this pattern binds, in order; the first node of a top-level query is its root. */
  readonly vars: Readonly<Record<string, VarInfo>>;
  readonly order: readonly string[];
  readonly hops: readonly HopDecl[];
  readonly filters: readonly PropFilter[];
  /** Each entry: at least one of its alternatives holds; an alternative holds when all its filters do. */
  readonly anyOf: readonly (readonly (readonly PropFilter[])[])[];
  readonly compares: readonly CompareDecl[];
  readonly distinct: readonly (readonly [string, string])[];
  readonly subs: readonly SubDecl[];
  readonly collects: readonly CollectDecl[];
  /** Variables the query is anchored on (top level only); empty = the default. */
  readonly anchors: readonly string[];
  readonly genCounter: number;
}

const NAME = /^[a-z][A-Za-z0-9]{0,39}$/;
const RESERVED = new Set([
  'not',
  'and',
  'or',
  'xor',
  'in',
  'is',
  'null',
  'true',
  'false',
  'match',
  'where',
  'with',
  'return',
  'as',
  'limit',
  'case',
  'when',
  'then',
  'else',
  'end',
  'exists',
  'collect',
  'count',
  'call',
  'union',
  'all',
  'any',
  'none',
  'single',
  'keys',
  'id',
]);
const MAX_COLLECT = 50;
const MAX_DEPTH = 10;

function fail(msg: string): never {
  throw new Error(`analyzer query: ${msg}`);
}

function checkName(spec: QuerySpec, name: string): void {
  if (typeof name !== 'string' || !NAME.test(name))
    fail(`variable name ${JSON.stringify(name)} must match ${NAME}`);
  if (RESERVED.has(name.toLowerCase())) fail(`variable name ${JSON.stringify(name)} is a reserved word`);
  if (name in spec.vars || name in spec.outer) fail(`variable ${JSON.stringify(name)} is already bound`);
}

function varInfo(spec: QuerySpec, name: string): VarInfo {
  const v = spec.vars[name] ?? spec.outer[name];
  if (!v) fail(`unknown variable ${JSON.stringify(name)}`);
  return v;
}

function nodeKindOf(spec: QuerySpec, name: string): NodeKind {
  const v = varInfo(spec, name);
  if (v.type !== 'node') fail(`${name} is an edge, not a node`);
  return v.kind;
}

function nodeFilters(kind: NodeKind, name: string, where: object | undefined): PropFilter[] {
  if (where === undefined) return [];
  if (typeof where !== 'object' || where === null) fail(`filters of ${name} must be an object`);
  const out: PropFilter[] = [];
  for (const [prop, input] of Object.entries(where)) {
    if (input === undefined) continue;
    const spec = prop === 'key' ? 'key' : propSpec(kind, prop);
    if (!spec) fail(`${kind} has no property ${JSON.stringify(prop)} (filter on ${name})`);
    const filter = toFilter(input as FilterInput);
    checkFilter(filter, spec, `${name}.${prop}`);
    out.push({ var: name, prop, spec, filter });
  }
  return out;
}

function edgeFilters(kind: EdgeKind, name: string, where: object | undefined): PropFilter[] {
  if (where === undefined) return [];
  if (typeof where !== 'object' || where === null) fail(`edge filters of ${name} must be an object`);
  const out: PropFilter[] = [];
  for (const [prop, input] of Object.entries(where)) {
    if (input === undefined) continue;
    const spec = edgePropSpec(kind, prop);
    if (!spec) fail(`${kind} has no property ${JSON.stringify(prop)} (filter on ${name})`);
    const filter = toFilter(input as FilterInput);
    checkFilter(filter, spec, `${name}.${prop}`);
    out.push({ var: name, prop, spec, filter });
  }
  return out;
}

/** Filters must suit the property's type: string operators on strings, comparisons on numbers. */
export function checkFilter(f: Filter, spec: PropSpec | 'key', where: string): void {
  const type = spec === 'key' ? 'string' : spec.type;
  switch (f.op) {
    case 'eq':
      for (const v of f.values) {
        if ((type === 'number') !== (typeof v === 'number'))
          fail(`${where}: eq(${JSON.stringify(v)}) does not suit a ${type} property`);
      }
      return;
    case 'contains':
    case 'startsWith':
    case 'endsWith':
    case 'regex':
      if (type === 'number') fail(`${where}: ${f.op}() needs a string property`);
      return;
    case 'gt':
    case 'gte':
    case 'lt':
    case 'lte':
      if (type !== 'number') fail(`${where}: ${f.op}() needs a number property`);
      return;
    case 'exists':
    case 'missing':
      return;
    case 'not':
      checkFilter(f.filter, spec, where);
      return;
    case 'and':
    case 'or':
      for (const g of f.filters) checkFilter(g, spec, where);
      return;
    default:
      fail(`${where}: unknown filter ${JSON.stringify(f)}`);
  }
}

function emptySpec(outer: Record<string, VarInfo>): QuerySpec {
  return {
    outer,
    vars: {},
    order: [],
    hops: [],
    filters: [],
    anyOf: [],
    compares: [],
    distinct: [],
    subs: [],
    collects: [],
    anchors: [],
    genCounter: 0,
  };
}

// ------------------------------------------------------------------------------------------------ query

/**
 * A pattern over the graph. V: bound node variables -> kind; E: bound edge variables -> kind;
 * O: collected context lists -> kind.
 */
export class Query<V extends NodeVars = NoVars, E extends EdgeVars = NoVars, O extends NodeVars = NoVars> {
  /** Phantom field carrying the type parameters. */
  declare readonly __types?: { v: V; e: E; o: O };

  constructor(readonly spec: QuerySpec) {}

  private next(patch: Partial<QuerySpec>): QuerySpec {
    return { ...this.spec, ...patch };
  }

  /** Adds filters on a bound node. */
  where<N extends keyof V & string>(name: N, where: Where<V[N]>): Query<V, E, O> {
    const kind = nodeKindOf(this.spec, name);
    return new Query(this.next({ filters: [...this.spec.filters, ...nodeFilters(kind, name, where)] }));
  }

  /** Adds filters on a bound edge. */
  whereEdge<N extends keyof E & string>(name: N, where: EdgeWhere<E[N]>): Query<V, E, O> {
    const v = varInfo(this.spec, name);
    if (v.type !== 'edge') fail(`${name} is a node, not an edge`);
    return new Query(this.next({ filters: [...this.spec.filters, ...edgeFilters(v.kind, name, where)] }));
  }

  /**
   * At least one of `alternatives` holds. Each alternative names filters on bound nodes and edges, which
   * must all hold; one alternative may mix variables (`{ src: {...} }` or `{ access: {...} }`), which
   * `where` and `whereEdge` cannot. A filter on a missing value does not hold, as everywhere.
   */
  whereAny(
    ...alternatives: Array<
      { [N in keyof V & string]?: Where<V[N]> } & { [N in keyof E & string]?: EdgeWhere<E[N]> }
    >
  ): Query<V, E, O> {
    if (alternatives.length < 2) fail('whereAny() needs at least two alternatives');
    const group = alternatives.map((alt) => {
      if (typeof alt !== 'object' || alt === null) fail('whereAny(): each alternative must be an object');
      const filters: PropFilter[] = [];
      for (const [name, where] of Object.entries(alt)) {
        if (where === undefined) continue;
        const v = varInfo(this.spec, name);
        filters.push(
          ...(v.type === 'node' ? nodeFilters(v.kind, name, where) : edgeFilters(v.kind, name, where)),
        );
      }
      if (filters.length === 0) fail('whereAny(): an alternative has no filter (it would always hold)');
      return filters;
    });
    return new Query(this.next({ anyOf: [...this.spec.anyOf, group] }));
  }

  /** Generic hop along an edge leaving `from`. */
  out<
    F extends keyof V & string,
    Ed extends EdgesOutOf<V[F]>,
    N extends string,
    const EO extends HopOptions<EdgeTo<Ed>, Ed> = NoVars,
  >(from: F, edge: Ed, name: N, opts?: EO): Query<V & Record<N, EdgeTo<Ed>>, E & Bound<EO, Ed>, O> {
    return new Query(this.hop(from, edge, 'out', name, opts ?? {}));
  }

  /** Generic hop along an edge entering `from`, to the node it comes from. */
  in<
    F extends keyof V & string,
    Ed extends EdgesInto<V[F]>,
    N extends string,
    const EO extends HopOptions<EdgeFrom<Ed>, Ed> = NoVars,
  >(from: F, edge: Ed, name: N, opts?: EO): Query<V & Record<N, EdgeFrom<Ed>>, E & Bound<EO, Ed>, O> {
    return new Query(this.hop(from, edge, 'in', name, opts ?? {}));
  }

  private hop(
    from: string,
    edge: string,
    dir: 'out' | 'in',
    name: string,
    opts: { where?: object; edgeAs?: string; edgeWhere?: object },
    maxDepth?: number,
  ): QuerySpec {
    const spec = this.spec;
    const fromKind = nodeKindOf(spec, from);
    const def = (EdgeKinds as Record<string, { from: NodeKind; to: NodeKind }>)[edge];
    if (!def || !Object.prototype.hasOwnProperty.call(EdgeKinds, edge))
      fail(`unknown edge kind ${JSON.stringify(edge)}`);
    const [expect, reach] = dir === 'out' ? [def.from, def.to] : [def.to, def.from];
    if (fromKind !== expect)
      fail(`${edge} ${dir === 'out' ? 'leaves' : 'enters'} ${expect} nodes, but ${from} is a ${fromKind}`);
    checkName(spec, name);
    const ekind = edge as EdgeKind;
    let counter = spec.genCounter;
    let edgeVar: string | undefined;
    const vars: Record<string, VarInfo> = { ...spec.vars, [name]: { type: 'node', kind: reach } };
    let filters = [...spec.filters, ...nodeFilters(reach, name, opts.where)];
    if (opts.edgeAs !== undefined) {
      if (maxDepth !== undefined) fail('a variable-length hop cannot bind its edges');
      checkName({ ...spec, vars }, opts.edgeAs);
      edgeVar = opts.edgeAs;
      vars[edgeVar] = { type: 'edge', kind: ekind };
    }
    if (opts.edgeWhere !== undefined && Object.keys(opts.edgeWhere).length > 0) {
      if (maxDepth !== undefined) fail('a variable-length hop cannot filter its edges');
      if (edgeVar === undefined) edgeVar = `e_${++counter}`;
      filters = [...filters, ...edgeFilters(ekind, edgeVar, opts.edgeWhere)];
    }
    const hop: HopDecl = {
      from,
      to: name,
      toKind: reach,
      edge: ekind,
      dir,
      edgeVisible: opts.edgeAs !== undefined,
      ...(edgeVar !== undefined ? { edgeVar } : {}),
      ...(maxDepth !== undefined ? { maxDepth } : {}),
    };
    const order = [...spec.order, name, ...(opts.edgeAs !== undefined ? [opts.edgeAs] : [])];
    return { ...spec, vars, order, filters, hops: [...spec.hops, hop], genCounter: counter };
  }

  // -------------------------------------------------------------------------------- process hops

  /** The process that started `from`. */
  parent<F extends ProcVar<V>, N extends string>(from: F, name: N, where?: Where<'Process'>) {
    return new Query<V & Record<N, 'Process'>, E, O>(this.hop(from, 'PARENT_OF', 'in', name, { where }));
  }

  /** A process `from` started. */
  child<F extends ProcVar<V>, N extends string>(from: F, name: N, where?: Where<'Process'>) {
    return new Query<V & Record<N, 'Process'>, E, O>(this.hop(from, 'PARENT_OF', 'out', name, { where }));
  }

  /** Any ancestor of `from`, 1 to `maxDepth` generations up. */
  ancestor<F extends ProcVar<V>, N extends string>(
    from: F,
    name: N,
    maxDepth: number,
    where?: Where<'Process'>,
  ) {
    return new Query<V & Record<N, 'Process'>, E, O>(
      this.hop(from, 'PARENT_OF', 'in', name, { where }, depth(maxDepth)),
    );
  }

  /** Any descendant of `from`, 1 to `maxDepth` generations down. */
  descendant<F extends ProcVar<V>, N extends string>(
    from: F,
    name: N,
    maxDepth: number,
    where?: Where<'Process'>,
  ) {
    return new Query<V & Record<N, 'Process'>, E, O>(
      this.hop(from, 'PARENT_OF', 'out', name, { where }, depth(maxDepth)),
    );
  }

  /** The file `from` was started from (its image). */
  executed<F extends ProcVar<V>, N extends string, const EO extends EdgeOpts<'EXECUTED'> = NoVars>(
    from: F,
    name: N,
    where?: Where<'File'>,
    opts?: EO,
  ) {
    return new Query<V & Record<N, 'File'>, E & Bound<EO, 'EXECUTED'>, O>(
      this.hop(from, 'EXECUTED', 'out', name, { where, ...opts }),
    );
  }

  /** A file `from` created (Sysmon 11, 15). */
  created<F extends ProcVar<V>, N extends string, const EO extends EdgeOpts<'CREATED'> = NoVars>(
    from: F,
    name: N,
    where?: Where<'File'>,
    opts?: EO,
  ) {
    return new Query<V & Record<N, 'File'>, E & Bound<EO, 'CREATED'>, O>(
      this.hop(from, 'CREATED', 'out', name, { where, ...opts }),
    );
  }

  /** A file `from` deleted (Sysmon 23, 26). */
  deleted<F extends ProcVar<V>, N extends string, const EO extends EdgeOpts<'DELETED'> = NoVars>(
    from: F,
    name: N,
    where?: Where<'File'>,
    opts?: EO,
  ) {
    return new Query<V & Record<N, 'File'>, E & Bound<EO, 'DELETED'>, O>(
      this.hop(from, 'DELETED', 'out', name, { where, ...opts }),
    );
  }

  /** An image (DLL) `from` loaded. */
  loaded<F extends ProcVar<V>, N extends string, const EO extends EdgeOpts<'LOADED'> = NoVars>(
    from: F,
    name: N,
    where?: Where<'File'>,
    opts?: EO,
  ) {
    return new Query<V & Record<N, 'File'>, E & Bound<EO, 'LOADED'>, O>(
      this.hop(from, 'LOADED', 'out', name, { where, ...opts }),
    );
  }

  /** A network endpoint `from` connected to, or accepted a connection on (the edge's `direction`). */
  connection<F extends ProcVar<V>, N extends string, const EO extends EdgeOpts<'CONNECTED_TO'> = NoVars>(
    from: F,
    name: N,
    where?: Where<'NetworkEndpoint'>,
    opts?: EO,
  ) {
    return new Query<V & Record<N, 'NetworkEndpoint'>, E & Bound<EO, 'CONNECTED_TO'>, O>(
      this.hop(from, 'CONNECTED_TO', 'out', name, { where, ...opts }),
    );
  }

  /** The IP address of endpoint `from`. */
  endpointIp<F extends VarOfKind<V, 'NetworkEndpoint'>, N extends string>(
    from: F,
    name: N,
    where?: Where<'IpAddress'>,
  ) {
    return new Query<V & Record<N, 'IpAddress'>, E, O>(this.hop(from, 'ENDPOINT_OF', 'out', name, { where }));
  }

  /** A process with a connection on endpoint `from` (the other side of a connection, when both sides are seen). */
  connectedBy<
    F extends VarOfKind<V, 'NetworkEndpoint'>,
    N extends string,
    const EO extends EdgeOpts<'CONNECTED_TO'> = NoVars,
  >(from: F, name: N, where?: Where<'Process'>, opts?: EO) {
    return new Query<V & Record<N, 'Process'>, E & Bound<EO, 'CONNECTED_TO'>, O>(
      this.hop(from, 'CONNECTED_TO', 'in', name, { where, ...opts }),
    );
  }

  /** A process `from` opened a handle to (Sysmon 10); the edge carries `granted_access` and `call_trace`. */
  accessed<F extends ProcVar<V>, N extends string, const EO extends EdgeOpts<'ACCESSED'> = NoVars>(
    from: F,
    name: N,
    where?: Where<'Process'>,
    opts?: EO,
  ) {
    return new Query<V & Record<N, 'Process'>, E & Bound<EO, 'ACCESSED'>, O>(
      this.hop(from, 'ACCESSED', 'out', name, { where, ...opts }),
    );
  }

  /** A process that opened a handle to `from`. */
  accessedBy<F extends ProcVar<V>, N extends string, const EO extends EdgeOpts<'ACCESSED'> = NoVars>(
    from: F,
    name: N,
    where?: Where<'Process'>,
    opts?: EO,
  ) {
    return new Query<V & Record<N, 'Process'>, E & Bound<EO, 'ACCESSED'>, O>(
      this.hop(from, 'ACCESSED', 'in', name, { where, ...opts }),
    );
  }

  /** A process `from` started a remote thread in (Sysmon 8). */
  injectedInto<F extends ProcVar<V>, N extends string, const EO extends EdgeOpts<'INJECTED_INTO'> = NoVars>(
    from: F,
    name: N,
    where?: Where<'Process'>,
    opts?: EO,
  ) {
    return new Query<V & Record<N, 'Process'>, E & Bound<EO, 'INJECTED_INTO'>, O>(
      this.hop(from, 'INJECTED_INTO', 'out', name, { where, ...opts }),
    );
  }

  /** A process that started a remote thread in `from`. */
  injectedBy<F extends ProcVar<V>, N extends string, const EO extends EdgeOpts<'INJECTED_INTO'> = NoVars>(
    from: F,
    name: N,
    where?: Where<'Process'>,
    opts?: EO,
  ) {
    return new Query<V & Record<N, 'Process'>, E & Bound<EO, 'INJECTED_INTO'>, O>(
      this.hop(from, 'INJECTED_INTO', 'in', name, { where, ...opts }),
    );
  }

  /** The asset (host) `from` runs on. */
  asset<F extends ProcVar<V>, N extends string>(from: F, name: N, where?: Where<'Asset'>) {
    return new Query<V & Record<N, 'Asset'>, E, O>(this.hop(from, 'RUNS_ON', 'out', name, { where }));
  }

  /** A process running on asset `from`. */
  processOn<F extends VarOfKind<V, 'Asset'>, N extends string>(from: F, name: N, where?: Where<'Process'>) {
    return new Query<V & Record<N, 'Process'>, E, O>(this.hop(from, 'RUNS_ON', 'in', name, { where }));
  }

  /** A domain name `from` resolved (Sysmon 22). */
  resolved<F extends ProcVar<V>, N extends string>(from: F, name: N, where?: Where<'DomainName'>) {
    return new Query<V & Record<N, 'DomainName'>, E, O>(this.hop(from, 'RESOLVED', 'out', name, { where }));
  }

  /** A registry key `from` set a value under; the edge's `details` lists `<value>=<data>`. */
  setValue<F extends ProcVar<V>, N extends string, const EO extends EdgeOpts<'SET_VALUE'> = NoVars>(
    from: F,
    name: N,
    where?: Where<'RegistryKey'>,
    opts?: EO,
  ) {
    return new Query<V & Record<N, 'RegistryKey'>, E & Bound<EO, 'SET_VALUE'>, O>(
      this.hop(from, 'SET_VALUE', 'out', name, { where, ...opts }),
    );
  }

  /** A registry key `from` created. */
  createdKey<F extends ProcVar<V>, N extends string>(from: F, name: N, where?: Where<'RegistryKey'>) {
    return new Query<V & Record<N, 'RegistryKey'>, E, O>(
      this.hop(from, 'CREATED_KEY', 'out', name, { where }),
    );
  }

  /** A named pipe `from` created. */
  createdPipe<F extends ProcVar<V>, N extends string>(from: F, name: N, where?: Where<'Pipe'>) {
    return new Query<V & Record<N, 'Pipe'>, E, O>(this.hop(from, 'CREATED_PIPE', 'out', name, { where }));
  }

  /** A named pipe `from` connected to. */
  connectedPipe<F extends ProcVar<V>, N extends string>(from: F, name: N, where?: Where<'Pipe'>) {
    return new Query<V & Record<N, 'Pipe'>, E, O>(this.hop(from, 'CONNECTED_PIPE', 'out', name, { where }));
  }

  // -------------------------------------------------------------------------------- reverse hops

  /** A process that created file `from`. */
  createdBy<F extends VarOfKind<V, 'File'>, N extends string, const EO extends EdgeOpts<'CREATED'> = NoVars>(
    from: F,
    name: N,
    where?: Where<'Process'>,
    opts?: EO,
  ) {
    return new Query<V & Record<N, 'Process'>, E & Bound<EO, 'CREATED'>, O>(
      this.hop(from, 'CREATED', 'in', name, { where, ...opts }),
    );
  }

  /** A process started from file `from`. */
  executedBy<
    F extends VarOfKind<V, 'File'>,
    N extends string,
    const EO extends EdgeOpts<'EXECUTED'> = NoVars,
  >(from: F, name: N, where?: Where<'Process'>, opts?: EO) {
    return new Query<V & Record<N, 'Process'>, E & Bound<EO, 'EXECUTED'>, O>(
      this.hop(from, 'EXECUTED', 'in', name, { where, ...opts }),
    );
  }

  /** A process that deleted file `from`. */
  deletedBy<F extends VarOfKind<V, 'File'>, N extends string, const EO extends EdgeOpts<'DELETED'> = NoVars>(
    from: F,
    name: N,
    where?: Where<'Process'>,
    opts?: EO,
  ) {
    return new Query<V & Record<N, 'Process'>, E & Bound<EO, 'DELETED'>, O>(
      this.hop(from, 'DELETED', 'in', name, { where, ...opts }),
    );
  }

  /** A process that set a value under registry key `from`. */
  setBy<
    F extends VarOfKind<V, 'RegistryKey'>,
    N extends string,
    const EO extends EdgeOpts<'SET_VALUE'> = NoVars,
  >(from: F, name: N, where?: Where<'Process'>, opts?: EO) {
    return new Query<V & Record<N, 'Process'>, E & Bound<EO, 'SET_VALUE'>, O>(
      this.hop(from, 'SET_VALUE', 'in', name, { where, ...opts }),
    );
  }

  // -------------------------------------------------------------------------------- constraints

  /** `a <op> b + offset`, where b is another variable's property or a number. Missing values never compare. */
  compare(a: Ref<V, E>, op: CompareOp, b: Ref<V, E> | number, offset = 0): Query<V, E, O> {
    const ref = (r: readonly [string, string]) => {
      const info = varInfo(this.spec, r[0]);
      const spec = info.type === 'node' ? propSpec(info.kind, r[1]) : edgePropSpec(info.kind, r[1]);
      if (!spec && !(info.type === 'node' && r[1] === 'key'))
        fail(`${r[0]} has no property ${JSON.stringify(r[1])}`);
      if (op !== '=' && op !== '<>' && spec?.type !== 'number')
        fail(`${r[0]}.${r[1]}: ${op} needs a number property`);
      return { var: r[0], prop: r[1] };
    };
    if (!['=', '<>', '<', '<=', '>', '>='].includes(op)) fail(`unknown comparison ${JSON.stringify(op)}`);
    if (!Number.isFinite(offset)) fail('comparison offset must be a finite number');
    const left = ref(a as readonly [string, string]);
    let right: CompareDecl['b'];
    if (typeof b === 'number') {
      if (!Number.isFinite(b)) fail('comparison value must be a finite number');
      right = { value: b };
    } else right = ref(b as readonly [string, string]);
    return new Query(this.next({ compares: [...this.spec.compares, { a: left, op, b: right, offset }] }));
  }

  /** Two node variables are different nodes (a pattern may otherwise bind both to the same node). */
  distinct(a: keyof V & string, b: keyof V & string): Query<V, E, O> {
    nodeKindOf(this.spec, a);
    nodeKindOf(this.spec, b);
    return new Query(this.next({ distinct: [...this.spec.distinct, [a, b] as const] }));
  }

  /** The sub-pattern exists (its variables are not bound in the match). */
  exists(build: (q: Query<V, E, NoVars>) => SubQuery): Query<V, E, O> {
    return new Query(this.next({ subs: [...this.spec.subs, { mode: 'exists', spec: this.sub(build) }] }));
  }

  /** The sub-pattern does not exist. */
  notExists(build: (q: Query<V, E, NoVars>) => SubQuery): Query<V, E, O> {
    return new Query(this.next({ subs: [...this.spec.subs, { mode: 'notExists', spec: this.sub(build) }] }));
  }

  /**
   * Context: the distinct nodes bound to `ret` by the sub-pattern, as a list (at most `limit`), without
   * multiplying matches. An empty list when there are none.
   */
  collect<N extends string, V2 extends NodeVars, R extends keyof V2 & string>(
    name: N,
    build: (q: Query<V, E, NoVars>) => SubQuery<V2>,
    ret: R,
    limit = 20,
  ): Query<V, E, O & Record<N, V2[R]>> {
    checkName(this.spec, name);
    if (this.spec.collects.some((c) => c.name === name))
      fail(`variable ${JSON.stringify(name)} is already bound`);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_COLLECT)
      fail(`collect limit must be 1..${MAX_COLLECT}`);
    const spec = this.sub(build);
    const info = spec.vars[ret];
    if (!info || info.type !== 'node')
      fail(`collect ${name}: ${JSON.stringify(ret)} is not a node the sub-pattern binds`);
    const decl: CollectDecl = { name, kind: info.kind, ret, limit, spec };
    return new Query(this.next({ collects: [...this.spec.collects, decl] }));
  }

  private sub(build: (q: Query<V, E, NoVars>) => SubQuery): QuerySpec {
    const outer: Record<string, VarInfo> = { ...this.spec.outer, ...this.spec.vars };
    for (const c of this.spec.collects) delete outer[c.name];
    const start = new Query<V, E, NoVars>({ ...emptySpec(outer), genCounter: this.spec.genCounter + 100 });
    const built = build(start);
    if (!(built instanceof Query)) fail('a sub-pattern builder must return a query');
    // (checked at run time: a builder written without the types could return anything)
    if (built.spec.hops.length === 0) fail('a sub-pattern needs at least one hop');
    if (built.spec.subs.length > 0 || built.spec.collects.length > 0) fail('sub-patterns do not nest');
    return built.spec;
  }

  /**
   * Anchor the query on these variables (a match is looked for around every changed node bound to one of
   * them). Default: every Process variable of the pattern, else its root.
   */
  anchor(...names: (keyof V & string)[]): Query<V, E, O> {
    if (names.length === 0) fail('anchor() needs at least one variable');
    for (const n of names) {
      if (!(n in this.spec.vars)) fail(`cannot anchor on ${JSON.stringify(n)}: not a node of the pattern`);
      nodeKindOf(this.spec, n);
    }
    return new Query(this.next({ anchors: [...new Set(names)] }));
  }
}

function depth(maxDepth: number): number {
  if (!Number.isInteger(maxDepth) || maxDepth < 1 || maxDepth > MAX_DEPTH)
    fail(`hop depth must be 1..${MAX_DEPTH}`);
  return maxDepth;
}

type ProcVar<V extends NodeVars> = VarOfKind<V, 'Process'>;
type VarOfKind<V extends NodeVars, K extends NodeKind> = {
  [N in keyof V & string]: V[N] extends K ? N : never;
}[keyof V & string];
/** Options of a hop that may bind or filter its edge. */
export type EdgeOpts<Ed extends EdgeKind> = { readonly edgeAs?: string; readonly edgeWhere?: EdgeWhere<Ed> };
/** The edge variable an EdgeOpts binds, if any. */
type Bound<EO, Ed extends EdgeKind> = EO extends { readonly edgeAs: infer X extends string }
  ? Record<X, Ed>
  : NoVars;
/** What a sub-pattern builder returns (only its variables matter to the caller). */
export interface SubQuery<V2 extends NodeVars = NodeVars> {
  readonly spec: QuerySpec;
  readonly __types?: { v: V2 };
}

/** Starts a query at a node of `kind` bound to `name`. */
export function match<K extends NodeKind, N extends string>(
  kind: K,
  name: N,
  where?: Where<K>,
): Query<Record<N, K>> {
  if (!Object.prototype.hasOwnProperty.call(NodeKinds, kind))
    fail(`unknown node kind ${JSON.stringify(kind)}`);
  const spec = emptySpec({});
  checkName(spec, name);
  return new Query({
    ...spec,
    vars: { [name]: { type: 'node', kind } },
    order: [name],
    filters: nodeFilters(kind, name, where),
  });
}

/** Shorthand for match('Process', name, where). */
export function processes<N extends string>(name: N, where?: Where<'Process'>): Query<Record<N, 'Process'>> {
  return match('Process', name, where);
}

/** The variables a query is anchored on: explicit anchors, else every Process variable, else the root. */
export function anchorsOf(spec: QuerySpec): string[] {
  if (spec.anchors.length > 0) return [...spec.anchors];
  const procs = spec.order.filter((n) => {
    const v = spec.vars[n];
    return v?.type === 'node' && v.kind === 'Process';
  });
  if (procs.length > 0) return procs;
  return spec.order.slice(0, 1);
}
