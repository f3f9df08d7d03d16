/**
 * An analyzer: id, title, ATT&CK techniques, a default score, a query over the graph model and a function
 * turning each match into hits. `defineAnalyzer` checks the definition (and compiles its query) when the
 * module is imported, so a broken analyzer fails at load time, where the host reports and skips it.
 */
import { z } from 'zod';
import { TechniqueId } from '../../../domain/detection';
import type { Logger } from '../../../lib/log';
import { compileQuery, type CompiledQuery } from './compile';
import { Query, type EdgeVars, type Match, type NodeVars } from './query';
import type { Rarity } from './rarity';

export const ANALYZER_KIND = 'lensgraph.analyzer/v1';

/** A node for a hit: its key, or a matched row (which has one). Empty values are skipped. */
export type NodeRef = string | { readonly key: string } | null | undefined;

/** What an analyzer's `hits` returns per finding; the host shapes it into a domain Hit. */
export interface HitDraft {
  /** The nodes the finding is about (at least one). */
  readonly risky: readonly NodeRef[];
  /** Nodes that explain it: parent, target, file, connection ... */
  readonly context?: readonly NodeRef[];
  /** One line of plain text. Quote attacker strings with `quote()`. */
  readonly summary: string;
  /** Default: the analyzer's score. */
  readonly score?: number;
  /** Added to the analyzer's techniques. */
  readonly techniques?: readonly string[];
  /** Default: the analyzer's title. */
  readonly title?: string;
  /** Event time of what fired (epoch ms); default: the latest time found on the risky rows. */
  readonly time?: number;
}

export type HitsResult = HitDraft | readonly HitDraft[] | null | undefined;

/** A match as the runtime hands it over before typing: rows by variable name. */
export type MatchRow = Readonly<Record<string, unknown>>;

export interface AnalyzerContext {
  readonly rarity: Rarity;
  readonly log: Logger;
  /**
   * Runs another query anchored on `keys` (context, correlation): the same compiler and limits as the
   * analyzer's own query. Use `query.anchor(var)` to choose which of its variables the keys bind. The query
   * must be one of the analyzer's declared `expansions`.
   */
  expand<V extends NodeVars, E extends EdgeVars, O extends NodeVars>(
    query: Query<V, E, O>,
    keys: readonly string[],
  ): Promise<Match<V, E, O>[]>;
}

/**
 * A query of any variables: what `expansions` holds. Only its spec is read here (it is compiled as it is);
 * its typed variables matter where `hits` passes it to `ctx.expand`.
 */
export type AnyQuery = Pick<Query<NodeVars, EdgeVars, NodeVars>, 'spec'>;

export interface AnalyzerSpec<V extends NodeVars, E extends EdgeVars, O extends NodeVars> {
  /** Stable id: lower-case words joined by dashes; the detection is `analyzer:<id>`. */
  readonly id: string;
  readonly title: string;
  readonly description?: string;
  /** ATT&CK technique ids every hit carries. */
  readonly techniques: readonly string[];
  /** Default score of a hit, 0..100. */
  readonly score: number;
  readonly query: Query<V, E, O>;
  /** Most matches per anchor branch per run (default 500). */
  readonly limit?: number;
  /**
   * Every query `hits` runs through `ctx.expand`, declared here so that it is compiled when the analyzer is
   * defined and its plan is checked with the analyzer's own (pipeline/analyzers/test-support.ts planOffenders).
   */
  readonly expansions?: readonly AnyQuery[];
  readonly hits: (m: Match<V, E, O>, ctx: AnalyzerContext) => HitsResult | Promise<HitsResult>;
}

/** A declared follow-up query, compiled. */
export interface Expansion {
  readonly query: Query<NodeVars, EdgeVars, NodeVars>;
  readonly compiled: CompiledQuery;
}

export interface Analyzer {
  readonly kind: typeof ANALYZER_KIND;
  readonly id: string;
  readonly title: string;
  readonly description: string;
  readonly techniques: readonly string[];
  readonly score: number;
  readonly limit: number;
  readonly query: Query<NodeVars, EdgeVars, NodeVars>;
  readonly compiled: CompiledQuery;
  readonly expansions: readonly Expansion[];
  readonly hits: (m: MatchRow, ctx: AnalyzerContext) => HitsResult | Promise<HitsResult>;
}

export const ANALYZER_ID = /^[a-z0-9][a-z0-9-]{1,62}[a-z0-9]$/;

/** The shape a loaded module's analyzer must have (modules are untrusted-ish input). */
export const AnalyzerShape = z.object({
  kind: z.literal(ANALYZER_KIND),
  id: z.string().regex(ANALYZER_ID, 'id: lower-case letters, digits and dashes, 3..64 characters'),
  title: z.string().min(1).max(200),
  description: z.string().max(4000),
  techniques: z.array(TechniqueId).max(50),
  score: z.number().min(0).max(100),
  limit: z.number().int().min(1).max(10_000),
  query: z.instanceof(Query),
  compiled: z.object({ cypher: z.string().min(1) }).passthrough(),
  expansions: z
    .array(
      z.object({
        query: z.instanceof(Query),
        compiled: z.object({ cypher: z.string().min(1) }).passthrough(),
      }),
    )
    .max(20),
  hits: z.custom<Analyzer['hits']>((v) => typeof v === 'function', 'hits must be a function'),
});

export function defineAnalyzer<V extends NodeVars, E extends EdgeVars, O extends NodeVars>(
  spec: AnalyzerSpec<V, E, O>,
): Analyzer {
  if (!(spec.query instanceof Query))
    throw new Error(`analyzer ${String(spec.id)}: query must be built with the SDK`);
  const expansions = (spec.expansions ?? []).map((q, i) => {
    if (!(q instanceof Query))
      throw new Error(`analyzer ${String(spec.id)}: expansions[${i}] must be a query built with the SDK`);
    return Object.freeze({
      query: q as unknown as Query<NodeVars, EdgeVars, NodeVars>,
      compiled: compileQuery(q as unknown as Query<never, never, never>),
    });
  });
  const analyzer: Analyzer = {
    kind: ANALYZER_KIND,
    id: spec.id,
    title: spec.title,
    description: spec.description ?? '',
    techniques: [...spec.techniques],
    score: spec.score,
    limit: spec.limit ?? 500,
    query: spec.query as unknown as Query<NodeVars, EdgeVars, NodeVars>,
    compiled: compileQuery(spec.query as unknown as Query<never, never, never>),
    expansions,
    // The one place where the typed match meets the untyped row: the runtime checks that every column is
    // a row of the right shape before calling this.
    hits: spec.hits as unknown as Analyzer['hits'],
  };
  const parsed = AnalyzerShape.safeParse(analyzer);
  if (!parsed.success) {
    const why = parsed.error.issues.map((i) => `${i.path.join('.') || 'analyzer'}: ${i.message}`).join('; ');
    throw new Error(`analyzer ${JSON.stringify(spec.id)}: ${why}`);
  }
  return Object.freeze(analyzer);
}
