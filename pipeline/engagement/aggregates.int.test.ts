/**
 * Lens aggregates computed by Neo4j (repository.ts lensAggregates) against the same aggregates computed in
 * TypeScript from the lens's risks read one by one (summary.ts aggregateRisks over the API's risk read), on a
 * lens built by the real engage stage from a real dev set and on lenses written with the awkward values the
 * reader must treat as summary.ts does: missing titles, counts and times, ties, an Asset node, context
 * nodes, no risks at all.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphGateway } from '../../lib/neo4j';
import { EngagementRepository } from '../../server/engagements/repository';
import { ensureGraphSchema } from '../merge';
import { gatewayFromEnv, newTag } from '../merge/test-support';
import { createEngageStage } from '../stages/engage/handler';
import { recomputeLenses, rescoreLenses } from './engage';
import { ensureEngagementSchema, lensAggregates } from './repository';
import { SCORE_MODEL } from './score';
import { aggregateRisks, summarizeAggregates, summarizeLens } from './summary';
import { buildGraph, hit, hitsJob, loadEvents, newReplayTag, processKey, runEngage } from './test-support';

let gateway: GraphGateway;
let repo: EngagementRepository;

beforeAll(async () => {
  gateway = gatewayFromEnv();
  await ensureGraphSchema(gateway);
  await ensureEngagementSchema(gateway);
  repo = new EngagementRepository(gateway);
});

afterAll(async () => {
  await gateway.close();
});

/** Neo4j's aggregates and the TypeScript reference over the same lens, in comparable form. */
async function both(lens: string, type: 'engagement' | 'asset') {
  const [row] = await gateway.read('test.aggregates', (tx) => lensAggregates(tx, [lens]));
  expect(row, `lens ${lens} not found`).toBeDefined();
  const reference = aggregateRisks(await repo.lensRisksForScore(lens));
  const norm = (a: typeof reference) => ({
    ...a,
    best: [...a.best.entries()].sort(),
    techniques: [...a.techniques].sort(),
    hosts: [...a.hosts].sort(),
  });
  const host = type === 'asset' ? lens.slice('asset:'.length) : undefined;
  return {
    got: norm(row!.aggregates),
    want: norm(reference),
    summary: summarizeAggregates(type, row!.aggregates, host),
    referenceSummary: summarizeLens(type, await repo.lensRisksForScore(lens), host),
  };
}

/** The PsExec dev set's graph under a new replay tag: the keys of PsExec and of the reg.exe it ran. */
async function psexecGraph(): Promise<{ psexec: string; reg: string }> {
  const tag = newReplayTag();
  const file = 'cmd_psexec_lsa_secrets_dump.jsonl';
  await buildGraph(gateway, tag, loadEvents(file), file);
  return {
    psexec: processKey('39E4A257-40A6-5F8D-A005-000000000700', tag),
    reg: processKey('39E4A257-40A6-5F8D-A205-000000000700', tag),
  };
}

