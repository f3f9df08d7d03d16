/**
 * The Cypher of the merge writer, generated from domain/model.ts. Labels, relationship types and property
 * names come from the model only (checked to be plain identifiers, then back-quoted); values are always
 * parameters. One statement shape per label and per relationship type, whatever the rows contain, so
 * Neo4j plans each once and caches it.
 *
 * Every property's merge rule is enforced in the write itself (pipeline/graph/rules.ts is the same logic
 * in memory), so concurrent and out-of-order writes converge:
 *   immutable  set once; an empty value counts as absent; when sources disagree the smallest value wins
 *              (code-point order), so that writes converge in any order (first-wins would not: two events
 *              of one process access can carry different call traces)
 *   increment  max     decrement  min     counter  sum     union  stored list + new elements not in it
 */
import {
  EdgeKinds,
  NODE_KINDS,
  NodeKinds,
  type EdgeKind,
  type NodeKind,
  type PropSpec,
} from '../../domain/model';

/** Book-keeping labels of the merge writer (not graph entities). */
export const APPLIED_BATCH = 'AppliedBatch';
export const ALIASED_KEY = 'AliasedKey';
export const MERGE_LOCK = 'MergeLock';

const IDENT = /^[A-Za-z][A-Za-z0-9_]*$/;

/** A model name as a Cypher identifier. Throws on anything but letters, digits and `_`. */
export function ident(name: string): string {
  if (!IDENT.test(name)) throw new Error(`not a plain identifier: ${JSON.stringify(name)}`);
  return `\`${name}\``;
}

/** The rule of one property: the new value of `target.prop` given the incoming `src.prop`. */
export function ruleExpr(target: string, src: string, prop: string, spec: PropSpec): string {
  const t = `${target}.${ident(prop)}`;
  const s = `${src}.${ident(prop)}`;
  switch (spec.merge) {
    case 'immutable':
      if (spec.type === 'string') {
        return `CASE WHEN ${s} IS NULL OR ${s} = '' THEN ${t} WHEN ${t} IS NULL OR ${t} = '' OR ${s} < ${t} THEN ${s} ELSE ${t} END`;
      }
      return `CASE WHEN ${s} IS NULL THEN ${t} WHEN ${t} IS NULL OR ${s} < ${t} THEN ${s} ELSE ${t} END`;
    case 'increment':
      return `CASE WHEN ${s} IS NULL THEN ${t} WHEN ${t} IS NULL OR ${s} > ${t} THEN ${s} ELSE ${t} END`;
    case 'decrement':
      return `CASE WHEN ${s} IS NULL THEN ${t} WHEN ${t} IS NULL OR ${s} < ${t} THEN ${s} ELSE ${t} END`;
    case 'counter':
      return `CASE WHEN ${s} IS NULL THEN ${t} ELSE coalesce(${t}, 0) + ${s} END`;
    case 'union':
      return `CASE WHEN ${s} IS NULL THEN ${t} WHEN ${t} IS NULL THEN ${s} ELSE ${t} + [x IN ${s} WHERE NOT x IN ${t}] END`;
  }
}

const nodeSpecs = (kind: NodeKind) => NodeKinds[kind].props as Record<string, PropSpec>;
const edgeSpecs = (kind: EdgeKind) => EdgeKinds[kind].props as Record<string, PropSpec>;

/** Every node and relationship kind has it (domain/model.ts `common` / `edgeCommon`). */
const LOCK_PROP = 'last_seen';

/**
 * Merging `src` into `target` by the rules:
 *   1. `last_seen` is SET first: this takes the write lock on the entity BEFORE anything else is read
 *      (Neo4j locks on write; reading first, e.g. in a WITH, would let two writers both read count = 1 and
 *      both write 2: a lost update);
 *   2. every other property is set in one map, each value computed by its rule from the now locked entity.
 *      Neo4j's kernel records no change for a property set to the value it already has, so an unchanged
 *      property costs no write and no index update; and a rule gives null only when both sides are null,
 *      so the map never removes a property.
 * One SET of a map literal, not a guarded SET per property: Neo4j plans each FOREACH as a sub-plan, and the
 * statement of a kind with 30 properties took 2-3 times as long to plan (planning is most of the CPU a
 * fresh Neo4j spends on the first batches).
 */
export function mergeChanges(target: string, src: string, specs: Record<string, PropSpec>): string {
  const lock = specs[LOCK_PROP];
  if (!lock) throw new Error(`merge: every kind needs ${LOCK_PROP}`);
  const names = Object.keys(specs).filter((p) => p !== LOCK_PROP);
  const values = names.map((p) => `${ident(p)}: ${ruleExpr(target, src, p, specs[p]!)}`).join(',\n    ');
  return [
    `SET ${target}.${ident(LOCK_PROP)} = ${ruleExpr(target, src, LOCK_PROP, lock)}`,
    ...(names.length > 0 ? [`SET ${target} += {\n    ${values}\n  }`] : []),
  ].join('\n');
}

