/**
 * `npx tsx scripts/score-dev-set.ts [--evtx] [--sigma DIR[,DIR]] [--out DIR] [--data-dir DIR] [--keep]`
 *
 * Measures detection quality on the development set, end to end and reproducibly:
 *   1. starts a private pipeline stack (Redis + Neo4j + workers, no web app) in a fresh data directory,
 *      on free loopback ports, with its own queue prefix;
 *   2. ingests the 16 attack recordings of ../shared/data/sysmon-json (`npm run ingest -- --wait --json`),
 *      with --evtx also every labelled EVTX sample with Sysmon or Security 4688 events;
 *   3. exports the findings (`npm run findings -- --format jsonl --evtx-root ...`);
 *   4. scores them with ../shared/tools/score.py against ../shared/data/truth and evtx/labels.csv;
 *   5. stops everything it started (by PID), unless --keep (then it prints how to reach the stack and
 *      waits for Ctrl-C).
 *
 * Outputs in --out (default /tmp/lensgraph-score): findings.jsonl, ingest.json, score.txt, score.json.
 * Exit code: 0 when scored, 1 on failure.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, startStack, tsxCommand } from './run-stack';

const DATA = path.resolve(ROOT, '..', 'shared', 'data');
const TOOLS = path.resolve(ROOT, '..', 'shared', 'tools');
/** The sensors our parsers cover; the same filter is given to score.py. */
const EVTX_FILTER = 'Sysmon|Security:4688';

function run(argv: string[], env: Record<string, string>, stdoutFile?: string): Promise<string> {
  const [cmd, ...args] = argv;
  return new Promise((resolve, reject) => {
    const p = spawn(cmd!, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.setEncoding('utf8');
    p.stdout.on('data', (d: string) => (out += d));
    p.on('error', reject);
    p.on('exit', (code) => {
      if (stdoutFile) fs.writeFileSync(stdoutFile, out);
      if (code === 0) resolve(out);
      else reject(new Error(`${argv.slice(0, 4).join(' ')} ... exited with ${code}`));
    });
  });
}

/** EVTX samples whose labels list events of a channel we parse (the rows score.py will score). */
function evtxFiles(): string[] {
  const labels = fs.readFileSync(path.join(DATA, 'evtx', 'labels.csv'), 'utf8').split('\n').slice(1);
  const re = new RegExp(EVTX_FILTER);
  const files: string[] = [];
  for (const line of labels) {
    const rel = line.split(',')[0];
    if (!rel || !rel.endsWith('.evtx') || !re.test(line)) continue;
    const file = path.join(DATA, 'evtx', rel);
    if (fs.existsSync(file)) files.push(file);
  }
  return [...new Set(files)];
}

async function main(): Promise<number> {
  const { values: args } = parseArgs({
    options: {
      evtx: { type: 'boolean', default: false },
      sigma: { type: 'string' },
      out: { type: 'string', default: '/tmp/lensgraph-score' },
      'data-dir': { type: 'string' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (args.help) {
    console.log('usage: npx tsx scripts/score-dev-set.ts [--evtx] [--sigma DIR[,DIR]] [--out DIR] [--data-dir DIR] [--keep]');
    return 0;
  }
  const out = path.resolve(args.out);
  fs.mkdirSync(out, { recursive: true });
  const dataDir = args['data-dir'] ? path.resolve(args['data-dir']) : fs.mkdtempSync(path.join(os.tmpdir(), 'lensgraph-score-'));
  const sysmon = fs
    .readdirSync(path.join(DATA, 'sysmon-json'))
    .filter((f) => /\.jsonl(\.gz)?$/.test(f))
    .sort()
    .map((f) => path.join(DATA, 'sysmon-json', f));
  const files = [...sysmon, ...(args.evtx ? evtxFiles() : [])];

  const t0 = Date.now();
  console.error(`score-dev-set: stack in ${dataDir}`);
  const stack = await startStack({
    dataDir,
    web: false,
    workers: 1,
    queuePrefix: `score${process.pid}`,
    adminPassword: 'score-dev-set',
    env: args.sigma ? { LENSGRAPH_SIGMA_DIRS: args.sigma } : {},
    log: (l) => console.error(l),
  });
  try {
    // Plain environment for the CLIs: they prefer it over any runtime.json.
    const env = stack.env;
    console.error(`score-dev-set: ingesting ${files.length} files ...`);
    const ingest = await run([...tsxCommand('scripts/ingest.ts'), '--wait', '--json', ...files], env);
    fs.writeFileSync(path.join(out, 'ingest.json'), ingest.trim().split('\n').pop() ?? '');
    const findings = path.join(out, 'findings.jsonl');
    await run(
      [...tsxCommand('scripts/findings.ts'), '--format', 'jsonl', '--out', findings, '--evtx-root', path.join(DATA, 'evtx')],
      env,
    );
    const score = await run(
      [
        'python3',
        path.join(TOOLS, 'score.py'),
        '--truth',
        path.join(DATA, 'truth'),
        ...(args.evtx ? ['--evtx-labels', path.join(DATA, 'evtx', 'labels.csv'), '--evtx-filter', EVTX_FILTER] : []),
        '--detections',
        findings,
        '--json',
        path.join(out, 'score.json'),
      ],
      {},
      path.join(out, 'score.txt'),
    );
    console.log(score.trimEnd());
    console.error(`score-dev-set: done in ${((Date.now() - t0) / 1000).toFixed(0)} s; outputs in ${out}`);
    if (args.keep) {
      console.error(`score-dev-set: stack kept (Ctrl-C stops it). Environment for the CLIs:`);
      for (const k of ['REDIS_URL', 'NEO4J_URI', 'NEO4J_USER', 'NEO4J_PASSWORD', 'LENSGRAPH_QUEUE_PREFIX']) {
        console.error(`  export ${k}='${env[k] ?? ''}'`);
      }
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
    }
    return 0;
  } finally {
    await stack.stop();
    if (!args['data-dir']) fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
