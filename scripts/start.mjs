#!/usr/bin/env node
// `npm start` on a fresh clone: this file needs nothing but Node. It installs npm dependencies when they
// are missing, checks the system packages, builds the web app when its build is missing or stale, and then
// hands over to scripts/start.ts, which runs the stack until Ctrl-C.
import { spawnSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// Next.js would otherwise phone home on build and start; a security tool does not.
process.env.NEXT_TELEMETRY_DISABLED ??= '1';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);

function run(cmd, args, what) {
  console.log(`> ${what}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, env: process.env });
  if (r.status !== 0) {
    console.error(`\n${what} failed (exit ${r.status}).`);
    process.exit(r.status ?? 1);
  }
}

function newestMtime(dir, skip) {
  let newest = 0;
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop();
    let entries = [];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) {
        if (!skip.has(e.name)) stack.push(p);
      } else {
        newest = Math.max(newest, fs.statSync(p).mtimeMs);
      }
    }
  }
  return newest;
}

// 1. npm dependencies
const lock = path.join(root, 'node_modules', '.package-lock.json');
if (!fs.existsSync(lock) || fs.statSync(lock).mtimeMs < fs.statSync(path.join(root, 'package.json')).mtimeMs) {
  run('npm', ['install', '--no-audit', '--no-fund'], 'Installing npm dependencies');
}

// 2. System packages for the local services (only when no external ones are configured)
const needRedis = !process.env.REDIS_URL;
const needNeo4j = !process.env.NEO4J_URI;
if (needRedis || needNeo4j) {
  const what = [needRedis ? 'redis' : '', needNeo4j ? 'neo4j' : ''].filter(Boolean);
  run('bash', ['scripts/ensure-system.sh', ...what], `Checking system packages (${what.join(', ')})`);
}

// 3. Web build
const buildId = path.join(root, '.next', 'BUILD_ID');
const sources = ['app', 'components', 'server', 'domain', 'lib'].map((d) => newestMtime(path.join(root, d), new Set(['node_modules'])));
const builtAt = fs.existsSync(buildId) ? fs.statSync(buildId).mtimeMs : 0;
if (builtAt === 0 || Math.max(...sources) > builtAt) {
  run(process.execPath, [path.join(root, 'node_modules', 'next', 'dist', 'bin', 'next'), 'build'], 'Building the web app');
}

// 4. Run the stack
const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'scripts', 'start.ts')], {
  stdio: 'inherit',
  cwd: root,
  env: process.env,
});
// Ctrl-C reaches the whole foreground process group; the child shuts the stack down and exits.
process.on('SIGINT', () => {});
process.on('SIGTERM', () => child.kill('SIGTERM'));
child.on('exit', (code) => process.exit(code ?? 0));
