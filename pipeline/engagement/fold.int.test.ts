/**
 * A provisional process folded into its canonical node by the merge stage keeps what the engage stage and
 * analysts attached to it (real Neo4j): its risks (combined with the canonical node's own risk of the same
 * detection), its place in lenses, exclusions and notes. Before, the fold's DETACH DELETE dropped them, so a
 * detection that fired on a Security 4688 event before the Sysmon creation arrived vanished from its lens.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphNode, Subgraph } from '../../domain/model';
import type { GraphGateway } from '../../lib/neo4j';
import { EngagementRepository } from '../../server/engagements/repository';
import { ensureGraphSchema, mergeSubgraphs } from '../merge';
import { gatewayFromEnv, holdLock, newTag, waitUntilBlocked } from '../merge/test-support';
import { createEngageStage } from '../stages/engage/handler';
import { assetLensKey } from './join';
import { ensureEngagementSchema, riskCypher } from './repository';
import { hit, hitsJob, runEngage } from './test-support';

let gateway: GraphGateway;

beforeAll(async () => {
  gateway = gatewayFromEnv();
  await ensureGraphSchema(gateway);
  await ensureEngagementSchema(gateway);
});

afterAll(async () => {
  await gateway.close();
});

const processNode = (key: string, props: GraphNode['props']): GraphNode => ({ kind: 'Process', key, props });

interface RiskRow {
  key: string;
  node: string | null;
  count: number;
  score: number;
  first: number;
  last: number;
  techniques: string[];
}

async function risksOf(tag: string): Promise<RiskRow[]> {
  return gateway.query<RiskRow>(
    'test.risks',
    `MATCH (r:Risk) WHERE r.key CONTAINS $tag
     OPTIONAL MATCH (n)-[:HAS_RISK]->(r)
     RETURN r.key AS key, n.key AS node, r.count AS count, r.score AS score, r.first_seen AS first,
            r.last_seen AS last, r.techniques AS techniques ORDER BY key`,
    { tag },
  );
}

async function scopeOf(lens: string): Promise<Array<{ node: string; role: string; addedBy: string }>> {
  return gateway.query(
    'test.scope',
    `MATCH (:Lens {key: $lens})-[s:SCOPE]->(n) RETURN n.key AS node, s.role AS role, s.added_by AS addedBy ORDER BY node`,
    { lens },
  );
}

async function figures(lens: string): Promise<{ risks: number; risky: number; hits: number }> {
  const [row] = await gateway.query<{ risks: number; risky: number; hits: number }>(
    'test.figures',
    'MATCH (l:Lens {key: $lens}) RETURN l.risk_count AS risks, l.risky_count AS risky, l.hit_count AS hits',
    { lens },
  );
  return row!;
}

describe('a fold of a provisional process into its canonical node', () => {
  it('moves its risks, lens scope, exclusions and notes to the canonical node', async () => {
    const t = newTag();
    const host = `T${t}-WS1`;
    const provisional = `Process:T${t}:7256:~1000`;
    const created = `Process:T${t}:7256:900`;
    const first: Subgraph = {
      nodes: [
        processNode(provisional, { pid: 7256, host, provisional: 1, first_seen: 1000, last_seen: 1500 }),
        processNode(created, {
          pid: 7256,
          host,
          image: 'C:\\x.exe',
          provisional: 0,
          create_time: 900,
          first_seen: 900,
          last_seen: 900,
        }),
      ],
      edges: [],
    };
    await mergeSubgraphs(gateway, [{ id: `${t}-1`, subgraph: first, aliases: [] }]);

    // Risks as the engage stage writes them: one detection on both nodes, another on the provisional only.
    const stage = createEngageStage(gateway);
    await runEngage(
      stage,
      hitsJob([
        hit({
          detection: `sigma:${t}-a`,
          source: 'sigma',
          riskyNodes: [provisional],
          time: 1000,
          score: 60,
          techniques: ['T1059'],
        }),
        hit({
          detection: `sigma:${t}-a`,
          source: 'sigma',
          riskyNodes: [provisional],
          time: 1200,
          score: 60,
          techniques: ['T1059'],
        }),
        hit({ detection: `sigma:${t}-b`, source: 'sigma', riskyNodes: [provisional], time: 1100, score: 80 }),
        hit({
          detection: `sigma:${t}-a`,
          source: 'sigma',
          riskyNodes: [created],
          time: 950,
          score: 40,
          techniques: ['T1204'],
        }),
      ]),
    );
    const asset = assetLensKey(host);
    expect((await scopeOf(asset)).map((s) => s.node)).toEqual([created, provisional].sort());
    const engagement = await gateway.query<{ key: string }>(
      'test.lens',
      `MATCH (l:Lens {type: 'engagement'})-[:SCOPE]->(:Process {key: $key}) RETURN l.key AS key`,
      { key: provisional },
    );
    expect(engagement).toHaveLength(1);
    expect(await figures(asset)).toEqual({ risks: 3, risky: 2, hits: 4 });

    // An analyst's note on the provisional node, and its exclusion from another lens.
    const repo = new EngagementRepository(gateway);
    const other = `eng:${t}-other`;
    await gateway.write('test.seed', async (tx) => {
      await repo.createNote(
        tx,
        { id: `${t}-note`, target: provisional, targetKind: 'node', text: 'seen before', author: 'it' },
        5000,
      );
      await tx.run(`CREATE (:Lens {key: $other, type: 'engagement', status: 'New', created_at: 1})`, {
        other,
      });
      await repo.setScope(tx, other, provisional, 'context', 'it', 5000);
      await repo.removeScope(tx, other, provisional, 'it', 5001);
    });

    const fold = await mergeSubgraphs(gateway, [
      { id: `${t}-2`, subgraph: { nodes: [], edges: [] }, aliases: [{ from: provisional, to: created }] },
    ]);
    expect(fold.aliasesApplied).toBe(1);

    // Every risk is on the canonical node, none is left behind; the shared detection counts the distinct
    // occurrences of both (times 950, 1000, 1200), the higher score, the wider span, both techniques.
    expect(await risksOf(t)).toEqual([
      {
        key: `sigma:${t}-a|${created}`,
        node: created,
        count: 3,
        score: 60,
        first: 950,
        last: 1200,
        techniques: ['T1204', 'T1059'],
      },
      {
        key: `sigma:${t}-b|${created}`,
        node: created,
        count: 1,
        score: 80,
        first: 1100,
        last: 1100,
        techniques: [],
      },
    ]);
    expect(await scopeOf(asset)).toEqual([{ node: created, role: 'risky', addedBy: 'pipeline' }]);
    expect((await scopeOf(engagement[0]!.key)).map((s) => s.node)).toEqual([created]);
    const moved = await gateway.query<{ target: string; from: string }>(
      'test.note',
      'MATCH (n:Note {id: $id}) RETURN n.target AS target, n.moved_from AS from',
      { id: `${t}-note` },
    );
    expect(moved).toEqual([{ target: created, from: provisional }]);
    const excluded = await gateway.query<{ node: string }>(
      'test.excluded',
      'MATCH (:Lens {key: $other})-[:EXCLUDES]->(n) RETURN n.key AS node',
      { other },
    );
    expect(excluded).toEqual([{ node: created }]);

    // The fold brought the lens's figures up to date: both detections on the one process that remains.
    expect(await figures(asset)).toEqual({ risks: 2, risky: 1, hits: 4 });

    // A late hit still naming the old key lands on the canonical node's risk, once.
    await runEngage(
      stage,
      hitsJob([
        hit({ detection: `sigma:${t}-b`, source: 'sigma', riskyNodes: [provisional], time: 1400, score: 80 }),
      ]),
    );
    const after = await risksOf(t);
    expect(after.map((r) => [r.key, r.node, r.count])).toEqual([
      [`sigma:${t}-a|${created}`, created, 3],
      [`sigma:${t}-b|${created}`, created, 2],
    ]);

    // Replaying the fold changes nothing.
    await mergeSubgraphs(gateway, [
      { id: `${t}-3`, subgraph: { nodes: [], edges: [] }, aliases: [{ from: provisional, to: created }] },
    ]);
    expect(await risksOf(t)).toEqual(after);
  });

  it('a risk an engage transaction is adding while the fold starts is moved with the others, not dropped', async () => {
    const t = newTag();
    const provisional = `Process:T${t}:4242:~2000`;
    const created = `Process:T${t}:4242:1900`;
    await mergeSubgraphs(gateway, [
      {
        id: `${t}-1`,
        subgraph: {
          nodes: [
            processNode(provisional, { pid: 4242, provisional: 1, first_seen: 2000, last_seen: 2000 }),
            processNode(created, {
              pid: 4242,
              provisional: 0,
              create_time: 1900,
              first_seen: 1900,
              last_seen: 1900,
            }),
          ],
          edges: [],
        },
        aliases: [],
      },
    ]);
    // The engage stage's own risk statement on the provisional node, held uncommitted.
    const detection = `sigma:${t}-race`;
    const holder = await holdLock(gateway, riskCypher('Process'), {
      rows: [
        {
          key: `${detection}|${provisional}`,
          node: provisional,
          detection,
          source: 'sigma',
          title: 'Race',
          summary: '',
          score: 50,
          techniques: [],
          time: 2000,
          last: 2000,
          count: 1,
          occurrences: ['o1'],
          context: [],
        },
      ],
    });
    const fold = mergeSubgraphs(gateway, [
      { id: `${t}-2`, subgraph: { nodes: [], edges: [] }, aliases: [{ from: provisional, to: created }] },
    ]);
    // The fold waits for the risk's transaction (at its first statement that touches the old node) ...
    expect(await waitUntilBlocked(gateway, 'UNWIND $aliases')).toBe(true);
    holder.release();
    await holder.done;
    await fold;
    // ... and then moves the risk it committed.
    expect(await risksOf(t)).toEqual([
      {
        key: `${detection}|${created}`,
        node: created,
        count: 1,
        score: 50,
        first: 2000,
        last: 2000,
        techniques: [],
      },
    ]);
  });
});