/** Rows `{key, props}`: a new node takes the row's properties, an existing one merges them by the rules. */
export function nodeMergeCypher(kind: NodeKind): string {
  return [
    'UNWIND $rows AS row',
    `MERGE (n:${ident(kind)} {key: row.key})`,
    mergeChanges('n', 'row.props', nodeSpecs(kind)),
  ].join('\n');
}

/** Rows `{from, to, props}`; both endpoints exist (the node statements ran first in the transaction). */
export function edgeMergeCypher(kind: EdgeKind): string {
  const spec = EdgeKinds[kind];
  return [
    'UNWIND $rows AS row',
    `MATCH (a:${ident(spec.from)} {key: row.from})`,
    `MATCH (b:${ident(spec.to)} {key: row.to})`,
    `MERGE (a)-[r:${ident(kind)}]->(b)`,
    mergeChanges('r', 'row.props', edgeSpecs(kind)),
  ].join('\n');
}

export interface FoldCypher {
  /** Which aliased nodes exist, and the relationship types and directions they have. */
  probe: string;
  /** Properties of the old node merged into the new one by the rules (new one created if missing). */
  props: string;
  /** Re-pointing of one relationship type in one direction, merged by the rules into an existing one. */
  rels: Array<{ edge: EdgeKind; out: boolean; cypher: string }>;
  /** The old node, now without relationships, deleted. */
  remove: string;
}

/**
 * Folding node `al.from` into node `al.to` (aliases `{from, to}` in `$aliases`). Idempotent: once the old
 * node is gone every statement matches nothing.
 */
export function foldCypher(kind: NodeKind): FoldCypher {
  const k = ident(kind);
  const rels: FoldCypher['rels'] = [];
  for (const edge of Object.keys(EdgeKinds) as EdgeKind[]) {
    const spec = EdgeKinds[edge];
    const rules = mergeChanges('r2', 'p', edgeSpecs(edge));
    if (spec.from === kind) {
      rels.push({
        edge,
        out: true,
        cypher: [
          'UNWIND $aliases AS al',
          `MATCH (old:${k} {key: al.from})-[r:${ident(edge)}]->(b)`,
          `MATCH (new:${k} {key: al.to})`,
          'WITH r, new, CASE WHEN b = old THEN new ELSE b END AS b2, properties(r) AS p',
          `MERGE (new)-[r2:${ident(edge)}]->(b2)`,
          rules,
          'DELETE r',
        ].join('\n'),
      });
    }
    if (spec.to === kind) {
      rels.push({
        edge,
        out: false,
        cypher: [
          'UNWIND $aliases AS al',
          `MATCH (a)-[r:${ident(edge)}]->(old:${k} {key: al.from})`,
          `MATCH (new:${k} {key: al.to})`,
          'WITH r, new, CASE WHEN a = old THEN new ELSE a END AS a2, properties(r) AS p',
          `MERGE (a2)-[r2:${ident(edge)}]->(new)`,
          rules,
          'DELETE r',
        ].join('\n'),
      });
    }
  }
  return {
    probe: [
      'UNWIND $aliases AS al',
      `MATCH (old:${k} {key: al.from})`,
      // The old node's write lock, before anything is read from it: a concurrent engage transaction that is
      // adding a risk to it finishes first (and is moved below), or waits and then finds it gone (and is
      // re-run by the gateway against the alias), so nothing is added to it between the move and the delete.
      'SET old.folding = true',
      'WITH old',
      'OPTIONAL MATCH (old)-[r]-()',
      'RETURN DISTINCT type(r) AS type, startNode(r) = old AS out',
    ].join('\n'),
    props: [
      'UNWIND $aliases AS al',
      `MATCH (old:${k} {key: al.from})`,
      `MERGE (new:${k} {key: al.to})`,
      'WITH new, properties(old) AS p',
      mergeChanges('new', 'p', nodeSpecs(kind)),
    ].join('\n'),
    rels,
    remove: ['UNWIND $aliases AS al', `MATCH (old:${k} {key: al.from})`, 'DETACH DELETE old'].join('\n'),
  };
}

/** Remembers applied aliases, so rows that still carry an old key (a late or replayed payload) are rewritten. */
export const RECORD_ALIASES = [
  'UNWIND $aliases AS al',
  `MERGE (x:${ident(ALIASED_KEY)} {key: al.from})`,
  'SET x.to = al.to',
  'WITH DISTINCT al',
  `MATCH (y:${ident(ALIASED_KEY)} {to: al.from})`,
  'SET y.to = al.to',
].join('\n');

