/**
 * The console as a user meets it: `datalake local up` started as a user starts it, and Debian's
 * chromium driving its pages. In order: the datasets view; a broken file checked in the drop zone,
 * its errors on screen while the lake has received nothing; a valid and the broken file uploaded;
 * both followed to their terminal status in the files list without a reload; the rejected file's
 * report with each bad cell highlighted under its header; a query that reads the valid file's
 * rows; the valid file's name uploaded again with other rows, followed as its own ledger item (not
 * the earlier one the ledger already has). A screenshot of every view is kept in
 * reports/console/<view>.png.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { parse } from 'csv-parse/sync';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FileResponse, FilesResponse } from '../../lib/console/contract.ts';
import { brokenOrdersCsv } from '../../lib/samples/broken-orders.ts';
import { ORDERS_HEADER, orderRows } from '../../lib/samples/orders-generator.ts';
import { type Chromium, launchChromium } from './harness.ts';

/** A bound for each wait: the server's start synthesizes the CDK app, slow on a busy machine. */
const WAIT_MS = 60_000;
const SHOTS = resolve('reports/console');

/**
 * The broken file's mistakes as lib/samples/broken-orders.ts plants them: line, column, the header
 * cell it sits under, and the text of the bad cell ('' for the empty required customer).
 */
const PLANTED = [
  { line: 4, column: 'amount', header: 'amount', value: '12.345', rule: 'decimal_scale' },
  { line: 7, column: 'currency', header: 'currency', value: 'JPY', rule: 'enum' },
  { line: 10, column: 'ship_date', header: 'ship_date', value: '2023-02-29', rule: 'calendar_date' },
  { line: 13, column: 'customer', header: 'Customer Name', value: '', rule: 'not_null' },
];
/** And the row cut short: an error of the record, without a cell to highlight. */
const RAGGED_LINE = 16;

const GOOD_ROWS = 50;
/** Rows of the second file sent under good.csv's name. */
const AGAIN_ROWS = 60;

let up: ChildProcess;
let lake: string;
let files: string;
let consoleUrl: string;
let s3: S3Client;
let browser: Chromium;
let page: Page;
const output = { stdout: '', stderr: '' };

