/**
 * The console's drop zone checks a file with the pipeline's own validator core, bundled for the
 * browser (lib/console/web-build.ts: the `buffer` package for Node's Buffer, a TextDecoder for
 * isUtf8). Proof that it is the same core: the built worker, in Debian's chromium, reads the
 * conformance corpus and generated files (many chunks, gzip, invalid UTF-8, UTF-16, CRLF, broken
 * rows past the listed errors) and must give Node's `validateCsv` verdict to the letter: validity,
 * rows, bytes, every count and every listed error; the errors it streams while reading are the
 * listed ones and no more, with the count of all; and its SHA-256 is node:crypto's.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebSync } from '../../lib/console/web-build.ts';
import { loadDatasets } from '../../lib/datasets/load.ts';
import { type Dataset, parseDataset } from '../../lib/datasets/model.ts';
import { ORDERS_HEADER, orderRows } from '../../lib/samples/orders-generator.ts';
import type { ValidationError, ValidationResult } from '../../lib/validation/csv-validator.ts';
import { validateCsv } from '../../lib/validation/validate-csv.ts';
import { loadCorpus, sourceBytes } from '../conformance/corpus.ts';
import {
  type Chromium,
  checkInPage,
  HARNESS_PAGE,
  launchChromium,
  type PageVerdict,
  serveStatic,
} from './harness.ts';

const MAX_ERRORS = 50;

/** One file for both validators. */
interface Sample {
  readonly name: string;
  readonly bytes: Buffer;
  readonly dataset: Dataset;
}

let browser: Chromium;
let server: Awaited<ReturnType<typeof serveStatic>>;
let page: Page;
let buildDir: string;

beforeAll(async () => {
  buildDir = await mkdtemp(join(tmpdir(), 'web-build-'));
  buildWebSync(buildDir);
  server = await serveStatic(buildDir, { '/harness.html': HARNESS_PAGE });
  browser = await launchChromium();
  page = await browser.context.newPage();
  await page.goto(`${server.url}/harness.html`);
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await rm(buildDir, { recursive: true, force: true });
});

/** Validates every sample in the page's worker (one page, one worker a file). */
function inBrowser(samples: readonly Sample[]): Promise<PageVerdict[]> {
  return checkInPage(
    page,
    samples.map((s) => ({
      file: { base64: s.bytes.toString('base64') },
      dataset: s.dataset,
      maxErrors: MAX_ERRORS,
    })),
  );
}

async function inNode(sample: Sample) {
  const all: ValidationError[] = [];
  const run = await validateCsv(Readable.from([sample.bytes]), sample.dataset, {
    maxErrors: MAX_ERRORS,
    onError: (e) => all.push(e),
  });
  return { run, all };
}

/** The verdict's fields both sides must agree on. */
function verdictOf(r: ValidationResult) {
  return {
    valid: r.valid,
    rows: r.rows,
    bytes: r.bytes,
    compressed: r.compressed,
    errorCount: r.errorCount,
    errors: r.errors,
    errorsByColumn: r.errorsByColumn,
    errorsByRule: r.errorsByRule,
    recordSpansLines: r.recordSpansLines,
  };
}

async function expectSameVerdicts(samples: readonly Sample[]): Promise<void> {
  const browserVerdicts = await inBrowser(samples);
  for (const [i, sample] of samples.entries()) {
    const { run, all } = await inNode(sample);
    const b = browserVerdicts[i]!;
    expect(verdictOf(b.result), sample.name).toEqual(verdictOf(run));
    expect(b.csvBytes, sample.name).toBe(run.csvBytes);
    // The errors streamed while reading are the listed ones, in order, however many the file has
    // (a broken 1 GB file has millions); the rest are counted.
    expect(b.streamed, sample.name).toEqual(all.slice(0, MAX_ERRORS));
    expect(b.streamedCount, sample.name).toBe(run.errorCount);
    expect(b.sha256, sample.name).toBe(createHash('sha256').update(sample.bytes).digest('base64'));
  }
}

