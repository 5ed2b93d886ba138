/**
 * The bad-input corpus (issue 6, item 1): every kind of broken (and awkward but valid) file a
 * producer sends, each dropped into landing and run end to end through the local runtime. Each
 * case asserts the terminal zone and the reason the report in the failure zone gives (line,
 * column, rule), and that the object reached exactly one terminal place.
 */
import { copyFile, mkdir, mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  REPORT_ERRORS,
  type ReportedError,
  STATE_ERRORS,
  type ValidateTaskOutput,
} from '../../lambdas/shared/contract.ts';
import { type ErrorReport, REPORT_SUFFIX } from '../../lambdas/validate/core.ts';
import type { ExecutionRecord } from '../../lib/local/executions.ts';
import { LOCAL_BUCKETS } from '../../lib/local/lake-folder.ts';
import { LocalRuntime, landingEvent } from '../../lib/local/runtime.ts';
import { ORDERS_HEADER } from '../../lib/samples/orders-generator.ts';
import { BAD_INPUTS } from '../fixtures/bad-input-corpus.ts';
import { zoneFileOf } from '../unit/lambdas/helpers.ts';
import { liveDataKeys } from './table-files.ts';

let lakeDir: string;
let runtime: LocalRuntime;

const { limitsDataset: LIMITS_DATASET, orderRow, body } = BAD_INPUTS;

beforeAll(async () => {
  lakeDir = await mkdtemp(join(tmpdir(), 'lake-bad-input-'));
  // The repository's declarations as they are, plus the limits dataset (no copy of a schema).
  const datasetsDir = join(lakeDir, 'datasets');
  await mkdir(datasetsDir);
  for (const name of (await readdir('datasets')).filter((n) => n.endsWith('.json'))) {
    await copyFile(join('datasets', name), join(datasetsDir, name));
  }
  await writeFile(join(datasetsDir, 'limits.json'), JSON.stringify(LIMITS_DATASET));
  runtime = await LocalRuntime.start({ lakeDir: join(lakeDir, 'lake'), datasetsDir });
}, 60_000);

afterAll(async () => {
  await runtime?.close();
});

interface Output {
  readonly validation: ValidateTaskOutput;
}

/** One landed object and how its execution ended. */
interface Landed {
  readonly key: string;
  readonly record: ExecutionRecord;
  readonly validation: ValidateTaskOutput;
}

/** Puts an object into landing through the SDK and returns its ended execution. */
async function drop(key: string, body: string | Buffer): Promise<Landed> {
  const record = await runtime.land(key, body);
  const name = record.name;
  const validation = (record.output as Output | undefined)?.validation;
  if (!validation)
    throw new Error(`execution ${name} for ${key} has no validation output: ${record.error?.message}`);
  return { key, record, validation };
}

async function keys(bucket: string, prefix = ''): Promise<string[]> {
  const all: string[] = [];
  let token: string | undefined;
  do {
    const page = await runtime.client.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    all.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
    token = page.NextContinuationToken;
  } while (token);
  return all;
}

async function readText(bucket: string, key: string): Promise<string> {
  const object = await runtime.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return object.Body!.transformToString();
}

async function readJson<T>(bucket: string, key: string): Promise<T> {
  return JSON.parse(await readText(bucket, key)) as T;
}

/** The zone key of a landed file: `<dataset>/ingest_date=<date>/<file>`. */
function zoneKeyOf(landed: Landed, folder = landed.key.slice(0, landed.key.indexOf('/'))): string {
  return `${folder}/ingest_date=${landed.validation.ingestDate}/${zoneFileOf(landed.record.input)}`;
}

/** Exactly one execution for the key, ended. */
async function expectOneEndedExecution(landed: Landed): Promise<void> {
  const records = (await runtime.executions.list()).filter((r) => r.input.key === landed.key);
  expect(records.map((r) => r.name)).toEqual([landed.record.name]);
  expect(records[0]!.status).not.toBe('RUNNING');
}

