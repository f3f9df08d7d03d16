/**
 * The gateway against a real Neo4j: a transaction that writes to a node another transaction deleted
 * meanwhile is run again instead of failing (merge folds duplicate processes away while analyze and engage read).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gatewayFromEnv, holdLock, waitUntilBlocked } from '../pipeline/merge/test-support';
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
    const lock = randomUUID();
    await gateway.mutate('test.race.create', 'CREATE (:GatewayRace {k: $k}), (:GatewayRace {k: $lock})', {
      k,
      lock,
    });
    // A transaction holds the write lock of a second node until the test lets it go.
    const holder = await holdLock(gateway, 'MATCH (l:GatewayRace {k: $lock}) SET l.held = true', { lock });
    let attempts = 0;
    const errors: unknown[] = [];
    // The writer finds the node, then waits for the held lock before it links a new node to it. The node is
    // deleted meanwhile (the deleter waits for no lock: the writer has only read the node). Neo4j reads at
    // read-committed isolation, so once the lock is free the first attempt fails with "Unable to load NODE";
    // the second one no longer finds the node and links nothing.
    const writer = gateway.write('test.race.write', async (tx) => {
      attempts++;
      try {
        const r = await tx.run(
          `MATCH (n:GatewayRace {k: $k}) MATCH (l:GatewayRace {k: $lock}) SET l.touched = true
           WITH n CREATE (n)-[:SEEN]->(s:GatewayRace {x: 2}) RETURN s.x AS x`,
          { k, lock },
        );
        return r.records.map((rec) => rec.get('x') as unknown);
      } catch (err) {
        errors.push(err);
        throw err;
      }
    });
    // The writer is waiting for the lock once Neo4j lists its statement as blocked.
    expect(await waitUntilBlocked(gateway, 'l.touched')).toBe(true);
    await gateway.mutate('test.race.delete', 'MATCH (n:GatewayRace {k: $k}) DETACH DELETE n', { k });
    holder.release();
    await holder.done;
    expect(await writer).toEqual([]);
    expect(attempts).toBe(2);
    expect(errors.length).toBe(1);
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

  it('runs schema statements that race with the same statements of other processes until all of them hold', async () => {
    // Worker processes start together and each creates the whole schema (pipeline/main.ts). Neo4j makes all
    // but one of concurrent schema changes deadlock victims; the gateway runs them again.
    const tag = `GatewaySchema${randomUUID().replaceAll('-', '')}`;
    const names = Array.from({ length: 6 }, (_, i) => `${tag}_${i}`);
    const statements = names.map((n) => `CREATE CONSTRAINT ${n} IF NOT EXISTS FOR (x:${n}) REQUIRE x.key IS UNIQUE`);
    const workers = Array.from({ length: 4 }, () => gatewayFromEnv());
    try {
      const outcomes = await Promise.allSettled(
        workers.map(async (w) => {
          for (const stmt of statements) await w.schema(stmt);
        }),
      );
      expect(outcomes.filter((o) => o.status === 'rejected')).toEqual([]);
      const made = await gateway.query<{ name: string }>(
        'test.schema.list',
        'SHOW CONSTRAINTS YIELD name WHERE name STARTS WITH $tag RETURN name',
        { tag },
      );
      expect(made.map((r) => r.name).sort()).toEqual(names);
    } finally {
      for (const n of names) await gateway.schema(`DROP CONSTRAINT ${n} IF EXISTS`);
      await Promise.all(workers.map((w) => w.close()));
    }
  });

  it('runs a deadlock victim again, and both transactions commit', async () => {
    const [a, b] = [randomUUID(), randomUUID()];
    await gateway.mutate('test.deadlock.create', 'CREATE (:GatewayRace {k: $a, n: 0}), (:GatewayRace {k: $b, n: 0})', { a, b });
    // Each transaction locks its first node, waits until the other has locked its own, then wants the other's:
    // a cycle Neo4j breaks by failing one of them. Run again, the victim waits for the winner and commits.
    let firstLocks = 0;
    let bothLocked!: () => void;
    const locked = new Promise<void>((resolve) => (bothLocked = resolve));
    const attempts: string[] = [];
    const errors: unknown[] = [];
    const increment = (first: string, second: string) =>
      gateway.write('test.deadlock', async (tx) => {
        attempts.push(first);
        try {
          await tx.run('MATCH (n:GatewayRace {k: $k}) SET n.n = n.n + 1', { k: first });
          if (++firstLocks === 2) bothLocked();
          await locked;
          await tx.run('MATCH (n:GatewayRace {k: $k}) SET n.n = n.n + 1', { k: second });
        } catch (err) {
          errors.push(err);
          throw err;
        }
      });
    await Promise.all([increment(a, b), increment(b, a)]);
    expect(errors.map((e) => (e as { code?: string }).code)).toEqual(['Neo.TransientError.Transaction.DeadlockDetected']);
    expect(attempts.length).toBe(3);
    // Each node was incremented once by each transaction, and the victim's failed attempt left nothing.
    const rows = await gateway.query<{ n: number }>('test.deadlock.read', 'MATCH (n:GatewayRace) WHERE n.k IN [$a, $b] RETURN n.n AS n', { a, b });
    expect(rows.map((r) => r.n)).toEqual([2, 2]);
  });
});
