/**
 * Raw records -> parse (with shipper clock offsets) -> build -> identity (Redis) -> merge (Neo4j), on a dev
 * set whose shipper wrote TimeCreated 4 h behind: the records in file order and shuffled, cut into chunks
 * of different sizes, give the same graph, and every Security 4688 process is its Sysmon process. Each run
 * owns a namespace (retag) and a Redis prefix.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkId } from '../../../domain/stages';
import type { GraphGateway } from '../../../lib/neo4j';
import { buildEvent } from '../../graph/build';
import { isSessionProcessKey } from '../../graph/keys';
import { RedisSessionStore } from '../../identity/redis-store';
import { resolveIdentities } from '../../identity/resolve';
import { gatewayFromEnv, newTag, readTagged, redisFromEnv, retag } from '../../merge/test-support';
import { ensureGraphSchema, mergeSubgraphs } from '../../merge/write';
import { SHARED_DATA } from '../../parsers/test-support';
import type { RawItem } from '../../payloads';
import { parseChunk } from './handler';
import { seededShuffle } from '../../../test/seeded-shuffle';

const UPLOAD = '1700000000000-00000000-0000-4000-8000-000000000000';

let gateway: GraphGateway;
let redis: Redis;

beforeAll(async () => {
  gateway = gatewayFromEnv();
  redis = redisFromEnv('clock-offset-int');
  await ensureGraphSchema(gateway);
});

afterAll(async () => {
  await redis.quit();
  await gateway.close();
});

async function ingest(tag: string, items: readonly RawItem[], size: number): Promise<number> {
  const store = new RedisSessionStore(redis, `t-${tag}-${randomBytes(3).toString('hex')}:id`);
  let corrected = 0;
  for (let i = 0, n = 0; i < items.length; i += size, n++) {
    const chunk = {
      chunk: chunkId(UPLOAD, n),
      source: 'dev',
      items: items.slice(i, i + size),
      digest: '0'.repeat(64),
    };
    const { events } = parseChunk(chunk);
    corrected += events.filter((e) => e.timeCorrection).length;
    const facts = events.map((e) => buildEvent(retag(e, tag), 'dev'));
    const r = await resolveIdentities(facts, store);
    await mergeSubgraphs(gateway, [{ id: `${tag}-${n}`, subgraph: r.subgraph, aliases: r.aliases }]);
  }
  return corrected;
}

describe('shipper clock offsets through identity and merge', () => {
  it('cmd_psexec_lsa_secrets_dump: 4688 processes are their Sysmon processes, in any order and cut', async () => {
    const items: RawItem[] = readFileSync(
      path.join(SHARED_DATA, 'sysmon-json/cmd_psexec_lsa_secrets_dump.jsonl'),
      'utf8',
    )
      .split('\n')
      .filter((l) => l.trim())
      .map((t, i) => ({ n: i + 1, f: 'jsonl', t }));
    const [ordered, shuffled, recut] = [newTag(), newTag(), newTag()];
    // the 4 Security 4688 (graph events) are moved back 4 h in every run
    expect(await ingest(ordered, items, 500)).toBe(4);
    expect(await ingest(shuffled, seededShuffle(items, 42), 50)).toBe(4);
    expect(await ingest(recut, seededShuffle(items, 7), 17)).toBe(4);

    const a = await readTagged(gateway, ordered, 'TAG');
    expect(await readTagged(gateway, shuffled, 'TAG')).toEqual(a);
    expect(await readTagged(gateway, recut, 'TAG')).toEqual(a);

    const procs = a.nodes.filter((n) => n.kind === 'Process');
    expect(procs.filter((p) => isSessionProcessKey(p.key) && p.props.create_time !== undefined)).toEqual([]);
    // the 4688 of reg.exe landed on the Sysmon process: it carries both sources' facts under the GUID key
    const reg = procs.filter((p) => String(p.props.command_line ?? '').includes('reg" save HKLM\\security'));
    expect(reg).toHaveLength(1);
    expect(reg[0]!.key).toMatch(/^Process:TAG-/);
  });
});
