/**
 * Applies a batch of fresh hits inside the engage transaction: risks, then lenses.
 *
 *   1. take the EngageLock (lens decisions of concurrent workers run one after the other)
 *   2. rewrite node keys folded by the merge stage, upsert one Risk per (detection, node)
 *   3. search join paths from every node with new hits (join.ts, bounded hops and time window)
 *   4. group into stories; per story: nothing, open a lens, add to the lens it touches, or merge the
 *      lenses it touches into the oldest (the others become Duplicate pointers, audited)
 *   5. reopen closed lenses that got new hits (audited, by `pipeline`)
 *   6. the asset lens of every host with new risks
 *   7. recompute score, title, hosts, techniques of every lens touched
 *
 * The caller runs it in one write transaction with the chunk markers, so all of it happens exactly once.
 */
import type { ManagedTransaction } from 'neo4j-driver';
import type { Hit } from '../../domain/detection';
import type { GraphGateway } from '../../lib/neo4j';
import {
  DEFAULT_JOIN_OPTIONS,
  assetLensKey,
  discoverJoins,
  groupStories,
  newLensKey,
  planStory,
  reopenReason,
  type JoinOptions,
  type LensState,
  type SeedSpan,
} from './join';
import {
  PIPELINE_ACTOR,
  addScope,
  createEngagementLens,
  ensureAssetLenses,
  expandNeighbours,
  lensMemberships,
  lensAggregates,
  lensesToRescore,
  lockEngagement,
  lockLenses,
  lookupAliases,
  mergeLensInto,
  nodeFacts,
  reopenByPipeline,
  risksOfNodes,
  setAggregates,
  setScores,
  upsertRisks,
  writeAudit,
  type AuditInput,
  type LockedLens,
} from './repository';
import { rewriteHits, riskRows } from './risks';
import { summarizeAggregates, type LensRisk } from './summary';
import { scoreRisks } from './score';

export interface EngageReport {
  risks: number;
  lensesCreated: string[];
  lensesUpdated: string[];
  merged: Array<{ into: string; from: string }>;
  reopened: string[];
  assetLenses: string[];
}

export interface ApplyContext {
  now: number;
  /** Digests of the chunks applied (names new lenses deterministically). */
  digests: readonly string[];
  options?: Partial<JoinOptions>;
}

const toState = (l: LockedLens): LensState => ({ key: l.key, createdAt: l.createdAt, status: l.status, excluded: new Set(l.excluded) });