/** Asserts the file is curated: in raw and curated, nothing in the failure zone. */
async function expectCurated(landed: Landed): Promise<void> {
  expect(landed.record.outcome).toBe('curated');
  expect(landed.record.states.at(-1)).toBe('Curated');
  await expectOneEndedExecution(landed);
  const zoneKey = zoneKeyOf(landed);
  expect(landed.validation.raw?.key).toBe(zoneKey);
  expect(await keys(LOCAL_BUCKETS.raw, zoneKey)).toContain(zoneKey);
  const curated = landed.record.curated ?? [];
  expect(curated.length).toBeGreaterThan(0);
  // The data files the conversion wrote are the ones the dataset's table holds for the file.
  const live = await liveDataKeys(runtime, landed.validation.dataset);
  for (const uri of curated) expect(live).toContain(uri.replace(`s3://${LOCAL_BUCKETS.curated}/`, ''));
  expect(landed.record.snapshotId).toMatch(/^\d+$/);
  const failed = await keys(LOCAL_BUCKETS.failure, zoneKey);
  expect(failed.filter((k) => k === zoneKey || k === zoneKey + REPORT_SUFFIX)).toEqual([]);
}

/** Asserts the file is rejected: file and report in the failure zone, nothing in raw or curated. */
async function expectRejected(landed: Landed, folder?: string): Promise<ErrorReport> {
  expect(landed.record.outcome).toBe('rejected');
  expect(landed.record.states.at(-1)).toBe('Rejected');
  await expectOneEndedExecution(landed);
  const zoneKey = zoneKeyOf(landed, folder);
  expect(landed.validation.failure?.key).toBe(zoneKey);
  expect(landed.validation.report?.key).toBe(zoneKey + REPORT_SUFFIX);
  expect(await keys(LOCAL_BUCKETS.failure, zoneKey)).toEqual(
    expect.arrayContaining([zoneKey, zoneKey + REPORT_SUFFIX]),
  );
  expect((await keys(LOCAL_BUCKETS.raw, zoneKey)).filter((k) => k === zoneKey)).toEqual([]);
  // No data file of it, committed or not.
  const stem = zoneFileOf(landed.record.input).replace(/\.csv(\.gz)?$/i, '');
  const data = `${zoneKey.slice(0, zoneKey.indexOf('/'))}/iceberg/data/ingest_date=${landed.validation.ingestDate}/${stem}-`;
  expect(await keys(LOCAL_BUCKETS.curated, data)).toEqual([]);
  expect(landed.record.curated).toBeUndefined();
  return readJson<ErrorReport>(LOCAL_BUCKETS.failure, zoneKey + REPORT_SUFFIX);
}

/** `line:column:rule` of each error, the shape the assertions compare. */
function reasons(errors: readonly ReportedError[]): string[] {
  return errors.map((e) => `${e.line}:${e.column ?? '-'}:${e.rule}`);
}

async function query(sql: string) {
  return runtime.query(sql);
}

describe('encodings', () => {
  it('drops a UTF-8 byte-order mark and curates the file', async () => {
    const landed = await drop('orders/bom.csv', body('bom'));

    await expectCurated(landed);
    expect(landed.validation.rows).toBe(1);
  });

  it('rejects a file of only a byte-order mark as empty_file', async () => {
    const landed = await drop('orders/bom-only.csv', body('bomOnly'));

    const report = await expectRejected(landed);
    expect(report.reason).toBe('invalid_rows');
    expect(reasons(report.errors)).toEqual(['1:-:empty_file']);
  });

  it('rejects Latin-1 bytes as invalid_utf8 at their line and column', async () => {
    const report = await expectRejected(await drop('orders/latin1.csv', body('latin1')));

    expect(reasons(report.errors)).toEqual(['3:customer:invalid_utf8']);
    expect(report.errors[0]!.value).toMatch(/^Jos\\x[eE]9$/);
  });

  it('rejects UTF-16 with a byte-order mark as an encoding error', async () => {
    const report = await expectRejected(await drop('orders/utf16.csv', body('utf16')));

    expect(reasons(report.errors)).toEqual(['1:-:encoding']);
    expect(report.errors[0]!.message).toMatch(/UTF-16/);
  });
});

describe('line endings', () => {
  it('rejects CR-only line endings as bare_cr', async () => {
    const report = await expectRejected(await drop('orders/cr-only.csv', body('crOnly')));

    expect(reasons(report.errors)).toEqual(['1:-:bare_cr', '2:-:bare_cr', '3:-:bare_cr']);
  });

  it('rejects mixed LF and CRLF as mixed_line_endings at the first line that differs', async () => {
    const report = await expectRejected(await drop('orders/mixed-endings.csv', body('mixedEndings')));

    expect(reasons(report.errors)).toEqual(['3:-:mixed_line_endings']);
  });

  it('curates a CRLF file', async () => {
    const landed = await drop('orders/crlf.csv', body('crlf'));

    await expectCurated(landed);
    expect(landed.validation.rows).toBe(2);
  });

  it('ignores trailing blank rows', async () => {
    const landed = await drop('orders/trailing-blank.csv', body('trailingBlank'));

    await expectCurated(landed);
    expect(landed.validation.rows).toBe(1);
  });

  it('rejects a blank line inside the data as a ragged row', async () => {
    const report = await expectRejected(await drop('orders/inner-blank.csv', body('innerBlank')));

    expect(reasons(report.errors)).toEqual(['3:-:ragged_row']);
  });
});

