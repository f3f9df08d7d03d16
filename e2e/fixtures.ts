/**
 * Test fixtures: `baseURL` points at the stack started by global-setup; `stack` carries the admin
 * credentials; `adminPage` is a page already signed in as admin (from the stored session).
 */
import { test as base, expect, type Page } from '@playwright/test';
import { ADMIN_STATE, readStackInfo, type StackInfo } from './stack-info';

export const test = base.extend<{ stack: StackInfo; adminPage: Page }>({
  // Playwright reads fixture dependencies from the destructuring pattern; this one has none.
  // eslint-disable-next-line no-empty-pattern
  stack: async ({}, use) => {
    await use(readStackInfo());
  },
  baseURL: async ({ stack }, use) => {
    await use(stack.baseUrl);
  },
  adminPage: async ({ browser, stack }, use) => {
    const context = await browser.newContext({ baseURL: stack.baseUrl, storageState: ADMIN_STATE });
    const page = await context.newPage();
    await use(page);
    await context.close();
  },
});

export { expect };
