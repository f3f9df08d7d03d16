/**
 * Helpers for the engagement integration tests: real development-set events replayed under a tag of
 * their own (hosts `<HOST>-<tag>`, GUIDs remapped; see pipeline/stages/parse/replay.ts), built and merged
 * into Neo4j with the pipeline's own modules, and hits handed to the engage stage as the runner would.
 */
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Hit } from '../../domain/detection';
import type { NormalizedEvent } from '../../domain/event';
import { createLogger } from '../../lib/log';
import type { GraphGateway } from '../../lib/neo4j';
import type { Uploads } from '../../lib/uploads';
import { buildEvent } from '../graph/build';
import { MemorySessionStore, resolveIdentities } from '../identity';
import { mergeSubgraphs } from '../merge';
import { normalizeRecord } from '../parsers';
import type { HitsPayload } from '../payloads';
import type { StageContext, StageDefinition, StageInput } from '../runner';
import { replayEvent, replayGuid, replayHost } from '../stages/parse/replay';

export const DATA = path.resolve(import.meta.dirname, '../../../shared/data/sysmon-json');

/** A replay tag: letters and digits only (RawChunk.replay), unique per test. */
export function newReplayTag(): string {
  return `e${randomBytes(4).toString('hex')}`;
}

export function loadEvents(file: string): NormalizedEvent[] {
  const buf = readFileSync(path.join(DATA, file));
  const text = file.endsWith('.gz') ? gunzipSync(buf).toString('utf8') : buf.toString('utf8');
  const out: NormalizedEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const r = normalizeRecord(JSON.parse(line));
    if (r.kind === 'event') out.push(r.event);
  }
  return out;
}

/** Events through graph building, identity and merge, as the identify and merge stages do. */
export async function buildGraph(
  gateway: GraphGateway,
  tag: string,
  events: readonly NormalizedEvent[],
  origin: string,
  store = new MemorySessionStore(),
  chunk = 500,
): Promise<void> {
  for (let i = 0, n = 0; i < events.length; i += chunk, n++) {
    const facts = events.slice(i, i + chunk).map((e) => buildEvent(replayEvent(e, tag), origin));
    const r = await resolveIdentities(facts, store);
    await mergeSubgraphs(gateway, [{ id: `${tag}-${origin}-${randomUUID()}`, subgraph: r.subgraph, aliases: r.aliases, events: facts.length }]);
  }
}

/** Key of a Sysmon process of the dev set (its GUID as written) in the replay `tag`. */
export function processKey(guid: string, tag: string): string {
  return `Process:${replayGuid(guid.replace(/[{}]/g, '').toUpperCase(), tag)}`;
}

/** Asset short name of a dev-set host in the replay `tag`. */
export function hostOf(host: string, tag: string): string {
  return replayHost(host, tag).split('.')[0]!.toUpperCase();
}

export function hit(over: Partial<Hit> & Pick<Hit, 'riskyNodes'>): Hit {
  return {
    detection: 'analyzer:test',
    source: 'analyzer',
    title: 'Test detection',
    score: 70,
    techniques: [],
    summary: 'test',
    contextNodes: [],
    time: Date.UTC(2020, 9, 19, 7, 30, 47),
    ...over,
  };
}

export function digestOf(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

const uploadId = () => `${Date.now()}-${randomUUID()}`;

/** A HitsPayload job as the runner hands it over (one chunk, a digest of its own unless given). */
export function hitsJob(hits: Hit[], digest = digestOf(randomUUID())): StageInput<HitsPayload> {
  const chunk = `${uploadId()}/0`;
  return {
    jobId: randomUUID(),
    key: `${Date.now()}-${randomUUID()}`,
    envelope: { traceId: randomUUID(), chunks: [chunk], createdAt: Date.now(), payloadKeys: [`${Date.now()}-${randomUUID()}`] },
    payload: { parts: [{ chunk, digest, hits }] },
  };
}

/** A stage context that records findings nowhere (the engage stage's own work is in Neo4j). */
export function quietContext(): StageContext {
  const uploads = { recordFindings: async () => {} } as unknown as Uploads;
  return { log: createLogger({ test: 'engage' }, 'error'), uploads, redis: undefined as never, prefix: 'test' };
}

export async function runEngage(stage: StageDefinition<HitsPayload, null>, ...jobs: StageInput<HitsPayload>[]): Promise<void> {
  await stage.handle(jobs, quietContext());
}