describe('quoting', () => {
  it('curates quoted newlines and keeps them in the value', async () => {
    const landed = await drop('orders/quoted-newlines.csv', body('quotedNewlines'));

    await expectCurated(landed);
    expect(landed.validation.rows).toBe(2);
    const { rows } = await query('SELECT customer FROM orders WHERE order_id = 1081');
    expect(rows).toEqual([{ customer: 'Ann\nLee, Acme\r\nGmbH' }]);
  });

  it('numbers lines physically after a quoted newline', async () => {
    const report = await expectRejected(
      await drop('orders/line-after-newline.csv', body('lineAfterNewline')),
    );

    expect(reasons(report.errors)).toEqual(['4:currency:enum']);
  });

  it('rejects an unterminated quote at the line where its record starts', async () => {
    const report = await expectRejected(await drop('orders/unterminated.csv', body('unterminated')));

    // DESIGN §2: every error names its column; here the field whose quote opened.
    expect(reasons(report.errors)).toEqual(['3:customer:unterminated_quote']);
  });

  it('rejects text after a closing quote as invalid_quote', async () => {
    const report = await expectRejected(await drop('orders/stray-quote.csv', body('strayQuote')));

    // DESIGN §2: every error names its column; here the field the stray text follows.
    expect(reasons(report.errors)).toEqual(['2:customer:invalid_quote']);
  });

  it('stores a bare quote inside an unquoted field verbatim', async () => {
    await expectCurated(await drop('orders/bare-quote.csv', body('bareQuote')));

    const { rows } = await query('SELECT customer FROM orders WHERE order_id = 1121');
    expect(rows).toEqual([{ customer: 'a 5" pipe' }]);
  });

  it('stores formula-looking cells verbatim', async () => {
    const formula = '=HYPERLINK("http://x","y")';
    const cells = [formula, '+1+1', '-2+3', '@SUM(A1:A2)'];

    await expectCurated(await drop('orders/formulas.csv', body('formulas')));

    const { rows } = await query(
      'SELECT customer FROM orders WHERE order_id BETWEEN 1131 AND 1134 ORDER BY order_id',
    );
    expect(rows).toEqual(cells.map((customer) => ({ customer })));
  });
});

