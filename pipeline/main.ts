/**
 * The worker process: runs the stages named in LENSGRAPH_WORKER_STAGES (default: all), each through the
 * shared runner. Scale by starting more processes (docker compose --scale workers=N). Opens no port.
 *
 * Each stage talks to Redis over its own connections, logged in as that stage's ACL user when
 * LENSGRAPH_REDIS_USERS gives one (lib/redis-acl.ts, docs/security.md); with only REDIS_URL every stage
 * shares it. Stages that need Neo4j pause while it is down instead of spending their jobs' attempts; a
 * process running only stages that do not (parse, identify: NEO4J_STAGES) needs no Neo4j settings and opens
 * no driver.
 */
import type { Redis } from 'ioredis';
import { AppError } from '../domain/errors';
import type { StageName } from '../domain/stages';
import { config, ConfigError, workerSettings } from '../lib/config';
import { createLogger } from '../lib/log';
import { GraphGateway } from '../lib/neo4j';
import { createRedis } from '../lib/redis';
import { loadAnalyzerHost, type RunningHost } from './analyzers/host';
import { ensureEngagementSchema } from './engagement/repository';
import { ensureGraphSchemaOnce } from './merge';
import { StageRunner, type StageDefinition } from './runner';
import { loadRules } from './sigma';
import { createAnalyzeStage, type AnalyzerHost } from './stages/analyze/handler';
import { createEngageStage } from './stages/engage/handler';
import { createIdentifyStage } from './stages/identify/handler';
import { createMergeStage } from './stages/merge/handler';
import { parseStage } from './stages/parse/handler';

const log = createLogger({ proc: 'workers' });

async function main(): Promise<void> {
  const cfg = config();
  let settings;
  try {
    // Neo4j's settings only when a stage here uses it: parse and identify run without any.
    settings = workerSettings(cfg);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const { stages } = settings;

  // One pair of connections per distinct login: per stage with ACL users, one shared pair without.
  const pairs = new Map<string, { redis: Redis; connection: Redis }>();
  const connectionsFor = (stage: StageName) => {
    const url = settings.redisUrls[stage]!;
    let pair = pairs.get(url);
    if (!pair) {
      const name = cfg.LENSGRAPH_REDIS_USERS ? `lensgraph-${stage}` : 'lensgraph-workers';
      pair = {
        redis: createRedis(url, { connectionName: name }),
        connection: createRedis(url, { connectionName: `${name}-bull` }),
      };
      for (const c of [pair.redis, pair.connection]) {
        // ioredis reconnects by itself; say so once per change rather than on every failed attempt.
        let last = '';
        c.on('error', (err: Error) => {
          if (err.message !== last) log.warn('redis connection error', { stage, err: err.message });
          last = err.message;
        });
        c.on('ready', () => {
          if (last) log.info('redis connection back', { stage });
          last = '';
        });
      }
      pairs.set(url, pair);
    }
    return pair;
  };
  for (const stage of stages) connectionsFor(stage);
  // No driver at all without a stage that uses Neo4j (workerSettings gave no settings for one).
  const gateway = settings.neo4j ? new GraphGateway(settings.neo4j) : null;
  const graph = (): GraphGateway => {
    if (!gateway) throw new Error('no Neo4j settings for a stage that uses Neo4j (see NEO4J_STAGES)');
    return gateway;
  };
  const neo4jUp = () => graph().ping();

  // Every constraint and index, before the first job. Creating one clears Neo4j's whole plan cache, and
  // planning costs 0.2-1.5 s of CPU per statement: schema created lazily (engage's used to wait for its
  // first batch) made every statement planned before it be planned again (docs/benchmarks.md, e2e).
  // Once per gateway: the merge writer then does not run the statements again at its first write.
  if (gateway) {
    await retry(() => ensureGraphSchemaOnce(gateway), 'graph schema');
    await retry(() => ensureEngagementSchema(gateway, (msg, f) => log.warn(msg, f)), 'engagement schema');
  }

  const defs: StageDefinition<unknown, unknown>[] = [];
  for (const stage of stages) {
    switch (stage) {
      case 'parse':
        defs.push(parseStage as StageDefinition<unknown, unknown>);
        break;
      case 'identify': {
        let sigma;
        if (cfg.sigmaDirs.length > 0) {
          const t0 = Date.now();
          const { ruleset, report } = await loadRules(cfg.sigmaDirs);
          sigma = ruleset;
          log.info('sigma rules loaded', { loaded: report.loaded, skipped: report.skipped.length, ms: Date.now() - t0 });
        }
        defs.push(createIdentifyStage({ sigma }) as StageDefinition<unknown, unknown>);
        break;
      }
      case 'merge':
        defs.push({ ...createMergeStage(graph()), ready: neo4jUp } as StageDefinition<unknown, unknown>);
        break;
      case 'analyze': {
        const host = await loadAnalyzerHost(graph(), cfg.LENSGRAPH_ANALYZERS_DIR, log);
        // The host skips an analyzer that throws (one bad analyzer must not stop the others). When they
        // failed because Neo4j went away, that would silently lose this update's analysis: retry instead.
        const guarded: AnalyzerHost = {
          async run(changedKeys) {
            const hits = await host.run(changedKeys);
            const failed = (host as Partial<RunningHost>).lastRun?.failed ?? [];
            if (failed.length > 0 && !(await neo4jUp())) {
              throw new AppError('UNAVAILABLE', `Neo4j unavailable while ${failed.length} analyzer(s) ran`);
            }
            return hits;
          },
          // Console hosts and the like of what Sigma flagged (the stage calls it with Sigma's hits).
          ...(host.follow ? { follow: host.follow.bind(host) } : {}),
        };
        defs.push({ ...createAnalyzeStage(guarded), ready: neo4jUp } as StageDefinition<unknown, unknown>);
        break;
      }
      case 'engage':
        defs.push({ ...createEngageStage(graph()), ready: neo4jUp } as StageDefinition<unknown, unknown>);
        break;
    }
  }

  const runners = defs.map(
    (d) =>
      new StageRunner(d, {
        ...connectionsFor(d.name),
        prefix: cfg.LENSGRAPH_QUEUE_PREFIX,
        payloadTtlSeconds: cfg.LENSGRAPH_PAYLOAD_TTL_HOURS * 3600,
        lockDurationMs: cfg.LENSGRAPH_WORKER_LOCK_MS,
        log,
      }),
  );
  for (const r of runners) await r.start();
  log.info('workers ready', { stages });
  // A line the launcher waits for.
  process.stdout.write(`WORKERS READY ${stages.join(',')}\n`);

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping workers', { signal });
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    await Promise.allSettled(runners.map((r) => r.stop()));
    await gateway?.close().catch(() => undefined);
    for (const p of pairs.values()) {
      p.redis.disconnect();
      p.connection.disconnect();
    }
    process.exit(0);
  };
  process.on('SIGINT', () => void shutdown('SIGINT'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
}

async function retry<T>(fn: () => Promise<T>, what: string): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt >= 30) throw err;
      log.warn(`${what} not ready; retrying`, { attempt, err });
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

main().catch((err) => {
  log.error('worker process failed', { err });
  process.exit(1);
});
