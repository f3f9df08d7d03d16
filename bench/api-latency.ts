/**
 * api-latency (heavy, only on request): latency of the GraphQL API the browser uses, on a big graph.
 *
 * A throw-away Redis + Neo4j (bench/lib/stack.ts, no workers) is filled with the 16 dev set files replayed
 * again and again, each round under its own replay tag (new host names, remapped GUIDs:
 * pipeline/stages/parse/replay.ts), through the pipeline's own graph builder, identity resolution and
 * merge writer, until the graph holds `targetNodes` nodes (default 1,000,000). Each file of each round also
 * gets hits on two of its processes through the real engage stage, so there are lenses to list.
 *
 * Then the API runs in-process (createServices + createYoga + yoga.fetch, as server/graphql tests do),
 * signed in as a viewer, and each query is sent `requests` times one after another (after a warm-up):
 *   lensList          lenses(first: 25), the incident queue's first page, by score
 *   lensListFiltered  lenses(filter: {status: [New]}, sort: lastActivity, first: 25)
 *   nodeExpansion     node(key) with risks, neighbour counts and lenses + neighbours(key, limit: 50),
 *                     on random processes (what one click on "expand" asks for)
 *   hubExpansion      the same on hosts (Asset nodes: every process of the host RUNS_ON it)
 *   search            search(text: <an image name>, limit: 25)
 * Reported: p50, p95, max (ms) per query. `npm run bench -- --only api` once registered in bench/run.ts,
 * or on its own: `npx tsx bench/api-latency.ts [--nodes N] [--requests N] [--files N] [--keep]`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Redis } from 'ioredis';
import type { NormalizedEvent } from '../domain/event';
import type { Logger } from '../lib/log';
import { GraphGateway } from '../lib/neo4j';
import { createRedis } from '../lib/redis';
import { hit, hitsJob, loadEvents, runEngage } from '../pipeline/engagement/test-support';
import { buildEvent } from '../pipeline/graph/build';
import { MemorySessionStore, resolveIdentities } from '../pipeline/identity';
import { ensureGraphSchema, mergeSubgraphs } from '../pipeline/merge';
import { createEngageStage } from '../pipeline/stages/engage/handler';
import { replayEvent } from '../pipeline/stages/parse/replay';
import { AccountRepository } from '../server/auth/account-repository';
import { hashPassword } from '../server/auth/password';
import { createYoga } from '../server/graphql/yoga';
import { createServices, type Services } from '../server/services';
import { devSetFiles } from './lib/data';
import { startBenchStack, type BenchStack } from './lib/stack';
import { percentile, round } from './lib/stats';

export interface ApiLatencyOptions {
  targetNodes: number;
  /** Measured requests per query (after `warmup` unmeasured ones). */
  requests: number;
  warmup?: number;
  keep: boolean;
  log: (line: string) => void;
  onStack?: (stop: () => Promise<void>) => void;
  /** Give up building the graph after this long (then measure what is there). Default 120 min. */
  buildTimeoutMs?: number;
  /** Only the first N dev set files per round (smoke runs). */
  maxFiles?: number;
}

export interface Latency {
  n: number;
  p50: number;
  p95: number;
  max: number;
}

export interface ApiLatencyResult {
  graph: { nodes: number; relationships: number; lenses: number; rounds: number; events: number; buildMs: number };
  targetNodes: number;
  latencyMs: Record<'lensList' | 'lensListFiltered' | 'nodeExpansion' | 'hubExpansion' | 'search', Latency>;
}

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {}, child: () => silent };

const LENS_LIST = `query($f: LensFilter, $s: LensSort) {
  lenses(filter: $f, sort: $s, first: 25) { total nextCursor lenses { id title score status hosts techniques updatedAt } }
}`;
const EXPAND = `query($key: ID!) {
  node(key: $key) {
    node { key kind label riskScore props }
    risks { key title score }
    neighbourGroups { edgeKind direction total }
    lenses { id title }
  }
  neighbours(key: $key, limit: 50) { total nextCursor nodes { key kind label riskScore } edges { kind from to count } }
}`;
const SEARCH = `query($text: String!) { search(text: $text, limit: 25) { key kind label } }`;

