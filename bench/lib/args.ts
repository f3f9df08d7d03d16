/** Command line of `npm run bench`. Pure: tested in args.test.ts. */
import { STAGES } from '../../domain/stages';

export const BENCHMARKS = ['parse', 'sigma', 'e2e', 'scale', 'api', 'ui', 'hostile'] as const;
export type BenchName = (typeof BENCHMARKS)[number];
/**
 * What a plain `npm run bench` runs (scale and api build 1M-event / 1M-node graphs; ui builds the web app
 * and drives a browser; hostile writes and reads inputs of hundreds of MiB and GiB of gzip: only on request).
 */
export const DEFAULT_BENCHMARKS: readonly BenchName[] = ['parse', 'sigma', 'e2e'];

export interface BenchArgs {
  only: BenchName[];
  quick: boolean;
  runs: number;
  warmup: number;
  /** One entry per worker process: its stages ('' = all). */
  workers: string[];
  chunkRecords: number;
  ceiling: boolean;
  sigma: boolean;
  keep: boolean;
  /** Worker processes write V8 CPU profiles into the kept data directory. */
  cpuProf: boolean;
  outDir: string;
  /** e2e: passes of the file (each under its own replay tag) before the measured one. */
  e2eWarmup: number;
  e2eTimeoutMin: number;
  scaleEvents: number;
  scaleWindow: number;
  scaleMinutes: number;
  apiNodes: number;
  apiRequests: number;
  uiNodes: number;
  help: boolean;
}

export const USAGE = `npm run bench -- [options]

  --only LIST          benchmarks to run, comma-separated: ${BENCHMARKS.join(', ')}
                       (default: ${DEFAULT_BENCHMARKS.join(', ')}; scale, api, ui and hostile only on request;
                       hostile: 200 MiB lines, 1M-deep JSON, billion laughs, GiB gzip bombs, broken EVTX
                       through the pipeline, peak RSS per process and input; quick: 16 MiB / 512 MiB)
  --quick              smaller inputs and fewer runs: a smoke run of the harness
  --runs N             measured runs of the CPU-bound benchmarks (default 5, quick 2); median reported
  --warmup N           unmeasured runs first of parse, sigma and ui (default 1)
  --workers N          worker processes per stage for e2e/scale/hostile, as npm start runs them (default 1)
  --worker-stages S    explicit layout instead: one process per ';'-separated group,
                       e.g. "parse,identify;merge,analyze,engage"
  --chunk-records N    raw records per ingested chunk (default 2000, as LENSGRAPH_CHUNK_RECORDS)
  --no-ceiling         e2e without the raw write ceiling
  --no-sigma           workers without Sigma rules (default: every rule of sigma/rules/windows)
  --e2e-warmup N       e2e: passes of the same file (new host names each) before the measured one, so
                       that it meets a JVM past its JIT warm-up, as a running installation would
                       (default 3; quick 1; 0: measure the first pass on a fresh Neo4j)
  --e2e-timeout-min N  give up waiting for the pipeline after N minutes (default 20)
  --scale-events N     scale: replay dev sets up to about N events (default 1000000; quick 100000)
  --scale-window N     scale: uploads in flight at once (default 4)
  --scale-minutes N    scale: stop starting new uploads after N minutes (default 30)
  --api-nodes N        api: grow the graph to about N nodes before measuring (default 1000000; quick 20000)
  --api-requests N     api: measured requests per query (default 200; quick 30)
  --ui-nodes N         ui: nodes in the engagement lens's scope (default 1000; quick 300); --runs page loads
  --keep               keep the temporary data directory (Redis, Neo4j, each worker's log)
  --cpu-prof           e2e/scale/hostile: worker processes write V8 CPU profiles (.cpuprofile) into
                       <data dir>/profiles; implies --keep
  --out DIR            results folder (default bench/results)
`;

/** The production layout (scripts/run-stack.ts): `n` processes of each stage. */
export function perStage(n: number): string[] {
  return STAGES.flatMap((stage) => Array.from({ length: n }, () => stage));
}

function intArg(name: string, v: string | undefined, min = 0): number {
  const n = Number(v);
  if (v === undefined || !Number.isInteger(n) || n < min)
    throw new Error(`${name}: expected an integer >= ${min}, got ${String(v)}`);
  return n;
}

