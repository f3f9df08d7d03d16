/**
 * The plans Neo4j makes for the analyzers on a nearly empty graph, which is where every analyzer's first
 * plan is made, and Neo4j keeps a plan for minutes while the graph grows (min_replan_interval). A scan
 * planned there reads every node of its label for every batch later: with a plain USING INDEX hint, a
 * graph of 50 processes was enough for Neo4j to satisfy the hint with a scan of the whole key index on
 * nine analyzers. This file owns its Neo4j, so that the graph is as small as it needs to be.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { GraphGateway } from '../../lib/neo4j';
import { startNeo4j, type Neo4jHandle } from '../../scripts/stack/neo4j';
import { freePort } from '../../scripts/stack/ports';
import { NODE_KINDS } from '../../domain/model';
import { DEFAULT_JOIN_OPTIONS } from '../engagement/join';
import { DOWNSTREAM_CYPHER, UPSTREAM_CYPHER, neighbourParams, touchCypher } from '../engagement/repository';
import { ensureGraphSchema } from '../merge';
import { FOLLOWERS } from './follow';
import { loadAnalyzers } from './host';
import { prefetchCypher, prefetchPlan } from './anchor-prefilter';
import { operators, planOffenders, type PlanNode } from './test-support';

let dir: string;
let server: Neo4jHandle;
let gateway: GraphGateway;
const password = randomBytes(16).toString('hex');

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-plans-'));
  server = await startNeo4j({
    dataDir: dir,
    boltPort: await freePort(),
    password,
    heapMb: 512,
    pageCacheMb: 64,
  });
  gateway = new GraphGateway({ uri: server.uri, user: server.user, password });
  await ensureGraphSchema(gateway);
}, 300_000);

afterAll(async () => {
  await gateway?.close();
  await server?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}, 120_000);

it('every analyzer seeks its anchors and nothing else, on an empty graph and on one of 50 processes', async () => {
  const { analyzers } = await loadAnalyzers(undefined);
  const all = [...analyzers, ...FOLLOWERS];
  expect(all.length).toBeGreaterThan(40);
  expect(await planOffenders(gateway, all)).toEqual([]);
  await gateway.mutate(
    'test.plans.seed',
    `UNWIND range(1, 50) AS i
     CREATE (p:Process {key: 'Process:plan-' + i, image: 'C:\\\\x' + i + '.exe', create_time: i})
     CREATE (p)-[:SET_VALUE]->(:RegistryKey {key: 'RegistryKey:plan-' + i, path: 'HKLM\\\\x' + i})
     CREATE (p)-[:CREATED]->(:File {key: 'File:plan-' + i, path: 'C:\\\\f' + i})`,
  );
  expect(await planOffenders(gateway, all)).toEqual([]);
}, 300_000);

// Engage's join search runs inside the engage transaction for every batch with new risks. Its REMOTE_EXEC
// step looks for processes one host started in a time window: planned on a small graph, Neo4j chose the
// start-time index over every host's processes, which grows with the number of hosts (the scale bench's
// replays under new host names made it 4.6x the database hits of the host seek).
it("engage's join queries find nodes by their key, and one host's processes by host and start time", async () => {
  const params = { ...neighbourParams(DEFAULT_JOIN_OPTIONS), keys: ['Process:plan-1'], types: ['CREATED'] };
  const queries: Array<[string, string]> = [
    ['downstream', DOWNSTREAM_CYPHER],
    ['upstream', UPSTREAM_CYPHER],
    ...NODE_KINDS.filter((k) => k !== 'Process').map((k): [string, string] => [`touch ${k}`, touchCypher(k)]),
  ];
  const offenders: string[] = [];
  for (const [name, cypher] of queries) {
    const plan = await gateway.read('test.engage.explain', async (tx) => {
      const res = await tx.run(`CYPHER replan=force EXPLAIN ${cypher}`, params);
      return res.summary.plan;
    });
    if (!plan) throw new Error(`${name}: no plan`);
    const ops = operators(plan as unknown as PlanNode);
    if (!ops.some((o) => /^NodeUniqueIndexSeek .*WHERE key = k\b/.test(o)))
      offenders.push(`${name}: no key seek`);
    for (const o of ops) {
      if (!/Index|LabelScan|AllNodesScan/.test(o)) continue;
      if (/^NodeUniqueIndexSeek .*WHERE key = k\b/.test(o)) continue;
      if (/^NodeIndexSeek RANGE INDEX y:Process\(host, create_time\) WHERE host = /.test(o)) continue;
      offenders.push(`${name}: ${o}`);
    }
  }
  expect(offenders).toEqual([]);
}, 120_000);

// The analyze stage's one read per update (anchor-prefilter.ts): the changed nodes by key, their
// anchor-filtered properties and edge counts. Counts must come from each node's own edges, not a scan.
it("the anchor prefilter's read seeks the changed keys and nothing else", async () => {
  const { analyzers } = await loadAnalyzers(undefined);
  const plans = prefetchPlan(analyzers.map((a) => a.query.spec));
  expect(plans.get('Process')?.edges.length).toBeGreaterThan(3);
  const offenders: string[] = [];
  for (const [kind, plan] of plans) {
    const ops = await gateway.read('test.prefetch.explain', async (tx) => {
      const res = await tx.run(`CYPHER replan=force EXPLAIN ${prefetchCypher(kind, plan)}`, {
        keys: [`${kind}:plan-1`],
      });
      return operators(res.summary.plan as unknown as PlanNode);
    });
    if (!ops.some((o) => /^NodeUniqueIndexSeek .*WHERE key = anchor_key\b/.test(o)))
      offenders.push(`${kind}: no key seek`);
    for (const o of ops)
      if (/Index|LabelScan|AllNodesScan|Expand|RelationshipCount/.test(o) && !/^NodeUniqueIndexSeek /.test(o))
        offenders.push(`${kind}: ${o}`);
  }
  expect(offenders).toEqual([]);
}, 120_000);