describe('rows and header', () => {
  it('rejects a row with too few fields as ragged_row', async () => {
    const report = await expectRejected(await drop('orders/too-few.csv', body('tooFew')));

    expect(reasons(report.errors)).toEqual(['3:-:ragged_row']);
  });

  it('rejects a row with too many fields as ragged_row', async () => {
    const report = await expectRejected(await drop('orders/too-many.csv', body('tooMany')));

    expect(reasons(report.errors)).toEqual(['2:-:ragged_row']);
  });

  it('rejects a trailing delimiter on every line at the header, naming the empty column', async () => {
    const report = await expectRejected(
      await drop('orders/trailing-delimiter.csv', body('trailingDelimiter')),
    );

    expect(reasons(report.errors)).toEqual(['1::unknown_column']);
    expect(report.errors[0]!.message).toMatch(/empty header cell/);
    expect(report.rows).toBe(2);
  });

  it('rejects a repeated header name as duplicate_column', async () => {
    const report = await expectRejected(await drop('orders/duplicate-header.csv', body('duplicateHeader')));

    expect(reasons(report.errors)).toEqual(
      expect.arrayContaining(['1:order_id:duplicate_column', '1:sku:missing_column']),
    );
    expect(report.errors.every((e) => e.line === 1)).toBe(true);
  });

  it('rejects an empty header name, naming the column it leaves missing', async () => {
    const report = await expectRejected(await drop('orders/empty-header.csv', body('emptyHeader')));

    expect(reasons(report.errors)).toEqual(
      expect.arrayContaining(['1::unknown_column', '1:discount:missing_column']),
    );
    expect(report.errors.every((e) => e.line === 1)).toBe(true);
  });

  it('rejects a missing column as missing_column', async () => {
    const report = await expectRejected(await drop('orders/missing-column.csv', body('missingColumn')));

    expect(reasons(report.errors)).toEqual(['1:ship_date:missing_column']);
  });

  it('rejects an extra column as unknown_column', async () => {
    const report = await expectRejected(await drop('orders/extra-column.csv', body('extraColumn')));

    expect(reasons(report.errors)).toEqual(['1:note:unknown_column']);
  });

  it('rejects an empty (0-byte) file as empty_file', async () => {
    const report = await expectRejected(await drop('orders/empty.csv', body('empty')));

    expect(report.reason).toBe('invalid_rows');
    expect(reasons(report.errors)).toEqual(['1:-:empty_file']);
  });

  it('curates a header-only file with 0 rows', async () => {
    const landed = await drop('orders/header-only.csv', body('headerOnly'));

    await expectCurated(landed);
    expect(landed.validation.rows).toBe(0);
  });

  it('rejects a 50 MB line as record_too_large, without a crash', { timeout: 60_000 }, async () => {
    const report = await expectRejected(await drop('orders/huge-line.csv', body('hugeLine')));

    expect(reasons(report.errors)).toEqual(['2:-:record_too_large']);
    expect(report.rows).toBe(2);
  });

  it('keeps the full report in S3 and a small state for 100,000 bad rows', { timeout: 60_000 }, async () => {
    const n = 100_000;

    const landed = await drop('orders/100k-bad.csv', body('manyBadRows'));

    const report = await expectRejected(landed);
    expect(report.errorCount).toBe(n);
    expect(report.errors).toHaveLength(REPORT_ERRORS);
    expect(report.truncated).toBe(true);
    expect(report.errorsByRule).toEqual({ enum: n });
    expect(report.errors[0]).toMatchObject({ line: 2, column: 'currency', value: 'XXX', rule: 'enum' });
    // The complete list, every error once and in line order, as JSON Lines beside the report.
    expect(report.errorFiles).toEqual([
      { bucket: LOCAL_BUCKETS.failure, key: `${landed.validation.failure!.key}.errors.00001.jsonl` },
    ]);
    const lines = (await readText(LOCAL_BUCKETS.failure, report.errorFiles[0]!.key)).trimEnd().split('\n');
    expect(lines).toHaveLength(n);
    const all = lines.map((l) => JSON.parse(l) as ReportedError);
    expect(all.slice(0, REPORT_ERRORS)).toEqual(report.errors);
    expect(all.every((e, i) => e.line === i + 2 && e.rule === 'enum' && e.column === 'currency')).toBe(true);
    expect(landed.validation.errorCount).toBe(n);
    expect(landed.validation.errors.length).toBeLessThanOrEqual(STATE_ERRORS);
    expect(JSON.stringify(landed.record.output).length).toBeLessThan(10 * 1024);
  });
});

describe('compression and object kinds', () => {
  it('detects gzip content by its bytes in a file named .csv', async () => {
    const landed = await drop('orders/gzipped.csv', body('gzipped'));

    await expectCurated(landed);
    const { rows } = await query('SELECT customer FROM orders WHERE order_id = 1221');
    expect(rows).toEqual([{ customer: 'Ann Lee' }]);
  });

  it('curates a .csv.gz file', async () => {
    const landed = await drop('orders/packed.csv.gz', body('packed'));

    await expectCurated(landed);
    const { rows } = await query('SELECT customer FROM orders WHERE order_id = 1231');
    expect(rows).toEqual([{ customer: 'Ann Lee' }]);
  });

  it('rejects a corrupt gzip stream with the gzip rule', async () => {
    const packed = gzipSync(`${ORDERS_HEADER}${orderRow(1241)}`);
    const corrupt = Buffer.concat([packed.subarray(0, 12), Buffer.alloc(40, 0xff)]);

    const report = await expectRejected(await drop('orders/corrupt.csv.gz', corrupt));

    expect(report.errors.map((e) => e.rule)).toContain('gzip');
  });

  it('rejects a non-CSV object as not_csv', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');

    const landed = await drop('orders/photo.png', png);

    const report = await expectRejected(landed);
    expect(report.reason).toBe('not_csv');
    expect(landed.validation.reason).toBe('not_csv');
    expect(reasons(report.errors)).toEqual(['0:-:not_csv']);
    expect(report.errors[0]!.value).toBe('photo.png');
  });

  it('starts no execution for a folder marker and files nothing', async () => {
    const before = await runtime.executions.list();
    const triggered: string[] = [];
    const stop = runtime.onTrigger((event) => void triggered.push(event.key));

    const put = await runtime.client.send(
      new PutObjectCommand({ Bucket: LOCAL_BUCKETS.landing, Key: 'orders/subdir/', Body: Buffer.alloc(0) }),
    );
    // And the event itself, as S3 sends it, in case the server raised none for the marker.
    await runtime.deliver(landingEvent({ key: 'orders/subdir/', size: 0, etag: put.ETag ?? '' }));
    await runtime.idle();
    stop();

    expect(await keys(LOCAL_BUCKETS.landing, 'orders/subdir/')).toEqual(['orders/subdir/']);
    expect(triggered).toEqual([]);
    expect(await runtime.executions.list()).toHaveLength(before.length);
    for (const bucket of [LOCAL_BUCKETS.raw, LOCAL_BUCKETS.failure, LOCAL_BUCKETS.curated]) {
      expect((await keys(bucket)).filter((k) => k.includes('subdir'))).toEqual([]);
    }
  });

  it('rejects a file of an unknown dataset into the failure zone under its folder', async () => {
    const landed = await drop('returns/2024-q1.csv', 'id\n1\n');

    const report = await expectRejected(landed, 'returns');
    expect(report.reason).toBe('unknown_dataset');
    expect(reasons(report.errors)).toEqual(['0:-:unknown_dataset']);
    expect(report.errors[0]!.message).toContain('orders');
  });
});