/** A uniform sample of at most `size` items of a stream (reservoir sampling, deterministic seed not needed). */
class Reservoir<T> {
  readonly items: T[] = [];
  private seen = 0;
  constructor(private readonly size: number) {}
  add(item: T): void {
    this.seen++;
    if (this.items.length < this.size) this.items.push(item);
    else {
      const j = Math.floor(Math.random() * this.seen);
      if (j < this.size) this.items[j] = item;
    }
  }
}

const summary = (ms: number[]): Latency => ({
  n: ms.length,
  p50: round(percentile(ms, 50), 1),
  p95: round(percentile(ms, 95), 1),
  max: round(Math.max(...ms), 1),
});

async function countGraph(gateway: GraphGateway): Promise<{ nodes: number; relationships: number; lenses: number }> {
  // Counts without a predicate come from Neo4j's count store: constant time at any size.
  const [n] = await gateway.query<{ nodes: number }>('bench.nodes', 'MATCH (n) RETURN count(n) AS nodes');
  const [r] = await gateway.query<{ rels: number }>('bench.rels', 'MATCH ()-[r]->() RETURN count(r) AS rels');
  const [l] = await gateway.query<{ lenses: number }>('bench.lenses', 'MATCH (l:Lens) RETURN count(l) AS lenses');
  return { nodes: Number(n?.nodes ?? 0), relationships: Number(r?.rels ?? 0), lenses: Number(l?.lenses ?? 0) };
}

