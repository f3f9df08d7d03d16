/** Signing in and out, the app shell, and the pipeline status page. */
import { expect, test } from './fixtures';
import { screenshotPath } from './stack-info';

test.describe('sign-in', () => {
  test('the root sends a visitor to the sign-in page, which renders', async ({ page }) => {
    await page.goto('/');
    await expect(page).toHaveURL(/\/login$/);
    await expect(page.getByRole('heading', { name: 'Sign in to Lensgraph' })).toBeVisible();
    await expect(page.getByLabel('Username')).toBeFocused();
    await expect(page.getByLabel('Password')).toBeVisible();
    await expect(page.getByRole('button', { name: 'Sign in' })).toBeEnabled();
    await page.screenshot({ path: screenshotPath('login-page'), fullPage: true });
  });

  test('a wrong password shows an error and keeps the visitor on the sign-in page', async ({
    page,
    stack,
  }) => {
    await page.goto('/login');
    await page.getByLabel('Username').fill(stack.adminUsername);
    await page.getByLabel('Password').fill(`${stack.adminPassword}-wrong`);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const form = page.getByRole('form', { name: 'Sign in to Lensgraph' });
    await expect(form.getByRole('alert')).toHaveText('Wrong username or password.');
    await expect(page).toHaveURL(/\/login$/);
    await page.screenshot({ path: screenshotPath('login-wrong-password'), fullPage: true });
  });

  test('admin signs in with the keyboard, sees the shell and pipeline health, and signs out', async ({
    page,
    stack,
  }) => {
    await page.goto('/login');
    // Keyboard only: the form must be usable without a mouse.
    await page.keyboard.type(stack.adminUsername);
    await page.keyboard.press('Tab');
    await page.keyboard.type(stack.adminPassword);
    await page.keyboard.press('Enter');

    await expect(page).toHaveURL(/\/incidents$/);
    const nav = page.getByRole('navigation', { name: 'Main' });
    for (const name of ['Incidents', 'Upload', 'Pipeline', 'Admin']) {
      await expect(nav.getByRole('link', { name })).toBeVisible();
    }
    await expect(nav.getByRole('link', { name: 'Incidents' })).toHaveAttribute('aria-current', 'page');
    await expect(page.getByTestId('user-name')).toHaveText(stack.adminUsername);
    await expect(page.getByTestId('user-role')).toHaveText('admin');
    // Other spec files may already have produced lenses: the page shows either the list or its empty state.
    await expect(page.getByRole('heading', { name: 'Incidents', level: 1 })).toBeVisible();
    await page.screenshot({ path: screenshotPath('incidents-landing'), fullPage: true });

    await nav.getByRole('link', { name: 'Pipeline' }).click();
    await expect(page).toHaveURL(/\/pipeline$/);
    await expect(page.getByTestId('service-redis').locator('[data-status]')).toHaveAttribute(
      'data-status',
      'up',
    );
    await expect(page.getByTestId('service-neo4j').locator('[data-status]')).toHaveAttribute(
      'data-status',
      'up',
    );
    for (const stage of ['parse', 'identify', 'merge', 'analyze', 'engage']) {
      await expect(page.getByTestId(`stage-${stage}`)).toBeVisible();
    }
    await page.screenshot({ path: screenshotPath('pipeline'), fullPage: true });

    await page.getByRole('button', { name: 'Sign out' }).click();
    await expect(page).toHaveURL(/\/login/);
    await expect(page.getByRole('heading', { name: 'Sign in to Lensgraph' })).toBeVisible();
    // The session is gone on the server, not only in the browser.
    await page.goto('/incidents');
    await expect(page).toHaveURL(/\/login$/);
    await page.screenshot({ path: screenshotPath('signed-out'), fullPage: true });
  });

  test('the stored admin session opens the admin page', async ({ adminPage, stack }) => {
    await adminPage.goto('/admin');
    await expect(adminPage.getByRole('heading', { name: 'Admin' })).toBeVisible();
    await expect(adminPage.getByTestId(`account-${stack.adminUsername}`)).toBeVisible();
    await adminPage.screenshot({ path: screenshotPath('admin-accounts'), fullPage: true });
  });
});