describe('awkward keys', () => {
  const legalName = /^[A-Za-z0-9_-]{1,80}$/;

  it.each([
    ['spaces', 'orders/with some spaces.csv'],
    ['a plus sign', 'orders/a+b+c.csv'],
    ['a percent sign', 'orders/100% done %41%2B.csv'],
    ['unicode', 'orders/Zürich 東京 🍣.csv'],
    [
      'over 80 characters',
      `orders/${'a very long export file name from the shop system '.repeat(3).replaceAll(' ', '-')}2024.csv`,
    ],
  ])('curates a key with %s, keeping the file name in raw', async (_what, key) => {
    const landed = await drop(key, `${ORDERS_HEADER}${orderRow(1300 + key.length)}`);

    await expectCurated(landed);
    expect(landed.record.name).toMatch(legalName);
    expect(landed.record.input.key).toBe(key);
    expect(landed.validation.raw?.key).toBe(
      `orders/ingest_date=${landed.validation.ingestDate}/${zoneFileOf(landed.record.input)}`,
    );
  });
});

describe('values at each type limit', () => {
  it('curates the extreme values of each type and queries them back exactly', async () => {
    const landed = await drop('limits/extremes.csv', body('extremes'));

    await expectCurated(landed);
    const { rows } = await query('SELECT label, i, big, dec, dbl, flag, d, ts FROM limits ORDER BY label');
    expect(rows).toEqual([
      {
        label: 'max',
        i: 2147483647,
        big: '9223372036854775807',
        dec: '9999999999.99',
        dbl: 1.7976931348623157e308,
        flag: true,
        d: '9999-12-31',
        ts: '9999-12-31T23:59:59.999999Z',
      },
      {
        label: 'min',
        i: -2147483648,
        big: '-9223372036854775808',
        dec: '-9999999999.99',
        dbl: -1.7976931348623157e308,
        flag: false,
        d: '0001-01-01',
        ts: '0001-01-01T00:00:00Z',
      },
      {
        label: 'offset-minus',
        i: 0,
        big: '0',
        dec: '0.00',
        dbl: 5e-324,
        flag: true,
        d: '2024-02-29',
        ts: '2024-03-01T11:59:59.999999Z',
      },
      {
        label: 'offset-plus',
        i: null,
        big: null,
        dec: null,
        dbl: null,
        flag: null,
        d: null,
        ts: '2023-12-31T10:30:00Z',
      },
    ]);
  });

  it('rejects one step past each limit with range, precision or calendar rules', async () => {
    const report = await expectRejected(await drop('limits/past-limits.csv', body('pastLimits')));

    expect(reasons(report.errors)).toEqual([
      '2:i:range',
      '3:big:range',
      '4:dec:decimal_precision',
      '5:dbl:range',
      '6:d:calendar_date',
      '7:ts:range',
    ]);
  });
});

describe('the generator sample', () => {
  it('curates a realistic generated file', async () => {
    const landed = await drop('orders/generated.csv', body('generated'));

    await expectCurated(landed);
    expect(landed.validation.rows).toBe(100);
  });
});