async function signIn(services: Services, yoga: ReturnType<typeof createYoga>): Promise<string> {
  const accounts = new AccountRepository(services.gateway);
  await accounts.ensureSchema();
  const username = `bench-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('base64url');
  await accounts.create({ username, role: 'viewer', passwordHash: await hashPassword(password, { N: 1024, r: 8, p: 1 }) });
  const res = await yoga.fetch('http://localhost/api/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-lensgraph-csrf': '1' },
    body: JSON.stringify({
      query: 'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { username } }',
      variables: { u: username, p: password },
    }),
  });
  const cookie = res.headers
    .getSetCookie()
    .find((c) => c.startsWith('lg_session='))
    ?.split(';')[0];
  if (!cookie) throw new Error(`bench sign-in failed: ${await res.text()}`);
  return cookie;
}

export async function benchApiLatency(opts: ApiLatencyOptions): Promise<ApiLatencyResult> {
  let stack: BenchStack | undefined;
  let gateway: GraphGateway | undefined;
  let redis: Redis | undefined;
  let services: Services | undefined;
  try {
    stack = await startBenchStack({ workers: [], sigmaDirs: [], log: opts.log, keep: opts.keep });
    opts.onStack?.(stack.stop);
    const g = (gateway = new GraphGateway(stack.neo4j));
    redis = createRedis(stack.redisUrl, { connectionName: 'lensgraph-bench-api' });
    await ensureGraphSchema(g);

    // ------------------------------------------------------------------------------------ the graph
    const files = devSetFiles()
      .slice(0, opts.maxFiles ?? Infinity)
      .map((f) => ({ name: path.basename(f), events: loadEvents(path.basename(f)) }));
    const perRound = files.reduce((a, f) => a + f.events.length, 0);
    opts.log(`api-latency: ${files.length} files, ${perRound} events per round; building to ${opts.targetNodes} nodes`);
    const engage = createEngageStage(g);
    const processes = new Reservoir<string>(500);
    const assets = new Reservoir<string>(100);
    const images = new Reservoir<string>(100);
    const t0 = Date.now();
    const deadline = t0 + (opts.buildTimeoutMs ?? 120 * 60_000);
    let rounds = 0;
    let events = 0;
    let size = await countGraph(g);
    while (size.nodes < opts.targetNodes && Date.now() < deadline) {
      const tag = `b${randomBytes(4).toString('hex')}`;
      const store = new MemorySessionStore();
      for (const f of files) {
        const risky: string[] = [];
        for (let i = 0; i < f.events.length; i += 2000) {
          const facts = f.events.slice(i, i + 2000).map((e: NormalizedEvent) => buildEvent(replayEvent(e, tag), f.name));
          const r = await resolveIdentities(facts, store);
          await mergeSubgraphs(g, [{ id: `${tag}-${f.name}-${i}`, subgraph: r.subgraph, aliases: r.aliases, events: facts.length }]);
          for (const n of r.subgraph.nodes) {
            if (n.kind === 'Process' && typeof n.props.image === 'string') {
              processes.add(n.key);
              images.add(path.win32.basename(n.props.image));
              if (risky.length < 2) risky.push(n.key);
            } else if (n.kind === 'Asset') assets.add(n.key);
          }
        }
        events += f.events.length;
        if (risky.length > 0) {
          await runEngage(
            engage,
            hitsJob([hit({ detection: 'analyzer:bench', title: `Bench ${f.name}`, riskyNodes: risky, score: 60 })], randomUUID()),
          );
        }
      }
      rounds++;
      size = await countGraph(g);
      opts.log(`api-latency: round ${rounds}: ${size.nodes} nodes, ${size.relationships} relationships, ${size.lenses} lenses (${Math.round((Date.now() - t0) / 1000)} s)`);
    }
    const buildMs = Date.now() - t0;

    // ---------------------------------------------------------------------------------- the API
    services = createServices({ gateway: g, redis, prefix: stack.prefix, sessionTtlHours: 1, secureCookies: false, log: silent });
    const yoga = createYoga({ services });
    const cookie = await signIn(services, yoga);
    const call = async (query: string, variables: Record<string, unknown>): Promise<number> => {
      const t = performance.now();
      const res = await yoga.fetch('http://localhost/api/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-lensgraph-csrf': '1', cookie },
        body: JSON.stringify({ query, variables }),
      });
      const body = (await res.json()) as { errors?: unknown[] };
      const ms = performance.now() - t;
      if (body.errors) throw new Error(`api-latency: query failed: ${JSON.stringify(body.errors).slice(0, 500)}`);
      return ms;
    };
    const measure = async (name: string, vars: () => Record<string, unknown>, query: string): Promise<Latency> => {
      for (let i = 0; i < (opts.warmup ?? 10); i++) await call(query, vars());
      const ms: number[] = [];
      for (let i = 0; i < opts.requests; i++) ms.push(await call(query, vars()));
      const s = summary(ms);
      opts.log(`api-latency: ${name}: p50 ${s.p50} ms, p95 ${s.p95} ms, max ${s.max} ms (${s.n} requests)`);
      return s;
    };
    const pick = <T>(list: readonly T[]): T => list[Math.floor(Math.random() * list.length)]!;
    const latencyMs = {
      lensList: await measure('lens list', () => ({}), LENS_LIST),
      lensListFiltered: await measure('lens list (New, by activity)', () => ({ f: { status: ['New'] }, s: 'lastActivity' }), LENS_LIST),
      nodeExpansion: await measure('node expansion', () => ({ key: pick(processes.items) }), EXPAND),
      hubExpansion: await measure('host expansion', () => ({ key: pick(assets.items) }), EXPAND),
      search: await measure('search', () => ({ text: pick(images.items) }), SEARCH),
    };
    return { graph: { ...size, rounds, events, buildMs }, targetNodes: opts.targetNodes, latencyMs };
  } finally {
    await services?.close().catch(() => undefined);
    await redis?.quit().catch(() => undefined);
    await gateway?.close().catch(() => undefined);
    await stack?.stop();
  }
}

async function main(): Promise<void> {
  const arg = (name: string, fallback: number) => {
    const i = process.argv.indexOf(name);
    const v = i > 0 ? Number(process.argv[i + 1]) : fallback;
    if (!Number.isInteger(v) || v < 1) throw new Error(`${name}: expected a positive integer`);
    return v;
  };
  const log = (line: string) => process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
  const result = await benchApiLatency({
    targetNodes: arg('--nodes', 1_000_000),
    requests: arg('--requests', 200),
    ...(process.argv.includes('--files') ? { maxFiles: arg('--files', 16) } : {}),
    keep: process.argv.includes('--keep'),
    log,
  });
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
