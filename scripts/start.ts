/**
 * The stack in the foreground: prints where to go and how to log in, and stops everything it started on
 * Ctrl-C (SIGINT) or SIGTERM. Data stays in LENSGRAPH_DATA_DIR, so the next start reuses it.
 */
import { config } from '../lib/config';
import { clearRuntime, writeRuntime } from '../lib/runtime';
import { startStack } from './run-stack';
import { freePort, isPortFree } from './stack/ports';

async function main(): Promise<void> {
  const cfg = config();
  const stack = await startStack({
    dataDir: cfg.dataDir,
    webPort: cfg.PORT,
    // Redis's usual port when free (a system redis may hold it); any free loopback port otherwise.
    redisPort: (await isPortFree(6379)) ? 6379 : await freePort(),
    neo4jPort: 7687,
    log: (l) => console.log(l),
  });
  writeRuntime(cfg.dataDir, {
    redisUrl: stack.env.REDIS_URL!,
    neo4jUri: stack.env.NEO4J_URI!,
    neo4jUser: stack.env.NEO4J_USER!,
    neo4jPassword: stack.env.NEO4J_PASSWORD!,
    queuePrefix: stack.env.LENSGRAPH_QUEUE_PREFIX!,
    webUrl: stack.baseUrl,
    pid: process.pid,
  });
  const login = stack.adminPassword
    ? `  user: admin\n  password: ${stack.adminPassword}   (generated now and shown only once; keep it)`
    : stack.adminCreated
      ? '  user: admin, password: the value of LENSGRAPH_ADMIN_PASSWORD'
      : '  user: admin, with the password set on the first start (or any account an admin created)';
  console.log(`\nLensgraph is running at ${stack.baseUrl}\n${login}\nPress Ctrl-C to stop.\n`);

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping Lensgraph ...`);
    clearRuntime(cfg.dataDir);
    await stack.stop();
    console.log('Stopped.');
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
