/**
 * The upload page end to end (whole stack: web, workers, Redis, Neo4j): real Sysmon telemetry sent from
 * the browser passes every pipeline stage and the summary appears; malformed records are listed, as
 * text, with their reasons.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { expect, test } from './fixtures';
import { E2E_DIR, screenshotPath } from './stack-info';

const DATA = path.resolve(E2E_DIR, '../../shared/data/sysmon-json');
// Not a file another spec uploads into the same stack: the same records twice write nothing new (each
// chunk is applied once), and this test asserts that the upload wrote nodes.
const REAL = path.join(DATA, 'cmd_bitsadmin_download_psh_script.jsonl');
const REAL_LINES = fs.readFileSync(REAL, 'utf8').split('\n').filter(Boolean);
const STAGES = ['parse', 'identify', 'merge', 'analyze', 'engage'];

test.describe('upload', () => {
  test.setTimeout(240_000);

  test('admin uploads a real Sysmon file and watches it pass every stage', async ({ adminPage: page }) => {
    await page.goto('/upload');
    await expect(page.getByRole('heading', { name: 'Upload telemetry' })).toBeVisible();
    await expect(page.getByTestId('dropzone')).toBeVisible();
    await page.screenshot({ path: screenshotPath('upload-empty'), fullPage: true });

    // Pipeline progress arrives over the GraphQL subscription (server-sent events).
    const stream = page.waitForResponse(
      (r) =>
        r.url().endsWith('/api/graphql') &&
        (r.headers()['content-type'] ?? '').startsWith('text/event-stream') &&
        (r.request().postData() ?? '').includes('uploadProgress'),
      { timeout: 60_000 },
    );
    await page.getByTestId('file-input').setInputFiles(REAL);
    const card = page.getByTestId('file-card').filter({ hasText: path.basename(REAL) });
    await expect(card).toBeVisible();
    await expect(card.getByTestId('file-state')).toHaveText('Uploaded', { timeout: 60_000 });
    await expect(card).toContainText(`${REAL_LINES.length} records`);

    for (const stage of STAGES) {
      await expect(card.getByTestId(`stage-progress-${stage}`)).toHaveAttribute('data-state', 'complete', {
        timeout: 180_000,
      });
    }
    const summary = card.getByTestId('upload-summary');
    await expect(summary).toBeVisible();
    await expect(card.getByTestId('upload-status')).toHaveText('Done');
    await expect(summary.getByTestId('summary-read')).toContainText(String(REAL_LINES.length));
    await expect(summary.getByTestId('summary-rejected')).toContainText('0');
    const nodes = await summary.getByTestId('summary-nodes').locator('dd').textContent();
    expect(Number(nodes?.replace(/,/g, ''))).toBeGreaterThan(0);
    expect((await stream).status()).toBe(200);
    await expect(card.getByTestId('rejected-records')).toHaveCount(0);
    await page.screenshot({ path: screenshotPath('upload-done'), fullPage: true });

    // The recent uploads list has it, done.
    const recent = page
      .getByTestId('recent-upload')
      .filter({ hasText: path.basename(REAL) })
      .first();
    await expect(recent.getByTestId('upload-status')).toHaveText('Done', { timeout: 15_000 });
  });

  test('malformed records are listed as text, chosen with the keyboard', async ({ adminPage: page }) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-e2e-upload-'));
    try {
      const file = path.join(dir, 'mixed-malformed.jsonl');
      const hostile = '<img src=x onerror="window.__lgXss=1">';
      const lines = [
        ...REAL_LINES.slice(0, 5),
        '{"EventID": 1, "Hostname": "TRUNC", "UtcTime": "2020-1',
        hostile,
        'plain garbage, not JSON',
      ];
      fs.writeFileSync(file, `${lines.join('\n')}\n`);

      await page.goto('/upload');
      const choose = page.getByRole('button', { name: 'Choose files…' });
      // Keyboard only: Tab to the button (skip link, nav links, sign-out, ...), Enter opens the picker.
      const chooser = page.waitForEvent('filechooser');
      for (let i = 0; i < 20; i++) {
        await page.keyboard.press('Tab');
        if (await choose.evaluate((el) => el === document.activeElement)) break;
      }
      await expect(choose).toBeFocused();
      await page.keyboard.press('Enter');
      await (await chooser).setFiles(file);

      const card = page.getByTestId('file-card').filter({ hasText: 'mixed-malformed.jsonl' });
      await expect(card.getByTestId('upload-summary')).toBeVisible({ timeout: 180_000 });
      await expect(card.getByTestId('summary-read')).toContainText('8');
      await expect(card.getByTestId('summary-rejected')).toContainText('3');
      const rejected = card.getByTestId('rejected-records');
      await expect(rejected.getByTestId('rejected-record')).toHaveCount(3);
      await expect(rejected).toContainText(hostile);
      await expect(rejected).toContainText('plain garbage, not JSON');
      // Shown as text: no element was made from it, and its script never ran.
      await expect(rejected.locator('img')).toHaveCount(0);
      expect(await page.evaluate(() => (window as unknown as { __lgXss?: number }).__lgXss)).toBeUndefined();
      await card.getByTestId('rejected-by-reason').locator('summary').click();
      await page.screenshot({ path: screenshotPath('upload-rejected'), fullPage: true });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