/**
 * Taken, before the aliases are looked up, by every merge transaction that looks up or applies an alias
 * (one whose rows carry a session process key, or that folds one). Without it, with two merge workers, a
 * transaction could look up a session key, find no alias yet, and write that key back as a node after
 * another transaction had folded it into its canonical process and committed: a duplicate process. With it,
 * the second one waits, then finds the alias. Merges of Sysmon-only rows (GUID keys) do not take it.
 */
export const ALIAS_LOCK = `MERGE (l:${ident(MERGE_LOCK)} {id: 'aliases'}) SET l.at = $now`;

export const LOOKUP_ALIASES = [
  'UNWIND $keys AS k',
  `MATCH (x:${ident(ALIASED_KEY)} {key: k})`,
  'RETURN x.key AS key, x.to AS to',
].join('\n');

/**
 * Claims batch ids: MERGE takes the unique-constraint lock first thing in the transaction, so a concurrent
 * duplicate waits, then sees the marker. `fresh` is true only for markers this transaction attempt created.
 */
export const CLAIM_BATCHES = [
  'UNWIND $ids AS id',
  `MERGE (b:${ident(APPLIED_BATCH)} {id: id})`,
  'ON CREATE SET b.applied_at = $now, b.claim = $claim',
  'RETURN id, b.claim = $claim AS fresh',
].join('\n');

/**
 * Indexes earlier versions created and nothing reads any more: lg_process_create_time, replaced by
 * lg_process_host_create_time (below).
 */
export const RETIRED_INDEXES = ['lg_process_create_time'] as const;

/** Schema statements: idempotent, run before the first write. */
export function schemaCypher(): string[] {
  const out: string[] = [];
  for (const kind of NODE_KINDS) {
    out.push(
      `CREATE CONSTRAINT ${ident(`lg_${kind.toLowerCase()}_key`)} IF NOT EXISTS FOR (n:${ident(kind)}) REQUIRE n.key IS UNIQUE`,
    );
  }
  out.push(
    `CREATE CONSTRAINT lg_appliedbatch_id IF NOT EXISTS FOR (n:${ident(APPLIED_BATCH)}) REQUIRE n.id IS UNIQUE`,
    `CREATE CONSTRAINT lg_aliasedkey_key IF NOT EXISTS FOR (n:${ident(ALIASED_KEY)}) REQUIRE n.key IS UNIQUE`,
    `CREATE INDEX lg_aliasedkey_to IF NOT EXISTS FOR (n:${ident(ALIASED_KEY)}) ON (n.to)`,
    `CREATE CONSTRAINT lg_mergelock_id IF NOT EXISTS FOR (n:${ident(MERGE_LOCK)}) REQUIRE n.id IS UNIQUE`,
    'CREATE INDEX lg_process_guid IF NOT EXISTS FOR (n:`Process`) ON (n.process_guid)',
    'CREATE INDEX lg_process_host_pid IF NOT EXISTS FOR (n:`Process`) ON (n.host, n.pid)',
    // Processes of one host started in a time window (engage's REMOTE_EXEC join). It replaced an index on
    // create_time alone: a range over every host's processes grows with the number of hosts, this seek does not.
    'CREATE INDEX lg_process_host_create_time IF NOT EXISTS FOR (n:`Process`) ON (n.host, n.create_time)',
    'CREATE INDEX lg_process_last_seen IF NOT EXISTS FOR (n:`Process`) ON (n.last_seen)',
    searchIndexCypher(),
    // A database made by an earlier version keeps the indexes it no longer reads, each a cost on every write.
    ...RETIRED_INDEXES.map((name) => `DROP INDEX ${ident(name)} IF EXISTS`),
  );
  return out;
}

/** Name of the full-text index over the `searchable` properties of domain/model.ts (the API's search). */
export const SEARCH_INDEX = 'lg_search';

/** The labels and properties the search index covers: every property the model marks `searchable`. */
export function searchableFields(): { labels: NodeKind[]; props: string[] } {
  const labels: NodeKind[] = [];
  const props = new Set<string>();
  for (const kind of NODE_KINDS) {
    const own = Object.entries(NodeKinds[kind].props as Record<string, PropSpec>).filter(
      ([, p]) => p.searchable,
    );
    if (own.length === 0) continue;
    labels.push(kind);
    for (const [name] of own) props.add(name);
  }
  return { labels, props: [...props].sort() };
}

/** One full-text index over all searchable labels and properties (a label lacking a property is skipped by Lucene). */
export function searchIndexCypher(): string {
  const { labels, props } = searchableFields();
  return `CREATE FULLTEXT INDEX ${ident(SEARCH_INDEX)} IF NOT EXISTS FOR (n:${labels.map(ident).join('|')}) ON EACH [${props
    .map((p) => `n.${ident(p)}`)
    .join(', ')}]`;
}
