/**
 * The engagement UI end to end on the whole stack: real Sysmon telemetry uploaded through the product's
 * upload page becomes a lens on Incidents (live); the analyst opens it, selects and expands a process,
 * reads its panel, removes one of the added nodes again, adds notes, closes it with a resolution and
 * reopens it; a viewer sees everything and can change nothing; an analyst triages several lenses at once
 * from the list.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
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

const DATA = path.resolve(E2E_DIR, '../../shared/data/sysmon-json');
// PsExec -s reg save of LSA secrets: 286 events, a four-process tree with network connections.
const REAL = path.join(DATA, 'cmd_psexec_lsa_secrets_dump.jsonl');
const HOST = 'WORKSTATION5';

async function gqlAs(page: Page, query: string, variables: Record<string, unknown> = {}) {
  const res = await page.request.post('/api/graphql', {
    headers: { 'content-type': 'application/json', 'x-lensgraph-csrf': '1' },
    data: { query, variables },
  });
  return (await res.json()) as { data?: Record<string, unknown> | null; errors?: Array<{ extensions?: { code?: string } }> };
}

/** The keys of the rows of the node list. */
async function nodeRowKeys(page: Page): Promise<string[]> {
  return page.getByTestId('node-row').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-node') ?? ''));
}

/** A CSS attribute-selector value for a node key (keys hold `:` and `\`). */
const attr = (value: string) => `"${value.replace(/["\\]/g, '\\$&')}"`;

/** Upload through the product's upload page; returns once the file is sent (the pipeline goes on). */
async function uploadThroughUi(page: Page, file: string): Promise<void> {
  await page.goto('/upload');
  await page.getByTestId('file-input').setInputFiles(file);
  const card = page.getByTestId('file-card').filter({ hasText: path.basename(file) }).last();
  await expect(card.getByTestId('file-state')).toHaveText('Uploaded', { timeout: 60_000 });
}

/** The lens list filtered to `text`; waits (live, with a reload as a fallback) for a row. */
async function openIncidents(page: Page, text: string) {
  await page.goto(`/incidents?q=${encodeURIComponent(text)}`);
  const rows = page.getByTestId('lens-row');
  await expect(async () => {
    if ((await rows.count()) === 0) {
      await page.waitForTimeout(20_000);
      if ((await rows.count()) === 0) await page.reload();
    }
    await expect(rows.first()).toBeVisible({ timeout: 5_000 });
  }).toPass({ timeout: 200_000 });
  return rows;
}

