/**
 * `npm run setup` (scripts/setup.ts, docker-compose's one-shot `setup` service) against the real Neo4j of
 * the test harness: it leaves every constraint and index the product needs (and drops those it retired) and an enabled admin, can run
 * again without changing anything, and fails fast with a clear reason on wrong credentials.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GraphGateway } from '../lib/neo4j';
import { engagementSchemaCypher } from '../pipeline/engagement/repository';
import { RETIRED_INDEXES, schemaCypher } from '../pipeline/merge/cypher';
import { gatewayFromEnv } from '../pipeline/merge/test-support';
import { tsxCommand } from './run-stack';

let gateway: GraphGateway;

function setup(env: Record<string, string>): { status: number | null; out: string } {
  const [cmd, ...args] = tsxCommand('scripts/setup.ts');
  const base: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(process.env))
    if (!k.startsWith('LENSGRAPH_') && !k.startsWith('NEO4J_') && !k.startsWith('REDIS_')) base[k] = v;
  const r = spawnSync(cmd!, args, {
    env: { ...base, ...env } as NodeJS.ProcessEnv,
    encoding: 'utf8',
    timeout: 240_000,
  });
  return { status: r.status, out: `${r.stdout}${r.stderr}` };
}

const neo4jEnv = () => ({
  NEO4J_URI: process.env.NEO4J_URI!,
  NEO4J_USER: process.env.NEO4J_USER ?? 'neo4j',
  NEO4J_PASSWORD: process.env.NEO4J_PASSWORD!,
});

/** Names the product's schema statements create (CREATE CONSTRAINT|INDEX <name> IF NOT EXISTS ...). */
function names(statements: readonly string[]): string[] {
  return statements
    .map((s) => /CREATE (?:FULLTEXT )?(?:CONSTRAINT|INDEX) `?(\w+)`?/.exec(s)?.[1])
    .filter((n): n is string => !!n);
}

beforeAll(() => {
  gateway = gatewayFromEnv();
});

afterAll(async () => {
  await gateway?.close();
});

describe('npm run setup', () => {
  it('leaves every constraint and index and an enabled admin, and changes nothing when run again', async () => {
    // A database an earlier version set up: it has an index nothing reads any more.
    for (const name of RETIRED_INDEXES)
      await gateway.schema(`CREATE INDEX ${name} IF NOT EXISTS FOR (n:RetiredIndexProbe) ON (n.create_time)`);
    const first = setup(neo4jEnv());
    expect(first.status, first.out).toBe(0);
    expect(first.out).toContain('Neo4j is ready for Lensgraph.');

    const expected = [...names(schemaCypher()), ...names(engagementSchemaCypher())];
    expect(expected.length).toBeGreaterThan(20);
    const have = new Set(
      (await gateway.query<{ name: string }>('test.setup.schema', 'SHOW INDEXES YIELD name RETURN name')).map(
        (r) => r.name,
      ),
    );
    for (const c of await gateway.query<{ name: string }>(
      'test.setup.constraints',
      'SHOW CONSTRAINTS YIELD name RETURN name',
    ))
      have.add(c.name);
    expect(expected.filter((n) => !have.has(n))).toEqual([]);
    expect(RETIRED_INDEXES.filter((n) => have.has(n))).toEqual([]);
    const admins = await gateway.query<{ n: number }>(
      'test.setup.admins',
      "MATCH (a:Account {role: 'admin'}) WHERE coalesce(a.disabled, false) = false RETURN count(a) AS n",
    );
    expect(admins[0]!.n).toBeGreaterThan(0);

    const again = setup(neo4jEnv());
    expect(again.status, again.out).toBe(0);
    expect(again.out).not.toContain('first admin account created');
    expect(again.out).toContain('Neo4j is ready for Lensgraph.');
  }, 300_000);

  it('fails at once, saying why, when Neo4j refuses the credentials', () => {
    const r = setup({ ...neo4jEnv(), NEO4J_PASSWORD: 'not-the-password' });
    expect(r.status).toBe(1);
    expect(r.out).toMatch(/setup failed: .*credentials/);
    expect(r.out).not.toContain('waiting for Neo4j');
  }, 120_000);
});
