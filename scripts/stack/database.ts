/**
 * Everything Neo4j needs before the first process uses it: the account and API-token constraints and the
 * first admin (server/auth/bootstrap.ts), the graph schema (constraints, indexes, the search index), the
 * engagement schema, and the rescoring of lenses an older score formula scored (pipeline/engagement/engage.ts
 * rescoreLenses; nothing on a new database). One process does it before the web app and the workers start (`npm start`, and
 * docker-compose's one-shot `setup` service): the workers still make sure of the schema, but then find
 * everything in place, instead of several of them creating the same constraints at once (which Neo4j
 * answers with transient errors and, once in a while, a stall until db.awaitIndexes times out).
 */
import type { GraphGateway } from '../../lib/neo4j';
import { rescoreLenses } from '../../pipeline/engagement/engage';
import { ensureEngagementSchema } from '../../pipeline/engagement/repository';
import { ensureGraphSchema } from '../../pipeline/merge';
import { ensureSchemaAndAdmin } from '../../server/auth/bootstrap';

export interface DatabaseSetup {
  /** True when this call created the first admin account. */
  adminCreated: boolean;
  /** The generated admin password, when one was generated (shown once, stored only as a hash). */
  adminPassword?: string;
}

export async function setupDatabase(
  gateway: GraphGateway,
  adminPassword: string | undefined,
  log: (line: string) => void,
): Promise<DatabaseSetup> {
  const admin = await ensureSchemaAndAdmin(gateway, adminPassword);
  await ensureGraphSchema(gateway);
  await ensureEngagementSchema(gateway, (msg, f) =>
    log(`${msg}: ${String(f.stmt)} (${f.err instanceof Error ? f.err.message : String(f.err)})`),
  );
  const rescored = await rescoreLenses(gateway);
  if (rescored > 0)
    log(`rescored ${rescored} lenses with the current score formula (docs/engagements.md, Score)`);
  return { adminCreated: admin.created, ...(admin.password ? { adminPassword: admin.password } : {}) };
}