beforeAll(async () => {
  lake = await mkdtemp(join(tmpdir(), 'lake-console-'));
  files = await mkdtemp(join(tmpdir(), 'console-files-'));
  await writeFile(join(files, 'broken.csv'), brokenOrdersCsv());
  await writeFile(join(files, 'good.csv'), `${ORDERS_HEADER}${orderRows(9, 0, GOOD_ROWS)}`);
  await mkdir(join(files, 'again'));
  await writeFile(join(files, 'again', 'good.csv'), `${ORDERS_HEADER}${orderRows(10, 0, AGAIN_ROWS)}`);
  await mkdir(SHOTS, { recursive: true });
  up = spawn(process.execPath, ['bin/datalake.js', 'local', 'up', '--lake', lake], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  up.stdout!.on('data', (c: Buffer) => {
    output.stdout += c.toString('utf8');
  });
  up.stderr!.on('data', (c: Buffer) => {
    output.stderr += c.toString('utf8');
  });
  const deadline = Date.now() + WAIT_MS;
  let s3Endpoint: string | undefined;
  for (;;) {
    consoleUrl = /^console: (http:\/\/127\.0\.0\.1:\d+\/)$/m.exec(output.stdout)?.[1] ?? '';
    s3Endpoint = /^S3 endpoint: +(http:\/\/127\.0\.0\.1:\d+) /m.exec(output.stdout)?.[1];
    if (consoleUrl && s3Endpoint) break;
    if (Date.now() > deadline || up.exitCode !== null) {
      throw new Error(
        `local up did not print its console line\nstdout:\n${output.stdout}\nstderr:\n${output.stderr}`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  s3 = new S3Client({
    endpoint: s3Endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  browser = await launchChromium();
  page = await browser.context.newPage();
  page.setDefaultTimeout(WAIT_MS);
}, 2 * WAIT_MS);

afterAll(async () => {
  await browser?.close();
  s3?.destroy();
  if (up?.pid !== undefined && up.exitCode === null) {
    const exited = new Promise((r) => up.once('exit', r));
    try {
      process.kill(-up.pid, 'SIGKILL');
    } catch {
      // already gone
    }
    await exited;
  }
  await rm(lake, { recursive: true, force: true });
  await rm(files, { recursive: true, force: true });
});

/** A screenshot of the page as a reader sees it: no control focused (the skip link would cover the header). */
const shot = async (view: string) => {
  await page.evaluate('document.activeElement instanceof HTMLElement && document.activeElement.blur()');
  await page.screenshot({ path: join(SHOTS, `${view}.png`), fullPage: true });
};

/**
 * The focused element as `tag:name` (its label's text, its aria-label or its text) and its outline
 * style (the focus ring). A script string: the test's types are Node's, without the DOM.
 */
const focused = () =>
  page.evaluate<{ name: string; outline: string }>(`(() => {
    const el = document.activeElement;
    const label = el.labels?.[0]?.innerText ?? el.getAttribute('aria-label') ?? el.innerText;
    return { name: el.tagName.toLowerCase() + ':' + label.trim(), outline: getComputedStyle(el).outlineStyle };
  })()`);

/** Text of every cell of a table row, trimmed. */
const cellTexts = (row: ReturnType<Page['locator']>) => row.locator('td, th').allInnerTexts();

describe('the console in chromium against `datalake local up`', () => {
  it('says there is no sign-in, and lists each dataset with its rules', async () => {
    await page.goto(`${consoleUrl}#/datasets`);
    await expect
      .poll(() => page.getByRole('note').innerText())
      .toBe('Local lake: no sign-in. This console listens on 127.0.0.1 only.');
    const orders = page.locator('article', {
      has: page.getByRole('heading', { name: 'orders', exact: true }),
    });
    const customer = orders.locator('tr', { has: page.locator('th', { hasText: /^customer$/ }) });
    expect(await customer.locator('td').first().innerText()).toBe('Customer Name');
    expect(await customer.locator('ul.rules li').allInnerTexts()).toContain(
      'Required: an empty field is refused.',
    );
    await shot('datasets');
  });

  it('is usable from the keyboard: every control in reach, labelled, its focus visible', async () => {
    await page.goto(`${consoleUrl}#/upload`);
    await page.getByLabel('Dataset').waitFor();
    // A view opens with focus on its heading; Tab goes on to its controls, Shift+Tab back to the menu.
    expect((await focused()).name).toBe('h1:Check and upload a file');
    const walk = async (key: string, steps: number) => {
      const names: string[] = [];
      for (let i = 0; i < steps; i++) {
        await page.keyboard.press(key);
        const now = await focused();
        expect(now.outline, `${now.name} shows where the focus is`).not.toBe('none');
        names.push(now.name);
      }
      return names;
    };
    expect(await walk('Tab', 3)).toEqual([
      'select:Dataset',
      'a:rules of orders',
      'input:Choose a CSV file (.csv or .csv.gz)',
    ]);
    await page.locator('h1').focus();
    expect(await walk('Shift+Tab', 5)).toEqual([
      'a:Query',
      'a:Datasets',
      'a:Files',
      'a:Check and upload',
      'button:Skip to content',
    ]);
  });

  it('takes a file dropped on the drop zone', async () => {
    await page.goto(`${consoleUrl}#/upload`);
    await page.getByLabel('Dataset').waitFor();
    const dropped = await page.evaluateHandle(`(() => {
      const data = new DataTransfer();
      data.items.add(new File([${JSON.stringify(brokenOrdersCsv())}], 'dropped.csv', { type: 'text/csv' }));
      return data;
    })()`);
    await page.getByTestId('dropzone').dispatchEvent('drop', { dataTransfer: dropped });
    await expect
      .poll(() => page.getByTestId('verdict').innerText())
      .toMatch(/Not valid: 5 errors in dropped\.csv/);
  });

  it('checks a broken file in the drop zone and shows its errors before anything is sent', async () => {
    await page.goto(`${consoleUrl}#/upload`);
    await page.getByLabel('Dataset').selectOption('orders');
    await page.getByLabel('Choose a CSV file (.csv or .csv.gz)').setInputFiles(join(files, 'broken.csv'));
    await expect
      .poll(() => page.getByTestId('verdict').innerText())
      .toMatch(/^✗? ?Not valid: 5 errors in broken\.csv \(20 rows checked\)/);
    const rows = page.locator('table.errors > tbody > tr:first-child');
    const shown = await Promise.all((await rows.all()).map(cellTexts));
    expect(shown.map(([line, column, value, rule]) => ({ line: Number(line), column, value, rule }))).toEqual(
      [
        ...PLANTED.map((p) => ({
          line: p.line,
          column: p.column,
          value: p.value || '(empty)',
          rule: p.rule,
        })),
        { line: RAGGED_LINE, column: '—', value: '(none)', rule: 'ragged_row' },
      ],
    );
    await expect
      .poll(() => page.getByRole('button', { name: /^Upload anyway/ }).innerText())
      .toBe('Upload anyway — the lake will reject it and report its errors');
    await shot('upload');
    // Nothing reached the lake: its ledger is empty and so is the landing bucket.
    const ledger = (await (await fetch(`${consoleUrl}api/files`)).json()) as FilesResponse;
    expect(ledger.files).toEqual([]);
    const landing = await s3.send(new ListObjectsV2Command({ Bucket: 'landing' }));
    expect(landing.KeyCount ?? 0).toBe(0);
  });

  it('uploads a valid and the broken file, and shows both reach their terminal status', async () => {
    await page.getByRole('button', { name: /^Upload anyway/ }).click();
    await page.waitForURL(/#\/file\?key=orders%2Fbroken\.csv/);
    await page.goto(`${consoleUrl}#/upload`);
    await page.getByLabel('Choose a CSV file (.csv or .csv.gz)').setInputFiles(join(files, 'good.csv'));
    await expect
      .poll(() => page.getByTestId('verdict').innerText())
      .toMatch(new RegExp(`Valid: good\\.csv has ${GOOD_ROWS} rows and no errors`));
    await page.getByRole('button', { name: 'Upload good.csv to orders' }).click();
    await page.waitForURL(/#\/file\?key=orders%2Fgood\.csv/);
    // The list, opened at once, follows the files to their end by itself (no reload).
    await page.getByRole('link', { name: 'Files', exact: true }).click();
    const status = (key: string) => page.locator(`tr[data-key="${key}"] .status`);
    await expect
      .poll(() => status('orders/good.csv').innerText(), { timeout: WAIT_MS })
      .toBe('Curated — queryable');
    await expect
      .poll(() => status('orders/broken.csv').innerText(), { timeout: WAIT_MS })
      .toBe('Rejected — see errors');
    await shot('files');
  });

  it('opens the rejected file’s report and highlights each bad cell under its header', async () => {
    await page.getByRole('link', { name: 'orders/broken.csv' }).click();
    await expect.poll(() => page.locator('.file-status .status').innerText()).toBe('Rejected — see errors');
    await page.locator('mark.bad').first().waitFor();
    for (const planted of PLANTED) {
      const error = page.locator('table.errors > tbody.error', {
        has: page.locator('tr:first-child > td:first-child', { hasText: new RegExp(`^${planted.line}$`) }),
      });
      const record = error.locator('table.record');
      const marks = record.locator('mark.bad');
      expect(await marks.count(), `line ${planted.line}`).toBe(1);
      expect(await marks.locator('.value').innerText(), `line ${planted.line}`).toBe(planted.value);
      expect(await marks.getAttribute('title')).toBe('offending value');
      // The marked cell's position is its column's under the file's header.
      const cells = record.locator('tbody td');
      const at = await cells.evaluateAll((tds) =>
        tds.findIndex((td) => td.querySelector('mark.bad') !== null),
      );
      expect(await record.locator('thead th').nth(at).innerText(), `line ${planted.line}`).toBe(
        planted.header,
      );
    }
    // A record-level error (a row cut short) is shown with its record but nothing marked.
    const ragged = page.locator('table.errors > tbody.error', {
      has: page.locator('tr:first-child > td:first-child', { hasText: new RegExp(`^${RAGGED_LINE}$`) }),
    });
    expect(await ragged.locator('table.record').count()).toBe(1);
    expect(await ragged.locator('mark.bad').count()).toBe(0);
    await shot('file-rejected');
  });

  it('shows the curated file’s timeline', async () => {
    await page.goto(`${consoleUrl}#/file?key=${encodeURIComponent('orders/good.csv')}`);
    await expect
      .poll(() => page.locator('ol.timeline .status').allInnerTexts())
      .toEqual(['Received — checking', 'Valid — converting', 'Curated — queryable']);
    await shot('file-curated');
  });

  it('runs a query with Ctrl+Enter and reads the valid file’s rows', async () => {
    await page.getByRole('link', { name: 'Query', exact: true }).click();
    const sql = page.getByLabel(/^SQL/);
    await sql.fill('SELECT order_id, currency, amount FROM orders ORDER BY order_id');
    await sql.press('Control+Enter');
    const table = page.locator('table.results');
    await table.waitFor();
    expect(await table.locator('thead th').allInnerTexts()).toEqual(['order_id', 'currency', 'amount']);
    const shown = await Promise.all((await table.locator('tbody tr').all()).map(cellTexts));
    const expected = (
      parse(`${ORDERS_HEADER}${orderRows(9, 0, GOOD_ROWS)}`, { columns: true }) as Record<string, string>[]
    ).map((r) => [r.order_id, r.currency, r.amount]);
    expect(shown).toEqual(expected);
    expect(await page.getByTestId('query-facts').innerText()).toMatch(new RegExp(`^${GOOD_ROWS} rows`));
    await shot('query');
  });

  it('shows the engine’s message when a query fails', async () => {
    const sql = page.getByLabel(/^SQL/);
    await sql.fill('SELECT nope FROM orders');
    await page.getByRole('button', { name: 'Run' }).click();
    await expect.poll(() => page.getByRole('alert').innerText()).toMatch(/nope/);
  });

  it('follows a file sent again under the same name as its own upload, not the earlier one', async () => {
    const first = (await (
      await fetch(`${consoleUrl}api/file?key=${encodeURIComponent('orders/good.csv')}`)
    ).json()) as FileResponse;
    expect(first.file.status).toBe('CURATED');
    await page.goto(`${consoleUrl}#/upload`);
    await page
      .getByLabel('Choose a CSV file (.csv or .csv.gz)')
      .setInputFiles(join(files, 'again', 'good.csv'));
    await expect
      .poll(() => page.getByTestId('verdict').innerText())
      .toMatch(new RegExp(`Valid: good\\.csv has ${AGAIN_ROWS} rows and no errors`));
    await page.getByRole('button', { name: 'Upload good.csv to orders' }).click();
    await page.waitForURL(/#\/file\?key=orders%2Fgood\.csv&version=/);
    const version = new URLSearchParams(new URL(page.url()).hash.split('?')[1]).get('version');
    expect(version).toMatch(/^etag:[0-9a-f]{32}$/);
    expect(version).not.toBe(first.file.version);
    // From the first answer on, the page shows this upload or waits for it: never the earlier item.
    const facts = page.locator('dl.facts');
    const waiting = page.getByText('Uploaded. Waiting for the pipeline to receive it…');
    await expect.poll(async () => (await facts.count()) + (await waiting.count())).toBeGreaterThan(0);
    if ((await facts.count()) > 0) expect(await facts.locator('code').innerText()).toBe(version);
    await expect
      .poll(() => page.locator('.file-status .status').innerText(), { timeout: WAIT_MS })
      .toBe('Curated — queryable');
    expect(await facts.locator('code').innerText()).toBe(version);
    expect(await facts.innerText()).toContain(`Rows\n${AGAIN_ROWS}`);
    const newest = (await (
      await fetch(`${consoleUrl}api/file?key=${encodeURIComponent('orders/good.csv')}`)
    ).json()) as FileResponse;
    expect(newest.file.version).toBe(version);
    expect(newest.versions.map((v) => v.version)).toContain(first.file.version);
    await shot('file-uploaded-again');
  });
});
