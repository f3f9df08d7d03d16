/**
 * `npm run setup`: prepares the Neo4j of NEO4J_URI for Lensgraph and exits: account and token constraints,
 * the first admin, the graph and engagement schema (scripts/stack/database.ts). docker-compose runs it as
 * its one-shot `setup` service, and the web app and the Neo4j stages start only once it has succeeded.
 * `npm start` does the same itself. Safe to run again: it only adds what is missing, and it never resets
 * an existing admin's password.
 */
import { isAppError } from '../domain/errors';
import { config } from '../lib/config';
import { GraphGateway } from '../lib/neo4j';
import { setupDatabase } from './stack/database';

/** How long to wait for Neo4j to answer: its port opens well before its databases are up. */
const WAIT_MS = 180_000;

/** Neo4j not reachable yet (connection refused, database starting): worth waiting for. */
function notUpYet(err: unknown): boolean {
  return isAppError(err) && err.code === 'UNAVAILABLE' && err.details?.cause !== undefined;
}

async function waitForNeo4j(gateway: GraphGateway): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      await gateway.query('setup.ping', 'RETURN 1 AS ok');
      return;
    } catch (err) {
      if (!notUpYet(err) || Date.now() > deadline) throw err;
      if (attempt === 1) console.log('waiting for Neo4j ...');
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
}

async function main(): Promise<void> {
  const cfg = config();
  if (!cfg.NEO4J_URI) {
    console.error('NEO4J_URI: required (the Neo4j to prepare)');
    process.exit(2);
  }
  const gateway = new GraphGateway({
    uri: cfg.NEO4J_URI,
    user: cfg.NEO4J_USER,
    password: cfg.NEO4J_PASSWORD ?? '',
    database: cfg.NEO4J_DATABASE,
  });
  try {
    await waitForNeo4j(gateway);
    const setup = await setupDatabase(gateway, cfg.LENSGRAPH_ADMIN_PASSWORD, (line) => console.log(line));
    if (setup.adminPassword)
      console.log(
        `first admin account created: user admin, password ${setup.adminPassword}\n` +
          '(generated now and shown only once: keep it, or set LENSGRAPH_ADMIN_PASSWORD before the first start)',
      );
    else if (setup.adminCreated)
      console.log('first admin account created: user admin, password LENSGRAPH_ADMIN_PASSWORD');
    console.log('Neo4j is ready for Lensgraph.');
  } finally {
    await gateway.close();
  }
}

main().catch((err: unknown) => {
  console.error(`setup failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