export function parseArgs(argv: readonly string[]): BenchArgs {
  const a: BenchArgs = {
    only: [...DEFAULT_BENCHMARKS],
    quick: false,
    runs: -1,
    warmup: 1,
    workers: perStage(1),
    chunkRecords: 2000,
    ceiling: true,
    sigma: true,
    keep: false,
    cpuProf: false,
    outDir: 'bench/results',
    e2eWarmup: -1,
    e2eTimeoutMin: 20,
    scaleEvents: -1,
    scaleWindow: 4,
    scaleMinutes: 30,
    apiNodes: -1,
    apiRequests: -1,
    uiNodes: -1,
    help: false,
  };
  const args = [...argv];
  while (args.length > 0) {
    const raw = args.shift()!;
    const eq = raw.indexOf('=');
    const flag = raw.startsWith('--') && eq > 0 ? raw.slice(0, eq) : raw;
    const value = (): string | undefined =>
      raw.startsWith('--') && eq > 0 ? raw.slice(eq + 1) : args.shift();
    switch (flag) {
      case '--only': {
        const list = (value() ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        const unknown = list.filter((s) => !(BENCHMARKS as readonly string[]).includes(s));
        if (list.length === 0 || unknown.length > 0) {
          throw new Error(
            `--only: unknown benchmark(s) ${unknown.join(', ') || '(none given)'}; known: ${BENCHMARKS.join(', ')}`,
          );
        }
        a.only = BENCHMARKS.filter((b) => list.includes(b));
        break;
      }
      case '--quick':
        a.quick = true;
        break;
      case '--runs':
        a.runs = intArg('--runs', value(), 1);
        break;
      case '--warmup':
        a.warmup = intArg('--warmup', value(), 0);
        break;
      case '--workers':
        a.workers = perStage(intArg('--workers', value(), 1));
        break;
      case '--worker-stages': {
        const groups = (value() ?? '').split(';').map((g) => g.trim());
        if (groups.some((g) => g === '')) throw new Error('--worker-stages: empty group');
        a.workers = groups;
        break;
      }
      case '--chunk-records':
        a.chunkRecords = intArg('--chunk-records', value(), 1);
        break;
      case '--no-ceiling':
        a.ceiling = false;
        break;
      case '--no-sigma':
        a.sigma = false;
        break;
      case '--keep':
        a.keep = true;
        break;
      case '--cpu-prof':
        a.cpuProf = true;
        a.keep = true;
        break;
      case '--out':
        a.outDir = value() ?? a.outDir;
        break;
      case '--e2e-warmup':
        a.e2eWarmup = intArg('--e2e-warmup', value(), 0);
        break;
      case '--e2e-timeout-min':
        a.e2eTimeoutMin = intArg('--e2e-timeout-min', value(), 1);
        break;
      case '--scale-events':
        a.scaleEvents = intArg('--scale-events', value(), 1);
        break;
      case '--scale-window':
        a.scaleWindow = intArg('--scale-window', value(), 1);
        break;
      case '--scale-minutes':
        a.scaleMinutes = intArg('--scale-minutes', value(), 1);
        break;
      case '--api-nodes':
        a.apiNodes = intArg('--api-nodes', value(), 1);
        break;
      case '--api-requests':
        a.apiRequests = intArg('--api-requests', value(), 1);
        break;
      case '--ui-nodes':
        a.uiNodes = intArg('--ui-nodes', value(), 1);
        break;
      case '--help':
      case '-h':
        a.help = true;
        break;
      default:
        throw new Error(`unknown option ${raw}\n\n${USAGE}`);
    }
  }
  if (a.runs < 0) a.runs = a.quick ? 2 : 5;
  if (a.e2eWarmup < 0) a.e2eWarmup = a.quick ? 1 : 3;
  if (a.scaleEvents < 0) a.scaleEvents = a.quick ? 100_000 : 1_000_000;
  if (a.apiNodes < 0) a.apiNodes = a.quick ? 20_000 : 1_000_000;
  if (a.apiRequests < 0) a.apiRequests = a.quick ? 30 : 200;
  if (a.uiNodes < 0) a.uiNodes = a.quick ? 300 : 1000;
  return a;
}
