/**
 * The worker process: runs the stages named in LENSGRAPH_WORKER_STAGES (default: all), each through the
 * shared runner. Scale by starting more processes (docker compose --scale workers=N). Opens no port.
 */
import { STAGES, type StageName } from '../domain/stages';
import { config, ConfigError, serviceSettings } from '../lib/config';
import { createLogger } from '../lib/log';
import { GraphGateway } from '../lib/neo4j';
import { createRedis } from '../lib/redis';
import { loadAnalyzerHost } from './analyzers/host';
import { ensureGraphSchema } from './merge';
import { StageRunner, type StageDefinition } from './runner';
import { loadRules } from './sigma';
import { createAnalyzeStage } from './stages/analyze/handler';
import { createEngageStage } from './stages/engage/handler';
import { createIdentifyStage } from './stages/identify/handler';
import { createMergeStage } from './stages/merge/handler';
import { parseStage } from './stages/parse/handler';

const log = createLogger({ proc: 'workers' });

async function main(): Promise<void> {
  const cfg = config();
  let services;
  try {
    services = serviceSettings(cfg);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  const wanted = (cfg.LENSGRAPH_WORKER_STAGES ?? STAGES.join(','))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = wanted.filter((s) => !(STAGES as readonly string[]).includes(s));
  if (unknown.length > 0) {
    console.error(`LENSGRAPH_WORKER_STAGES: unknown stage(s) ${unknown.join(', ')}; known: ${STAGES.join(', ')}`);
    process.exit(2);
  }
  const stages = wanted as StageName[];

  const redis = createRedis(services.redisUrl, { connectionName: 'lensgraph-workers' });
  const connection = createRedis(services.redisUrl, { connectionName: 'lensgraph-workers-bull' });
  const gateway = new GraphGateway(services.neo4j);

  if (stages.includes('merge') || stages.includes('engage')) {
    await retry(() => ensureGraphSchema(gateway), 'graph schema');
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
        defs.push(createMergeStage(gateway) as StageDefinition<unknown, unknown>);
        break;
      case 'analyze': {
        const host = await loadAnalyzerHost(gateway, cfg.LENSGRAPH_ANALYZERS_DIR, log);
        defs.push(createAnalyzeStage(host) as StageDefinition<unknown, unknown>);
        break;
      }
      case 'engage':
        defs.push(createEngageStage(gateway) as StageDefinition<unknown, unknown>);
        break;
    }
  }

  const runners = defs.map(
    (d) =>
      new StageRunner(d, {
        redis,
        connection,
        prefix: cfg.LENSGRAPH_QUEUE_PREFIX,
        payloadTtlSeconds: cfg.LENSGRAPH_PAYLOAD_TTL_HOURS * 3600,
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
    await gateway.close().catch(() => undefined);
    redis.disconnect();
    connection.disconnect();
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