export async function applyHits(tx: ManagedTransaction, input: readonly Hit[], ctx: ApplyContext): Promise<EngageReport> {
  const o: JoinOptions = { ...DEFAULT_JOIN_OPTIONS, ...ctx.options };
  const now = ctx.now;
  const report: EngageReport = { risks: 0, lensesCreated: [], lensesUpdated: [], merged: [], reopened: [], assetLenses: [] };
  if (input.length === 0) return report;
  await lockEngagement(tx, now);

  const mentioned = [...new Set(input.flatMap((h) => [...h.riskyNodes, ...h.contextNodes]))];
  const hits = rewriteHits(input, await lookupAliases(tx, mentioned));
  report.risks = await upsertRisks(tx, riskRows(hits));

  const facts = await nodeFacts(tx, hits.flatMap((h) => [...h.riskyNodes, ...h.contextNodes]));
  const spans = new Map<string, SeedSpan>();
  const titles = new Map<string, string[]>();
  for (const h of hits) {
    for (const k of h.riskyNodes) {
      if (!facts.has(k)) continue;
      const s = spans.get(k);
      if (s) {
        s.first = Math.min(s.first, h.time);
        s.last = Math.max(s.last, h.time);
      } else spans.set(k, { key: k, first: h.time, last: h.time });
      titles.set(k, [...(titles.get(k) ?? []), h.title]);
    }
  }
  const seeds = [...spans.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
  if (seeds.length === 0) return report;

  // ------------------------------------------------------------------------------ engagement lenses
  const joins = await discoverJoins(seeds, (frontier) => expandNeighbours(tx, frontier, o), o);
  const risky = new Set<string>(seeds.map((s) => s.key));
  for (const [k, f] of facts) if (f.risky) risky.add(k);
  for (const j of joins) risky.add(j.to);
  const memberships = await lensMemberships(tx, risky);
  const stories = groupStories({
    seeds: seeds.map((s) => s.key),
    hits: hits.map((h) => ({ risky: h.riskyNodes.filter((k) => facts.has(k)), context: h.contextNodes.filter((k) => facts.has(k)) })),
    risky,
    joins,
    memberships,
  });
  const locked = await lockLenses(tx, stories.flatMap((s) => s.lenses), now);
  const states = new Map([...locked.values()].map((l) => [l.key, toState(l)] as const));
  const lensless = stories.filter((s) => s.lenses.length === 0);
  const risksByNode = new Map<string, LensRisk[]>();
  for (const r of await risksOfNodes(tx, lensless.flatMap((s) => s.risky))) {
    risksByNode.set(r.node, [...(risksByNode.get(r.node) ?? []), r]);
  }

  const audit: AuditInput[] = [];
  const touched = new Set<string>();
  for (const story of stories) {
    const score = story.lenses.length === 0 ? scoreRisks(story.risky.flatMap((k) => risksByNode.get(k) ?? [])).score : 0;
    const plan = planStory(story, states, { score, newKey: newLensKey(story, ctx.digests), minScore: o.minScore });
    if (!plan) continue;
    if (plan.create) {
      await createEngagementLens(tx, plan.lens, now);
      states.set(plan.lens, { key: plan.lens, createdAt: now, status: 'New', excluded: new Set() });
      report.lensesCreated.push(plan.lens);
      audit.push({ target: plan.lens, targetKind: 'lens', actor: PIPELINE_ACTOR, action: 'lens.create', after: { status: 'New', risky: plan.risky.length } });
    } else report.lensesUpdated.push(plan.lens);
    for (const a of plan.absorb) {
      await mergeLensInto(tx, plan.lens, a, now);
      report.merged.push({ into: plan.lens, from: a });
      const before = states.get(a);
      audit.push(
        { target: plan.lens, targetKind: 'lens', actor: PIPELINE_ACTOR, action: 'lens.merge', before: { lenses: [plan.lens] }, after: { lenses: [plan.lens], absorbed: a } },
        { target: a, targetKind: 'lens', actor: PIPELINE_ACTOR, action: 'lens.merged', before: { status: before?.status ?? null, mergedInto: null }, after: { status: 'Closed', resolution: 'Duplicate', mergedInto: plan.lens } },
      );
      states.delete(a);
    }
    await addScope(
      tx,
      plan.lens,
      [...plan.risky.map((node) => ({ node, role: 'risky' as const })), ...plan.context.map((node) => ({ node, role: 'context' as const }))],
      PIPELINE_ACTOR,
      now,
      true,
    );
    if (plan.reopen) {
      const reason = reopenReason(story.seeds.flatMap((k) => titles.get(k) ?? []));
      const before = await reopenByPipeline(tx, plan.lens, reason, now);
      if (before) {
        report.reopened.push(plan.lens);
        audit.push({ target: plan.lens, targetKind: 'lens', actor: PIPELINE_ACTOR, action: 'status.reopen', before: { status: 'Closed', ...before }, after: { status: 'Investigating', reopenedByPipeline: true, reopenReason: reason } });
      }
    }
    touched.add(plan.lens);
  }

  // ------------------------------------------------------------------------------------ asset lenses
  const seedsByHost = new Map<string, string[]>();
  for (const s of seeds) {
    const host = facts.get(s.key)?.host;
    if (host) seedsByHost.set(host, [...(seedsByHost.get(host) ?? []), s.key]);
  }
  const assets = await ensureAssetLenses(tx, [...seedsByHost.keys()], now);
  for (const [host, keys] of seedsByHost) {
    const key = assetLensKey(host);
    await addScope(tx, key, keys.map((node) => ({ node, role: 'risky' as const })), PIPELINE_ACTOR, now, true);
    if (assets.get(key)?.status === 'Closed') {
      const reason = reopenReason(keys.flatMap((k) => titles.get(k) ?? []));
      const before = await reopenByPipeline(tx, key, reason, now);
      if (before) {
        report.reopened.push(key);
        audit.push({ target: key, targetKind: 'lens', actor: PIPELINE_ACTOR, action: 'status.reopen', before: { status: 'Closed', ...before }, after: { status: 'Investigating', reopenedByPipeline: true, reopenReason: reason } });
      }
    }
    report.assetLenses.push(key);
    touched.add(key);
  }

  await recomputeLenses(tx, [...touched], now);
  await writeAudit(tx, audit, now);
  return report;
}

/** Score, title, hosts, techniques, counts and time span of lenses, from their risky scope. */
export async function recomputeLenses(tx: ManagedTransaction, keys: string[], now: number): Promise<void> {
  const rows = await lensAggregates(tx, keys);
  await setAggregates(
    tx,
    rows.map((l) => {
      const s = summarizeAggregates(l.type, l.aggregates, l.type === 'asset' ? l.key.slice('asset:'.length) : undefined);
      return { key: l.key, ...s, nodeCount: l.nodeCount };
    }),
    now,
  );
}

/**
 * Rescores every live lens an older formula scored (score.ts SCORE_MODEL), a batch of lenses per
 * transaction, and returns how many. Run by the setup step (scripts/stack/database.ts) so that a list
 * never mixes two scales after an upgrade. Only the score and its version change: the lens's activity
 * time, title and history stay. Each transaction first takes the engage lock, so it cannot interleave with
 * an engage worker's read-decide-write of the same lenses (the score it writes is computed after the lock,
 * from what is committed). Merged lenses keep the score they had when they were merged: they only point to
 * their survivor.
 */
export async function rescoreLenses(gateway: GraphGateway, batch = 500, now: () => number = Date.now): Promise<number> {
  let total = 0;
  for (;;) {
    const done = await gateway.write('engagement.rescore', async (tx) => {
      await lockEngagement(tx, now());
      const keys = await lensesToRescore(tx, batch);
      const rows = await lensAggregates(tx, keys);
      await setScores(
        tx,
        rows.map((l) => ({ key: l.key, score: summarizeAggregates(l.type, l.aggregates).score })),
      );
      return keys.length;
    });
    total += done;
    if (done < batch) return total;
  }
}
