/**
 * Starts the whole stack once for the browser tests (scripts/run-stack.ts: Redis, Neo4j, workers and
 * `next start`; it needs a prior `next build`) in a fresh temporary data directory with a known admin
 * password, records where it runs in e2e/.auth/stack.json, signs the admin in once into a storage
 * state, and returns the teardown that stops it (by PID, through the stack's own stop()).
 *
 * E2E_BASE_URL + E2E_ADMIN_PASSWORD: use an already running server instead.
 */
import { request } from '@playwright/test';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ADMIN_STATE, AUTH_DIR, STACK_FILE, type StackInfo } from './stack-info';

const ADMIN = 'admin';

async function startOwnStack(): Promise<{ info: StackInfo; stop: () => Promise<void> }> {
  const { startStack } = await import('../scripts/run-stack');
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'lensgraph-e2e-'));
  const adminPassword = randomBytes(15).toString('base64url');
  const t0 = Date.now();
  const stack = await startStack({
    dataDir,
    adminPassword,
    queuePrefix: `e2e-${randomBytes(4).toString('hex')}`,
    log: (line) => console.log(`[stack] ${line}`),
  });
  console.log(`[e2e] stack ready at ${stack.baseUrl} in ${Date.now() - t0} ms`);
  return {
    info: { baseUrl: stack.baseUrl, adminUsername: ADMIN, adminPassword },
    stop: async () => {
      await stack.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function signIn(info: StackInfo): Promise<void> {
  const api = await request.newContext({ baseURL: info.baseUrl });
  try {
    const res = await api.post('/api/graphql', {
      headers: { 'content-type': 'application/json', 'x-lensgraph-csrf': '1' },
      data: {
        query: 'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { username role } }',
        variables: { u: info.adminUsername, p: info.adminPassword },
      },
    });
    const body = (await res.json()) as { data?: { login?: { role?: string } }; errors?: unknown };
    if (body.data?.login?.role !== 'admin') throw new Error(`admin sign-in failed: ${JSON.stringify(body)}`);
    await api.storageState({ path: ADMIN_STATE });
  } finally {
    await api.dispose();
  }
}

export default async function globalSetup(): Promise<() => Promise<void>> {
  fs.mkdirSync(AUTH_DIR, { recursive: true, mode: 0o700 });
  let info: StackInfo;
  let stop = async () => {};
  const external = process.env.E2E_BASE_URL;
  if (external) {
    const adminPassword = process.env.E2E_ADMIN_PASSWORD;
    if (!adminPassword) throw new Error('E2E_ADMIN_PASSWORD is required with E2E_BASE_URL');
    info = { baseUrl: external.replace(/\/$/, ''), adminUsername: ADMIN, adminPassword };
  } else {
    ({ info, stop } = await startOwnStack());
  }
  fs.writeFileSync(STACK_FILE, JSON.stringify(info, null, 2), { mode: 0o600 });
  try {
    await signIn(info);
  } catch (err) {
    await stop();
    throw err;
  }
  return async () => {
    await stop();
    fs.rmSync(AUTH_DIR, { recursive: true, force: true });
  };
}