test.describe('engagement', () => {
  test.setTimeout(360_000);

  test('analyst works a lens from real telemetry: graph, panel, expand, notes, close, reopen', async ({
    adminPage: page,
  }) => {
    await uploadThroughUi(page, REAL);
    const rows = await openIncidents(page, HOST);
    await expect(page.getByTestId('lens-table')).toBeVisible();
    const first = rows.first();
    await expect(first.getByTestId('score-badge')).toBeVisible();
    await expect(first).toContainText(HOST);
    await shot(page, 'incidents-lenses');

    // Sorting is held in the URL.
    await page.getByTestId('sort-lastActivity').click();
    await expect(page).toHaveURL(/sort=lastActivity/);
    await page.getByTestId('sort-score').click();
    await expect(page).not.toHaveURL(/sort=/);

    await rows.first().getByTestId('lens-link').click();
    await expect(page).toHaveURL(/\/incidents\/eng%3A/);
    const engagement = page.getByTestId('engagement');
    await expect(engagement).toBeVisible();
    const lensUrl = new URL(page.url()).pathname;
    const graph = page.getByTestId('lens-graph');
    await expect(graph).not.toHaveAttribute('data-node-count', '0');
    const nodesBefore = Number(await graph.getAttribute('data-node-count'));
    await expect(page.getByTestId('timeline-entry').first()).toBeVisible();
    await shot(page, 'engagement');

    // The Risks tab names the node every risk sits on; a click opens that node in the graph.
    await page.getByTestId('tab-risks').click();
    const riskNodes = page.getByTestId('risk-node');
    await expect(riskNodes.first()).toBeVisible();
    expect(await riskNodes.count()).toBe(await page.locator('[data-testid="risks"] > li').count());
    const riskNodeLabel = (await riskNodes.first().textContent()) ?? '';
    await riskNodes.first().click();
    await expect(page.getByTestId('node-panel')).toBeVisible();
    const opened = new URL(page.url()).searchParams.get('node');
    expect(new URL(page.url()).searchParams.get('tab')).toBeNull();
    await expect(graph).toHaveAttribute('data-selected', opened!);
    const openedRow = page.locator(`[data-testid="node-row"][data-node=${attr(opened!)}]`);
    expect(riskNodeLabel.startsWith((await openedRow.getByTestId('node-select').textContent()) ?? '-')).toBe(true);

    // Select the riskiest process: the panel opens and the URL holds it.
    const processRow = page.locator('[data-testid="node-row"][data-kind="Process"]').first();
    const nodeKey = await processRow.getAttribute('data-node');
    expect(nodeKey).toBeTruthy();
    await processRow.getByTestId('node-select').click();
    await expect(page).toHaveURL(/[?&]node=/);
    expect(new URL(page.url()).searchParams.get('node')).toBe(nodeKey);
    await expect(graph).toHaveAttribute('data-selected', nodeKey!);
    const panel = page.getByTestId('node-panel');
    await expect(panel).toBeVisible();
    await expect(panel.getByTestId('node-props')).toBeVisible();
    await expect(panel.getByTestId('prop-command_line')).toBeVisible();
    await expect(panel.getByTestId('copy-button').first()).toBeVisible();
    // Sysmon's Hashes value: one digest per line, each with a Copy of its own.
    const hashes = panel.getByTestId('prop-hashes');
    await expect(hashes.locator('li', { hasText: 'SHA256' })).toHaveCount(1);
    expect(await hashes.getByTestId('copy-button').count()).toBe(await hashes.locator('li').count());
    // The selected node's timeline entries are highlighted.
    await expect(page.locator('[data-testid="timeline-entry"][data-active="true"]').first()).toBeVisible();

    // Expand: children or connections first, any group that adds something otherwise.
    const keysBefore = new Set(await nodeRowKeys(page));
    const groups = panel.getByTestId('neighbour-group');
    await expect(groups.first()).toBeVisible();
    const count = await groups.count();
    const order: number[] = [];
    for (let i = 0; i < count; i++) {
      const kind = await groups.nth(i).getAttribute('data-edge-kind');
      if (kind === 'PARENT_OF' || kind === 'CONNECTED_TO') order.unshift(i);
      else order.push(i);
    }
    let added = false;
    for (const i of order) {
      const group = groups.nth(i);
      await group.locator('button.group-toggle').click();
      const add = group.getByTestId('add-neighbours');
      await expect(add.or(group.getByText('None.'))).toBeVisible();
      if ((await add.count()) > 0 && (await add.isEnabled()) && /^Add \d+ to lens$/.test((await add.textContent()) ?? '')) {
        await add.click();
        await expect(group.getByText(/Added \d+ nodes? to the lens/)).toBeVisible();
        added = true;
        break;
      }
      await group.locator('button.group-toggle').click();
    }
    expect(added).toBe(true);
    await expect
      .poll(async () => Number(await graph.getAttribute('data-node-count')), { timeout: 20_000 })
      .toBeGreaterThan(nodesBefore);
    await shot(page, 'engagement-node-panel');

    // Remove from lens: one of the nodes just added goes again, after a confirmation.
    const addedKey = (await nodeRowKeys(page)).find((k) => !keysBefore.has(k) && k !== nodeKey);
    expect(addedKey).toBeTruthy();
    const addedRow = page.locator(`[data-testid="node-row"][data-node=${attr(addedKey!)}]`);
    const shownBeforeRemoval = Number(await graph.getAttribute('data-node-count'));
    await addedRow.getByTestId('node-select').click();
    await expect(panel).toHaveAttribute('data-node', addedKey!);
    await expect(panel).toContainText('· in this lens');
    await panel.getByTestId('remove-from-lens').click();
    const confirmRemoval = panel.getByTestId('remove-confirm');
    await expect(confirmRemoval).toContainText('from this lens?');
    await confirmRemoval.getByRole('button', { name: 'Cancel' }).click();
    await expect(confirmRemoval).toHaveCount(0);
    await expect(graph).toHaveAttribute('data-node-count', String(shownBeforeRemoval));
    await panel.getByTestId('remove-from-lens').click();
    await confirmRemoval.getByTestId('remove-confirm-yes').click();
    // Gone from the lens, the node list and the canvas; its panel closed.
    await expect(page.getByTestId('node-panel')).toHaveCount(0);
    await expect(addedRow).toHaveCount(0);
    await expect(graph).toHaveAttribute('data-node-count', String(shownBeforeRemoval - 1));
    await expect(graph).toHaveAttribute('data-graph-ready', String(shownBeforeRemoval - 1));
    await expect(graph).toHaveAttribute('data-selected', '');
    expect(new URL(page.url()).searchParams.get('node')).toBeNull();
    await processRow.getByTestId('node-select').click();
    await expect(panel).toHaveAttribute('data-node', nodeKey!);

    // Toolbar: zoom, fit, relayout; pin and hide the selected node, then show it again.
    for (const name of ['Zoom in', 'Zoom out', 'Fit', 'Relayout']) await page.getByRole('button', { name, exact: true }).click();
    const pin = page.getByTestId('pin-node');
    await pin.click();
    await expect(pin).toHaveAttribute('aria-pressed', 'true');
    await expect(pin).toHaveText('Unpin');
    const shown = Number(await graph.getAttribute('data-node-count'));
    await page.getByTestId('hide-node').click();
    await expect(graph).toHaveAttribute('data-node-count', String(shown - 1));
    await expect(page.getByTestId('node-panel')).toHaveCount(0);
    await page.getByRole('button', { name: 'Show 1 hidden' }).click();
    await expect(graph).toHaveAttribute('data-node-count', String(shown));
    await processRow.getByTestId('node-select').click();
    await expect(panel).toBeVisible();

    // A note on the node, rendered as markdown.
    const marker = `node-note-${randomBytes(3).toString('hex')}`;
    await panel.locator('#note-node').fill(`${marker} with **bold text**`);
    await panel.getByRole('button', { name: 'Add note' }).click();
    const note = panel.getByTestId('note').filter({ hasText: marker });
    await expect(note).toBeVisible();
    await expect(note.locator('.markdown strong')).toHaveText('bold text');

    // The link reproduces the view: same lens, same node panel (also through the /lenses/<id> alias).
    await page.goto(`${lensUrl.replace('/incidents/', '/lenses/')}?node=${encodeURIComponent(nodeKey!)}`);
    await expect(page).toHaveURL(new RegExp(`^[^?]*${lensUrl}\\?`));
    await expect(page.getByTestId('node-panel')).toHaveAttribute('data-node', nodeKey!);
    await expect(page.getByTestId('lens-graph')).toHaveAttribute('data-selected', nodeKey!);

    // A timeline entry selects its node.
    const entry = page.getByTestId('timeline-entry').last();
    const entryNode = await entry.getAttribute('data-node');
    await entry.click();
    await expect.poll(() => new URL(page.url()).searchParams.get('node')).toBe(entryNode);
    await expect(entry).toHaveAttribute('data-active', 'true');

    // Assign, tag, lifecycle: Investigate, Close with resolution, Reopen.
    const header = page.getByTestId('lens-header');
    await header.getByRole('button', { name: 'Assign to me' }).click();
    await expect(header.getByTestId('lens-assignee')).toContainText('admin');
    await header.getByRole('button', { name: 'Edit tags' }).click();
    await header.locator('#lens-tags').fill('e2e, lateral-movement');
    await header.getByRole('button', { name: 'Save' }).click();
    await expect(header.getByTestId('lens-tags')).toContainText('lateral-movement');

    const status = header.getByTestId('lens-status');
    if ((await status.textContent()) === 'Closed') {
      await header.getByRole('button', { name: 'Reopen' }).click();
      await expect(status).toHaveText('Investigating');
    }
    if ((await status.textContent()) === 'New') {
      await header.getByRole('button', { name: 'Investigate' }).click();
      await expect(status).toHaveText('Investigating');
    }
    await header.getByRole('button', { name: 'Close…' }).click();
    const dialog = page.getByTestId('close-dialog');
    await expect(dialog).toBeVisible();
    const submit = dialog.getByRole('button', { name: 'Close lens' });
    await expect(submit).toBeDisabled();
    await dialog.locator('#close-resolution').selectOption('Duplicate');
    await expect(dialog.locator('#close-duplicate')).toBeVisible();
    await dialog.locator('#close-resolution').selectOption('TruePositive');
    await expect(dialog.locator('#close-duplicate')).toHaveCount(0);
    await dialog.locator('#close-summary').fill('PsExec used to dump LSA secrets; host isolated.');
    await shot(page, 'engagement-close-dialog', false);
    await submit.click();
    await expect(dialog).toHaveCount(0);
    await expect(status).toHaveText('Closed');
    await expect(header.getByTestId('lens-resolution')).toContainText('TruePositive');
    await header.getByRole('button', { name: 'Reopen' }).click();
    await expect(status).toHaveText('Investigating');

    // Notes tab on the lens.
    await page.getByTestId('tab-notes').click();
    await expect(page).toHaveURL(/tab=notes/);
    const lensMarker = `lens-note-${randomBytes(3).toString('hex')}`;
    await page.locator('#note-lens').fill(`${lensMarker}\n\n- first\n- second`);
    await page.getByTestId('lens-note-form').getByRole('button', { name: 'Add note' }).click();
    const lensNote = page.getByTestId('lens-notes').getByTestId('note').filter({ hasText: lensMarker });
    await expect(lensNote).toBeVisible();
    await expect(lensNote.locator('li')).toHaveCount(2);

    // The author edits it; the note says it was edited (earlier versions are kept by the server).
    await lensNote.getByTestId('note-edit').click();
    const editForm = lensNote.getByTestId('note-edit-form');
    await editForm.locator('textarea').fill(`${lensMarker} revised\n\n- only`);
    await editForm.getByRole('button', { name: 'Save' }).click();
    await expect(lensNote.getByTestId('note-edit-form')).toHaveCount(0);
    await expect(lensNote).toContainText(`${lensMarker} revised`);
    await expect(lensNote.locator('li')).toHaveCount(1);
    await expect(lensNote).toContainText('edited');

    // Audit trail: the status changes are recorded.
    await page.getByTestId('tab-audit').click();
    const audit = page.getByTestId('audit-trail');
    await expect(audit).toBeVisible();
    await expect(audit.getByTestId('audit-entry').first()).toBeVisible();
    await expect(audit).toContainText('admin');
    // The key as the entry's JSON shows it (backslashes doubled).
    const removal = audit.getByTestId('audit-entry').filter({ hasText: 'scope.remove' });
    await expect(removal.filter({ hasText: JSON.stringify(addedKey).slice(1, -1) })).toHaveCount(1);
    await shot(page, 'engagement-audit');

    // Export: the markdown report downloads.
    const download = page.waitForEvent('download');
    await page.getByTestId('export-report').click();
    const report = await download;
    expect(report.suggestedFilename()).toMatch(/\.md$/);
    const reportPath = await report.path();
    expect(fs.readFileSync(reportPath, 'utf8').length).toBeGreaterThan(20);

    // Export: the graph as PNG.
    await page.getByTestId('tab-graph').click();
    await expect(page.getByTestId('lens-graph')).toBeVisible();
    const pngDownload = page.waitForEvent('download');
    await page.getByTestId('export-png').click();
    expect((await pngDownload).suggestedFilename()).toMatch(/\.png$/);
  });

  test('the pipeline page lists what the detection engines loaded', async ({ adminPage: page }) => {
    await page.goto('/pipeline');
    const analyzers = page.getByTestId('analyzer-report');
    await expect(analyzers).toBeVisible();
    await expect.poll(async () => Number(await analyzers.getByTestId('analyzers-loaded').textContent())).toBeGreaterThan(0);
    await expect(page.getByTestId('sigma-report')).toBeVisible();
    await shot(page, 'pipeline-rule-reports');
  });

  test('a viewer sees the lens and cannot change anything', async ({ adminPage, browser, stack }) => {
    const username = `viewer${randomBytes(3).toString('hex')}`;
    const password = randomBytes(12).toString('base64url');
    const created = await gqlAs(
      adminPage,
      'mutation($u: String!, $p: String!) { createUser(username: $u, role: viewer, password: $p) { username } }',
      { u: username, p: password },
    );
    expect(created.errors).toBeUndefined();

    const context = await browser.newContext({ baseURL: stack.baseUrl });
    const page = await context.newPage();
    try {
      const login = await gqlAs(
        page,
        'mutation($u: String!, $p: String!) { login(username: $u, password: $p) { role } }',
        { u: username, p: password },
      );
      expect(login.data?.login).toEqual({ role: 'viewer' });

      const rows = await openIncidents(page, HOST);
      // No triage of several lenses either.
      await expect(page.getByTestId('bulk-actions')).toHaveCount(0);
      await expect(page.getByTestId('lens-select')).toHaveCount(0);
      await rows.first().getByTestId('lens-link').click();
      const header = page.getByTestId('lens-header');
      await expect(header).toBeVisible();
      await expect(page.getByTestId('status-actions')).toHaveCount(0);
      await expect(header.getByRole('button')).toHaveCount(0);

      await page.locator('[data-testid="node-row"][data-kind="Process"]').first().getByTestId('node-select').click();
      const panel = page.getByTestId('node-panel');
      await expect(panel.getByTestId('node-props')).toBeVisible();
      await expect(panel.getByTestId('node-note-form')).toHaveCount(0);
      await expect(panel.locator('textarea')).toHaveCount(0);
      await expect(panel).toContainText('· in this lens');
      await expect(panel.getByTestId('remove-from-lens')).toHaveCount(0);
      // Expand only shows in the graph; nothing is added to the lens.
      await panel.getByTestId('neighbour-group').first().locator('button.group-toggle').click();
      const add = panel.getByTestId('add-neighbours');
      if ((await add.count()) > 0) await expect(add).toHaveText(/^Show \d+ in graph$/);

      await page.getByTestId('tab-notes').click();
      await expect(page.getByTestId('lens-note-form')).toHaveCount(0);
      await shot(page, 'engagement-viewer');

      // The server refuses too.
      const lensId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop() ?? '');
      const refused = await gqlAs(page, 'mutation($id: ID!) { assignLens(id: $id, assignee: "x") { id } }', {
        id: lensId,
      });
      expect(refused.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
      const refusedMany = await gqlAs(
        page,
        'mutation($ids: [ID!]!) { setLensesStatus(ids: $ids, status: Investigating) { id } }',
        { ids: [lensId] },
      );
      expect(refusedMany.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    } finally {
      await context.close();
    }
  });

  test('an analyst triages several lenses at once from the incident list', async ({ adminPage: page }) => {
    // Another attack on the same host, so the list holds more than one engagement even when this test runs
    // alone.
    await uploadThroughUi(page, path.join(DATA, 'cmd_lsass_memory_dumpert_syscalls.jsonl'));
    const rows = await openIncidents(page, HOST);
    await expect.poll(() => rows.count(), { timeout: 120_000 }).toBeGreaterThan(1);
    const n = await rows.count();

    await page.getByTestId('select-all').check();
    await expect(page.getByTestId('bulk-count')).toHaveText(`${n} lenses selected`);
    await page.getByTestId('bulk-assign-me').click();
    await expect(page.getByTestId('bulk-result')).toHaveText(`Assigned ${n} lenses.`);
    for (const row of await rows.all()) await expect(row.getByTestId('lens-assignee')).toHaveText('admin');

    // Lenses already under investigation are named as not changed; every one ends up Investigating.
    await page.getByTestId('select-all').check();
    await page.getByTestId('bulk-investigate').click();
    await expect(page.getByTestId('bulk-result')).toHaveText(/^Moved to Investigating \d+ lens/);
    for (const row of await rows.all()) await expect(row.getByTestId('lens-status')).toHaveText('Investigating');

    // Close the first one with a resolution and a summary.
    await page.getByTestId('select-all').uncheck();
    const first = rows.first();
    const firstId = await first.getAttribute('data-lens-id');
    await first.getByTestId('lens-select').check();
    await expect(page.getByTestId('bulk-count')).toHaveText('1 lens selected');
    await page.getByTestId('bulk-close').click();
    await page.getByTestId('bulk-resolution').selectOption('FalsePositive');
    await page.getByTestId('bulk-summary').fill('Red-team exercise, agreed in advance.');
    await page.getByTestId('bulk-close-submit').click();
    await expect(page.getByTestId('bulk-result')).toHaveText('Closed 1 lens.');
    const closedRow = page.locator(`[data-testid="lens-row"][data-lens-id=${attr(firstId!)}]`);
    await expect(closedRow.getByTestId('lens-status')).toHaveText('Closed');
    await shot(page, 'incidents-triage', false);

    // The lens says who closed it and why.
    await closedRow.getByTestId('lens-link').click();
    await expect(page.getByTestId('lens-header').getByTestId('lens-status')).toHaveText('Closed');
    await expect(page.getByTestId('lens-header')).toContainText('Red-team exercise, agreed in advance.');
    await page.getByTestId('tab-audit').click();
    const closing = page.getByTestId('audit-entry').filter({ hasText: 'status.close' }).first();
    await expect(closing).toContainText('admin');
    await expect(closing).toContainText('Red-team exercise, agreed in advance.');
  });
});
