/**
 * The gateway against a real Neo4j: a transaction that writes to a node another transaction deleted
 * meanwhile is run again instead of failing (merge folds duplicate processes away while analyze and engage read).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayFromEnv } from '../pipeline/merge/test-support';
import { concurrentlyDeleted, type GraphGateway } from './neo4j';

let gateway: GraphGateway;

beforeAll(() => {
  gateway = gatewayFromEnv();
});

afterAll(async () => {
  await gateway?.close();
});

describe('Neo4j gateway', () => {
  it('runs a transaction again when a node it writes to was deleted by another one meanwhile', async () => {
    const k = randomUUID();
    await gateway.mutate('test.race.create', 'CREATE (:GatewayRace {k: $k})-[:HAS]->(:GatewayRace {x: 1})', { k });
    let attempts = 0;
    const errors: unknown[] = [];
    // The writer finds the node, then spends a while counting before it links a new node to it; the deleter
    // commits in between (it waits for no lock: the writer locks the node only when it links). Neo4j reads at
    // read-committed isolation, so the first attempt fails with "Unable to load NODE"; the second one no
    // longer finds the node and links nothing.
    const writer = gateway.write('test.race.write', async (tx) => {
      attempts++;
      try {
        const r = await tx.run(
          'MATCH (n:GatewayRace {k: $k}) WITH n UNWIND range(1, $spin) AS i WITH n, count(i) AS c CREATE (n)-[:SEEN]->(s:GatewayRace {x: 2}) RETURN s.x AS x',
          { k, spin: 4_000_000 },
        );
        return r.records.map((rec) => rec.get('x') as unknown);
      } catch (err) {
        errors.push(err);
        throw err;
      }
    });
    // Delete once the writer's statement is running (it finds the node first thing), whatever the load.
    let seen = false;
    for (let i = 0; i < 200 && !seen; i++) {
      const running = await gateway.query<{ n: number }>(
        'test.race.watch',
        `SHOW TRANSACTIONS YIELD currentQuery WHERE currentQuery CONTAINS 'GatewayRace {k: $k}' AND currentQuery CONTAINS 'spin' RETURN count(*) AS n`,
      );
      seen = (running[0]?.n ?? 0) > 0;
      if (!seen) await new Promise((r) => setTimeout(r, 25));
    }
    expect(seen).toBe(true);
    await new Promise((r) => setTimeout(r, 100));
    await gateway.mutate('test.race.delete', 'MATCH (n:GatewayRace {k: $k}) DETACH DELETE n', { k });
    expect(await writer).toEqual([]);
    expect(attempts).toBe(2);
    expect(errors.every(concurrentlyDeleted)).toBe(true);
  });

  it('does not run again a statement that fails on a node it deleted itself', async () => {
    const k = randomUUID();
    await gateway.mutate('test.self.create', 'CREATE (:GatewayRace {k: $k, x: 1})', { k });
    let attempts = 0;
    await expect(
      gateway.write('test.self.delete', async (tx) => {
        attempts++;
        await tx.run('MATCH (n:GatewayRace {k: $k}) DELETE n RETURN n.x AS x', { k });
      }),
    ).rejects.toThrow(/deleted/);
    expect(attempts).toBe(1);
  });
});
