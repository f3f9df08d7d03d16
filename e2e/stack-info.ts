/** Where the stack under test runs and how to sign in: written by global-setup, read by tests. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const E2E_DIR = path.dirname(fileURLToPath(import.meta.url));
export const AUTH_DIR = path.join(E2E_DIR, '.auth');
export const STACK_FILE = path.join(AUTH_DIR, 'stack.json');
/** Storage state of a signed-in admin (cookie), for tests that do not test signing in. */
export const ADMIN_STATE = path.join(AUTH_DIR, 'admin.json');
export const SCREENSHOTS = path.join(E2E_DIR, 'screenshots');

export interface StackInfo {
  baseUrl: string;
  adminUsername: string;
  adminPassword: string;
}

export function readStackInfo(): StackInfo {
  return JSON.parse(fs.readFileSync(STACK_FILE, 'utf8')) as StackInfo;
}

export function screenshotPath(name: string): string {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  return path.join(SCREENSHOTS, `${name}.png`);
}