describe('lens aggregates in Neo4j', () => {
  it('equal the aggregates of the risks read one by one, on a lens of a real dev set', async () => {
    const { psexec, reg } = await psexecGraph();
    const stage = createEngageStage(gateway);
    await runEngage(
      stage,
      hitsJob([
        hit({
          detection: 'sigma:psexec',
          source: 'sigma',
          riskyNodes: [psexec],
          score: 45,
          techniques: ['T1569.002'],
        }),
        hit({
          detection: 'analyzer:reg-save',
          riskyNodes: [reg],
          contextNodes: [psexec],
          score: 70,
          techniques: ['T1003.002'],
        }),
        hit({
          detection: 'sigma:psexec',
          source: 'sigma',
          riskyNodes: [reg],
          score: 30,
          time: Date.UTC(2020, 9, 19, 7, 31),
        }),
      ]),
    );
    const lenses = await gateway.query<{ key: string; type: 'engagement' | 'asset' }>(
      'test.lenses',
      `MATCH (l:Lens)-[:SCOPE {role: 'risky'}]->(:Process {key: $key}) RETURN l.key AS key, l.type AS type ORDER BY key`,
      { key: psexec },
    );
    expect(lenses.map((l) => l.type).sort()).toEqual(['asset', 'engagement']);
    for (const l of lenses) {
      const r = await both(l.key, l.type);
      expect(r.got.risks).toBeGreaterThan(0);
      expect(r.got).toEqual(r.want);
      expect(r.summary).toEqual(r.referenceSummary);
    }
  });

  it('read missing values as the summary does, break ties the same way, and handle a lens without risks', async () => {
    const t = newTag();
    const lens = `eng:${t}`;
    const empty = `eng:${t}-empty`;
    const p = (i: number) => `Process:T${t}-${i}`;
    const asset = `Asset:T${t}-SRV`;
    await gateway.write('test.seed', async (tx) => {
      await tx.run(
        `CREATE (l:Lens {key: $lens, type: 'engagement', status: 'New', created_at: 1})
         CREATE (:Lens {key: $empty, type: 'engagement', status: 'New', created_at: 1})
         WITH l
         UNWIND $nodes AS nd
         CREATE (n:Process {key: nd.key}) SET n.host = nd.host
         CREATE (l)-[:SCOPE {role: nd.role}]->(n)
         WITH l, n, nd
         UNWIND nd.risks AS r
         CREATE (n)-[:HAS_RISK]->(k:Risk {key: r.detection + '|' + n.key, detection: r.detection})
         SET k.title = r.title, k.score = r.score, k.count = r.count, k.first_seen = r.first, k.last_seen = r.last,
             k.techniques = r.techniques`,
        {
          lens,
          empty,
          nodes: [
            {
              key: p(1),
              host: `T${t}-WS1`,
              role: 'risky',
              risks: [
                // ties on score and time: the title decides
                {
                  detection: 'sigma:b',
                  title: 'Beta',
                  score: 60,
                  count: 2,
                  first: 10,
                  last: 50,
                  techniques: ['T1059.001'],
                },
                {
                  detection: 'sigma:a',
                  title: 'Alpha',
                  score: 60,
                  count: null,
                  first: null,
                  last: 50,
                  techniques: null,
                },
              ],
            },
            {
              key: p(2),
              host: null,
              role: 'risky',
              risks: [
                {
                  detection: 'sigma:b',
                  title: null,
                  score: 20,
                  count: 5,
                  first: 5,
                  last: null,
                  techniques: ['T1059'],
                },
                {
                  detection: 'analyzer:x',
                  title: 'X',
                  score: null,
                  count: 1,
                  first: 7,
                  last: 8,
                  techniques: [],
                },
              ],
            },
            // a context node's risks do not count
            {
              key: p(3),
              host: `T${t}-WS9`,
              role: 'context',
              risks: [
                {
                  detection: 'sigma:z',
                  title: 'Z',
                  score: 99,
                  count: 1,
                  first: 1,
                  last: 99,
                  techniques: ['T1003'],
                },
              ],
            },
          ],
        },
      );
      // an Asset node in the risky scope (its host comes from its key), whose risk ties with Alpha's in the
      // same detection and with Beta's in another: the title last in order wins both
      await tx.run(
        `MATCH (l:Lens {key: $lens})
         CREATE (a:Asset {key: $asset}) CREATE (l)-[:SCOPE {role: 'risky'}]->(a)
         CREATE (a)-[:HAS_RISK]->(:Risk {key: 'sigma:a|' + $asset, detection: 'sigma:a', title: 'Gamma', score: 60, count: 1, first_seen: 3, last_seen: 50, techniques: ['T1021']})`,
        { lens, asset },
      );
    });

    const r = await both(lens, 'engagement');
    expect(r.got).toEqual(r.want);
    expect(r.got).toMatchObject({
      risks: 5,
      nodes: 3,
      hits: 2 + 1 + 5 + 1 + 1,
      firstSeen: 3,
      lastSeen: 50,
      topTitle: 'Gamma',
      best: [
        ['analyzer:x', 0],
        ['sigma:a', 60],
        ['sigma:b', 60],
      ],
      hosts: [`T${t}-SRV`, `T${t}-WS1`],
      techniques: ['T1021', 'T1059', 'T1059.001'],
    });
    expect(r.summary).toEqual(r.referenceSummary);
    expect(r.summary.title).toBe(`Gamma (+2 detections) on T${t}-SRV, T${t}-WS1`);

    const e = await both(empty, 'engagement');
    expect(e.got).toEqual(e.want);
    expect(e.got).toMatchObject({
      risks: 0,
      nodes: 0,
      hits: 0,
      firstSeen: null,
      lastSeen: null,
      topTitle: null,
      best: [],
    });
    expect(e.summary).toEqual(e.referenceSummary);

    // recomputeLenses stores exactly that summary
    await gateway.write('test.recompute', (tx) => recomputeLenses(tx, [lens, empty], 1000));
    const stored = await gateway.query<Record<string, unknown>>(
      'test.stored',
      `MATCH (l:Lens) WHERE l.key IN [$lens, $empty]
       RETURN l.key AS key, l.score AS score, l.title AS title, l.hosts AS hosts, l.techniques AS techniques,
              l.detection_count AS detections, l.risk_count AS riskCount, l.risky_count AS riskyCount,
              l.hit_count AS hitCount, l.node_count AS nodeCount, l.first_seen AS firstSeen, l.last_seen AS lastSeen
       ORDER BY key`,
      { lens, empty },
    );
    expect(stored).toEqual([
      { key: lens, ...r.referenceSummary, nodeCount: 4 },
      { key: empty, ...e.referenceSummary, nodeCount: 0 },
    ]);
  });

  it('rescores lenses an older formula scored, once, keeping their activity time, and leaves merged lenses alone', async () => {
    const { psexec, reg } = await psexecGraph();
    await runEngage(
      createEngageStage(gateway),
      hitsJob([
        hit({
          detection: 'sigma:a',
          source: 'sigma',
          riskyNodes: [psexec],
          score: 90,
          techniques: ['T1569.002'],
        }),
        hit({
          detection: 'analyzer:b',
          riskyNodes: [reg],
          contextNodes: [psexec],
          score: 90,
          techniques: ['T1003.002'],
        }),
        hit({ detection: 'sigma:c', source: 'sigma', riskyNodes: [reg], score: 70 }),
      ]),
    );
    type Row = { key: string; score: number; model: number | null; updated: number; title: string };
    const read = () =>
      gateway.query<Row>(
        'test.rescore-read',
        `MATCH (l:Lens)-[:SCOPE {role: 'risky'}]->(:Process {key: $key})
         RETURN l.key AS key, l.score AS score, l.score_model AS model, l.updated_at AS updated, l.title AS title
         ORDER BY key`,
        { key: psexec },
      );
    const fresh = await read();
    expect(fresh).toHaveLength(2);
    // New lenses carry the current formula's version, and three strong detections score above 100.
    for (const l of fresh) expect(l.model).toBe(SCORE_MODEL);
    const eng = fresh.find((l) => l.key.startsWith('eng:'))!;
    expect(eng.score).toBeGreaterThan(100);

    // As a database of the previous version left them: the noisy-OR's 100 and no version; one merged lens.
    const merged = `eng:${newTag()}-merged`;
    await gateway.write('test.rescore-age', async (tx) => {
      await tx.run(`UNWIND $keys AS k MATCH (l:Lens {key: k}) SET l.score = 100.0 REMOVE l.score_model`, {
        keys: fresh.map((l) => l.key),
      });
      await tx.run(
        `CREATE (:Lens {key: $merged, type: 'engagement', status: 'Closed', merged_into: $survivor, score: 77.0, created_at: 1})`,
        { survivor: eng.key, merged },
      );
    });
    expect((await read()).map((l) => l.score)).toEqual([100, 100]);

    // A batch of one lens per transaction, so the loop is exercised whatever else the database holds.
    expect(await rescoreLenses(gateway, 1)).toBeGreaterThanOrEqual(2);
    expect(await read()).toEqual(fresh);
    const [m] = await gateway.query<{ score: number; model: number | null }>(
      'test.rescore-merged',
      'MATCH (l:Lens {key: $merged}) RETURN l.score AS score, l.score_model AS model',
      { merged },
    );
    expect(m).toEqual({ score: 77, model: null });

    // Once only: a second run finds nothing of these left to do.
    const before = await read();
    await rescoreLenses(gateway);
    expect(await read()).toEqual(before);
  });
});