describe('the validator in the browser gives Node’s verdicts', () => {
  it('on every case of the conformance corpus', async () => {
    const samples = loadCorpus().map((c) => ({
      name: c.name,
      bytes: sourceBytes(c),
      dataset: parseDataset(c.dataset, `${c.name}.json`),
    }));
    expect(samples.length).toBeGreaterThan(40);
    expect(samples.some((s) => s.bytes[0] === 0x1f)).toBe(true); // a gzip case is among them
    await expectSameVerdicts(samples);
  });

  it('on generated files of many chunks: valid, broken past the error list, gzip, CRLF, bad UTF-8, UTF-16', async () => {
    const orders = (await loadDatasets()).get('orders')!;
    const valid = `${ORDERS_HEADER}${orderRows(11, 0, 20_000)}`;
    // Every 97th row loses its amount's format, every 389th row a field: far more than MAX_ERRORS.
    const broken = valid
      .split('\n')
      .map((line, i) => {
        if (i === 0 || line === '') return line;
        if (i % 389 === 0) return line.slice(0, line.lastIndexOf(','));
        if (i % 97 === 0) return line.replace(/,(\d+)\.(\d\d),(USD|EUR|GBP),/, ',$1.$2x,$3,');
        return line;
      })
      .join('\n');
    const badUtf8 = Buffer.concat([
      Buffer.from(`${ORDERS_HEADER}${orderRows(3, 0, 3000)}`),
      Buffer.from('1,"caf\xe9 ', 'latin1'),
      Buffer.from(`x",AB-1,1,1.00,USD,,true,2024-01-01T00:00:00Z,\n${orderRows(3, 3001, 6000)}`),
    ]);
    const samples: Sample[] = [
      { name: 'valid orders', bytes: Buffer.from(valid), dataset: orders },
      { name: 'broken orders', bytes: Buffer.from(broken), dataset: orders },
      { name: 'broken orders, gzip', bytes: gzipSync(Buffer.from(broken)), dataset: orders },
      {
        name: 'CRLF orders with a BOM',
        bytes: Buffer.from(`\ufeff${valid.replace(/\n/g, '\r\n')}`),
        dataset: orders,
      },
      { name: 'invalid UTF-8 in a quoted field', bytes: badUtf8, dataset: orders },
      { name: 'UTF-16', bytes: Buffer.from(`\ufeff${valid.slice(0, 200_000)}`, 'utf16le'), dataset: orders },
      { name: 'empty', bytes: Buffer.alloc(0), dataset: orders },
    ];
    expect(samples[0]!.bytes.length).toBeGreaterThan(1 << 20); // more than one chunk of file.stream()
    await expectSameVerdicts(samples);
    const [validVerdict, brokenVerdict] = await inBrowser(samples.slice(0, 2));
    expect(validVerdict!.result.valid).toBe(true);
    expect(brokenVerdict!.result.errorCount).toBeGreaterThan(MAX_ERRORS);
    expect(brokenVerdict!.result.errors).toHaveLength(MAX_ERRORS);
    expect(brokenVerdict!.streamed).toHaveLength(MAX_ERRORS);
  });

  it('reports a corrupt gzip stream as an invalid file, as Node does', async () => {
    const orders = (await loadDatasets()).get('orders')!;
    const whole = gzipSync(Buffer.from(`${ORDERS_HEADER}${orderRows(5, 0, 5000)}`));
    const cut = whole.subarray(0, whole.length - 100);
    const sample = { name: 'truncated gzip', bytes: cut, dataset: orders };
    const [b] = await inBrowser([sample]);
    const { run } = await inNode(sample);
    // The inflaters' own words differ (zlib's and the browser's); the verdict and the rule do not.
    expect(run.valid).toBe(false);
    expect(b!.result.valid).toBe(false);
    expect(b!.result.errorsByRule).toEqual(run.errorsByRule);
    expect(b!.result.errors.map((e) => [e.rule, e.column])).toEqual(
      run.errors.map((e) => [e.rule, e.column]),
    );
    expect(b!.result.errors[0]!.message).toMatch(/^the file is not a valid gzip stream: /);
    expect(b!.sha256).toBe(createHash('sha256').update(cut).digest('base64'));
  });
});
